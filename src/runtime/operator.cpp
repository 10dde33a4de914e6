#include "conveyor/runtime/operator.hpp"

namespace conveyor {
namespace {

class FunctionOperator final : public Operator {
 public:
  explicit FunctionOperator(std::shared_ptr<const std::function<void(Sample&)>> fn) : fn_(std::move(fn)) {}
  void process(Sample& sample) override { (*fn_)(sample); }

 private:
  std::shared_ptr<const std::function<void(Sample&)>> fn_;
};

}  // namespace

OperatorFactory make_operator(std::function<void(Sample&)> fn) {
  auto shared = std::make_shared<const std::function<void(Sample&)>>(std::move(fn));
  return [shared](const WorkerContext&) { return std::make_unique<FunctionOperator>(shared); };
}

}  // namespace conveyor
