#pragma once
#include <cstddef>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "conveyor/graph/graph.hpp"
#include "conveyor/tensor/tensor.hpp"

namespace conveyor {

class EngineError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct EngineOptions {
  // OpenMP team size of every primitive, at most kMaxThreads. 0: the calling thread's current budget
  // (omp_get_max_threads()).
  int threads = 0;
  // libgomp fails (or crashes) creating teams of tens of thousands of threads; no machine needs more.
  static constexpr int kMaxThreads = 1024;
};

struct TensorSpec {
  std::string name;
  DType dtype = DType::kFloat32;
  Shape shape;
};

struct EngineStats {
  std::size_t steps = 0;             // kernels run per inference
  std::size_t dnnl_steps = 0;        // of which oneDNN primitives (reorders included)
  std::size_t reference_steps = 0;   // of which hand (reference) kernels
  std::size_t reorders = 0;          // layout conversions inserted at run time
  std::size_t arena_bytes = 0;       // planned intermediate memory
  std::size_t unplanned_bytes = 0;   // what the intermediates would take without buffer reuse
  std::size_t scratchpad_bytes = 0;
  std::size_t constant_bytes = 0;    // weights in their compiled layouts
  std::size_t fused_chains = 0;      // Conv/MatMul/Gemm nodes compiled with the nodes after them as post-ops
  std::size_t declined_fusions = 0;  // chains oneDNN would not build as one primitive, compiled node by node
};

// A graph compiled to oneDNN primitives (fp32, layouts chosen by oneDNN, post-ops fused) plus reference
// kernels for the rest, with one preallocated arena whose buffers are reused by liveness.
//
// Threading: compile() runs on the calling thread, first calls omp_set_num_threads(threads) there, and
// creates every primitive with that team size (oneDNN fixes it at creation). Call run() from the same
// thread (or one with the same budget); run() re-applies the count to the calling thread. A model is not
// reentrant: one run() at a time. compile() refuses to work when OMP_PROC_BIND, OMP_PLACES or
// GOMP_CPU_AFFINITY is set (see check_openmp_environment).
class CompiledModel {
 public:
  static CompiledModel compile(const Graph& graph, const EngineOptions& options = {});

  CompiledModel(CompiledModel&&) noexcept;
  CompiledModel& operator=(CompiledModel&&) noexcept;
  ~CompiledModel();

  const std::vector<TensorSpec>& inputs() const;
  const std::vector<TensorSpec>& outputs() const;
  int threads() const;
  const EngineStats& stats() const;
  // One line per step: kernel, the values it reads and writes, and "-> node N", the graph node whose time
  // it counts as in profile_nodes (none for steps that belong to no node).
  std::string describe() const;

  // Inputs in the order of inputs(); dtypes and shapes must match exactly. Outputs are fresh tensors.
  std::vector<Tensor> run(const std::vector<Tensor>& inputs);
  std::map<std::string, Tensor> run(const std::map<std::string, Tensor>& inputs);

  // Per node of the compiled graph (same indices as graph.nodes): the median over `runs` timed runs, after
  // one warm-up run, of the milliseconds spent in the kernels compiled for it. A chain the compiler fused
  // (a Conv/MatMul/Gemm and the bias, residual Add and activations after it) carries the whole chain's time
  // on its first node, the nodes fused into it cost 0; reorders into a node's layouts count as that node's; a
  // node that is only a view (Reshape, Flatten) costs ~0.
  std::vector<double> profile_nodes(const std::vector<Tensor>& inputs, int runs);

  struct Impl;

 private:
  explicit CompiledModel(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// libgomp reads OMP_PROC_BIND / OMP_PLACES / GOMP_CPU_AFFINITY once, when it is loaded, and then binds
// every team thread to fixed places, overriding the affinity mask of the worker that owns the team.
// Unsetting them at run time is too late, so this throws EngineError naming the variable when one is
// set (OMP_PROC_BIND=false is accepted).
void check_openmp_environment();

}  // namespace conveyor
