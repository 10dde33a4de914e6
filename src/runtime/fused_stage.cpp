#include "conveyor/runtime/fused_stage.hpp"

#include <memory>

namespace conveyor {
namespace {

class SequenceOperator final : public Operator {
 public:
  explicit SequenceOperator(std::vector<std::unique_ptr<Operator>> ops) : ops_(std::move(ops)) {}
  void process(Sample& sample) override {
    for (auto& op : ops_) op->process(sample);
  }

 private:
  std::vector<std::unique_ptr<Operator>> ops_;
};

}  // namespace

StageSpec fuse_stages(const std::vector<StageSpec>& stages, std::string name) {
  std::vector<OperatorFactory> factories;
  for (const auto& stage : stages) factories.push_back(stage.factory);
  StageSpec fused;
  fused.name = std::move(name);
  fused.factory = [factories](const WorkerContext& context) -> std::unique_ptr<Operator> {
    std::vector<std::unique_ptr<Operator>> ops;
    for (const auto& factory : factories) ops.push_back(factory(context));
    return std::make_unique<SequenceOperator>(std::move(ops));
  };
  return fused;
}

}  // namespace conveyor
