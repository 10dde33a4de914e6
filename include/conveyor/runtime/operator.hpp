#pragma once
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "conveyor/runtime/sample.hpp"

namespace conveyor {

// A tensor an operator reads or writes, as far as its args tell. Servers describe a pipeline's inputs and
// outputs with these; the runtime does not check them (the api checks a pipeline's stages against each
// other before starting it).
struct TensorSignature {
  std::string name;
  DType dtype = DType::kFloat32;
  std::vector<int64_t> dims;  // -1: varies per request
  bool bytes = false;         // uint8 [N] holding raw bytes (a file, UTF-8 text): a client may send a string
  bool text = false;          // a list of strings in Sample::texts (labels), not a tensor
  // An output with the dims of the input named here, whatever they are (`dims` then says only the rank
  // the operator expects, if that); empty: `dims` as given.
  std::string dims_of_input{};
  // An input whose last axis must hold at least this many elements (0: any), and why, in words ("k is 5").
  int64_t min_last_dim = 0;
  std::string min_last_dim_reason{};
};

struct OperatorSignature {
  std::vector<TensorSignature> inputs, outputs;
};

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
