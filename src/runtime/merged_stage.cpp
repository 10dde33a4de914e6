#include "conveyor/runtime/merged_stage.hpp"

#include <memory>
#include <set>

namespace conveyor {
namespace {

// Runs its operators in turn and records each one's time in sample.member_seconds[name].
class SequenceOperator final : public Operator {
 public:
  SequenceOperator(std::string name, std::vector<std::unique_ptr<Operator>> ops)
      : name_(std::move(name)), ops_(std::move(ops)) {}
  void process(Sample& sample) override {
    std::vector<double> seconds(ops_.size(), 0.0);
    for (std::size_t i = 0; i < ops_.size(); ++i) {
      const auto start = Clock::now();
      ops_[i]->process(sample);
      seconds[i] = std::chrono::duration<double>(Clock::now() - start).count();
    }
    sample.member_seconds[name_] = std::move(seconds);
  }

 private:
  std::string name_;
  std::vector<std::unique_ptr<Operator>> ops_;
};

}  // namespace

StageSpec merge_stages(const std::vector<StageSpec>& stages, std::string name) {
  std::vector<OperatorFactory> factories;
  StageSpec merged;
  for (const auto& stage : stages) {
    factories.push_back(stage.factory);
    merged.members.push_back(stage.name);
  }
  merged.name = std::move(name);
  merged.factory = [factories, name = merged.name](const WorkerContext& context) -> std::unique_ptr<Operator> {
    std::vector<std::unique_ptr<Operator>> ops;
    for (const auto& factory : factories) ops.push_back(factory(context));
    return std::make_unique<SequenceOperator>(name, std::move(ops));
  };
  merged.signature = chain_signature(stages);
  return merged;
}

OperatorSignature chain_signature(const std::vector<StageSpec>& stages) {
  OperatorSignature chain;
  std::set<std::string> known;  // written by an earlier stage, or already an input
  for (const auto& stage : stages) {
    for (const auto& input : stage.signature.inputs)
      if (known.insert(input.name).second) chain.inputs.push_back(input);
    for (const auto& output : stage.signature.outputs) known.insert(output.name);
  }
  if (!stages.empty()) chain.outputs = stages.back().signature.outputs;
  return chain;
}

}  // namespace conveyor
