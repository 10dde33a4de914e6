#pragma once
#include <functional>
#include <memory>
#include <span>
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
  // Built for a batching stage (OpBuildContext::batch_sizes): whether process_batch runs batches, and if
  // not, why, when the operator says ("the model's input 'x' has a fixed batch of 1").
  bool batches = false;
  std::string not_batched{};
};

// What a worker knows about itself when it creates its operator.
struct WorkerContext {
  std::string stage;
  int replica = 0;
  std::vector<int> cores;  // hardware threads this worker is pinned to; empty when unpinned
  int threads = 1;         // intra-op budget (OpenMP threads already set to this)
  // The batch sizes process_batch may be given (BatchSpec::run_sizes); {1}: the stage does not batch.
  std::vector<int> batch_sizes{1};
};

// A stage's work on one sample: reads and writes tensors by name; throws to fail that sample.
class Operator {
 public:
  virtual ~Operator() = default;
  virtual void process(Sample& sample) = 0;
  // Runs several samples at once (2 or more, a size from WorkerContext::batch_sizes; their input tensors
  // have equal dtypes and shapes), or returns false, touching nothing, to have each run through process().
  // Throwing fails the batch: the runtime then runs every sample of it alone through process(), so one bad
  // input fails only its own request; a throwing process_batch must leave the samples' inputs unchanged.
  virtual bool process_batch(std::span<Sample* const> samples) {
    (void)samples;
    return false;
  }
};

// Creates one operator per worker, called inside the worker thread after it is pinned, so that anything
// compiled for a thread count (oneDNN primitives) is compiled for that worker's cores.
using OperatorFactory = std::function<std::unique_ptr<Operator>(const WorkerContext&)>;

// Wraps a plain callable as an operator factory (the same callable is shared by all workers).
OperatorFactory make_operator(std::function<void(Sample&)> fn);

}  // namespace conveyor
