#include "conveyor/engine/node_timing.hpp"

#include <omp.h>

#include "conveyor/engine/compiled_model.hpp"

namespace conveyor {

std::vector<Tensor> synthetic_inputs(const Graph& graph) {
  std::vector<Tensor> inputs;
  for (int id : graph.inputs) {
    const Value& v = graph.value(id);
    Tensor t(v.dtype, v.shape);
    if (v.dtype == DType::kFloat32) {
      float* data = t.data<float>();
      for (int64_t i = 0; i < t.numel(); ++i) data[i] = static_cast<float>((i * 7919) % 200 - 100) / 100.0f;
    }
    inputs.push_back(std::move(t));
  }
  return inputs;
}

std::vector<double> measure_node_cost_ms(const Graph& graph, int threads, int runs) {
  if (threads < 1) throw EngineError("measure_node_cost_ms: threads must be >= 1, got " + std::to_string(threads));
  EngineOptions options;
  options.threads = threads;
  const int callers_threads = omp_get_max_threads();  // compile() and runs set the calling thread's count
  try {
    CompiledModel model = CompiledModel::compile(graph, options);
    std::vector<double> cost = model.profile_nodes(synthetic_inputs(graph), runs);
    omp_set_num_threads(callers_threads);
    return cost;
  } catch (...) {
    omp_set_num_threads(callers_threads);
    throw;
  }
}

}  // namespace conveyor
