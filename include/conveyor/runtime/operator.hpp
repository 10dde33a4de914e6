#pragma once
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "conveyor/runtime/sample.hpp"

namespace conveyor {

// What a worker knows about itself when it creates its operator.
struct WorkerContext {
  std::string stage;
  int replica = 0;
  std::vector<int> cores;  // hardware threads this worker is pinned to; empty when unpinned
  int threads = 1;         // intra-op budget (OpenMP threads already set to this)
};

// A stage's work on one sample: reads and writes tensors by name; throws to fail that sample.
class Operator {
 public:
  virtual ~Operator() = default;
  virtual void process(Sample& sample) = 0;
};

// Creates one operator per worker, called inside the worker thread after it is pinned, so that anything
// compiled for a thread count (oneDNN primitives) is compiled for that worker's cores.
using OperatorFactory = std::function<std::unique_ptr<Operator>(const WorkerContext&)>;

// Wraps a plain callable as an operator factory (the same callable is shared by all workers).
OperatorFactory make_operator(std::function<void(Sample&)> fn);

}  // namespace conveyor
