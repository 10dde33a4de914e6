#pragma once
// The compiled form of a model: storages (buffers), steps (kernels over storages) and the run state.
#include <oneapi/dnnl/dnnl.hpp>

#include <cstring>
#include <string>
#include <unordered_map>
#include <vector>

#include "conveyor/engine/compiled_model.hpp"
#include "conveyor/graph/node_kernel.hpp"

namespace conveyor {

// A buffer that steps read and write. Arena storages get an offset from the memory plan; inputs and
// outputs are bound to the caller's tensors on every run; constants point at owned tensors.
struct Storage {
  enum class Kind { kArena, kInput, kOutput, kConstant, kScratchpad };
  Kind kind = Kind::kArena;
  std::size_t bytes = 0;
  int index = -1;              // graph input / output index
  const void* fixed = nullptr; // constants
  std::string name;            // for describe()
};

class Step {
 public:
  virtual ~Step() = default;
  virtual void run(void* const* ptrs, dnnl::stream& stream) = 0;
  std::string label;
  std::vector<int> storages;  // every storage the step touches (liveness)
  int node = -1;              // the graph node whose work it does (-1: none, e.g. copying out an input)
};

// A oneDNN primitive with its argument memories, created once; their handles point into storages.
class DnnlStep final : public Step {
 public:
  void run(void* const*, dnnl::stream& stream) override { primitive.execute(stream, args); }
  dnnl::primitive primitive;
  std::unordered_map<int, dnnl::memory> args;
  std::vector<std::pair<int, int>> bindings;  // (DNNL_ARG_*, storage)
};

// A reference kernel (see kernels/reference_kernels.hpp) on plain buffers.
class RefStep final : public Step {
 public:
  void run(void* const* ptrs, dnnl::stream& stream) override {
    stream.wait();  // earlier primitives must be done before plain C++ reads their results
    for (std::size_t i = 0; i < inputs.size(); ++i) in_ptrs[i] = inputs[i] < 0 ? nullptr : ptrs[inputs[i]];
    for (std::size_t i = 0; i < outputs.size(); ++i) out_ptrs[i] = outputs[i] < 0 ? nullptr : ptrs[outputs[i]];
    kernel(in_ptrs.data(), out_ptrs.data());
  }
  RefKernel kernel;
  std::vector<int> inputs, outputs;
  std::vector<const void*> in_ptrs;
  std::vector<void*> out_ptrs;
};

class CopyStep final : public Step {
 public:
  void run(void* const* ptrs, dnnl::stream& stream) override {
    stream.wait();
    if (bytes && ptrs[dst] != ptrs[src]) std::memcpy(ptrs[dst], ptrs[src], bytes);
  }
  int src = -1, dst = -1;
  std::size_t bytes = 0;
};

struct CompiledModel::Impl {
  int threads = 1;
  dnnl::engine engine;
  dnnl::stream stream;
  std::vector<TensorSpec> inputs, outputs;
  std::vector<Storage> storages;
  std::vector<std::unique_ptr<Step>> steps;
  std::vector<int> input_storage, output_storage;
  std::vector<Tensor> owned;  // constants and compiled weights
  Tensor arena, scratchpad;
  std::vector<void*> ptrs;    // per storage, refreshed for inputs/outputs on every run
  std::size_t graph_nodes = 0;
  std::vector<std::pair<dnnl::memory, int>> external_memories;
  EngineStats stats;
};

// Builds an Impl from a graph (src/engine/compiler*.cpp).
void compile_graph(const Graph& graph, CompiledModel::Impl& impl);

}  // namespace conveyor
