// Runtime::split_model: import, node costs, partition, export and measurement of one model's segments.
#include <algorithm>
#include <chrono>
#include <filesystem>
#include <map>
#include <stdexcept>

#include "api/model_bytes.hpp"
#include "conveyor/api/runtime.hpp"
#include "conveyor/engine/compiled_model.hpp"
#include "conveyor/engine/fused_chains.hpp"
#include "conveyor/engine/node_timing.hpp"
#include "conveyor/graph/onnx_import.hpp"
#include "conveyor/graph/segment_export.hpp"

namespace conveyor {
namespace {

// Each segment compiled from its exported model on `threads` threads: the median of `runs` timed runs,
// after one warm-up run whose outputs feed the next segment. Inputs are synthetic (small floats, zeros for
// integer inputs: valid token ids and masks).
std::vector<double> measure_segments_ms(const std::vector<std::string>& segment_models, const Graph& graph,
                                        int threads, int runs) {
  std::map<std::string, Tensor> tensors;
  const std::vector<Tensor> inputs = synthetic_inputs(graph);
  for (std::size_t i = 0; i < inputs.size(); ++i) tensors[graph.value(graph.inputs[i]).name] = inputs[i];
  EngineOptions engine;
  engine.threads = threads;
  std::vector<double> segment_ms;
  for (std::size_t s = 0; s < segment_models.size(); ++s) {
    const std::string& bytes = segment_models[s];
    CompiledModel model = CompiledModel::compile(
        parse_onnx(bytes.data(), bytes.size(), {}, "", "segment " + std::to_string(s)), engine);
    std::map<std::string, Tensor> feed;
    for (const TensorSpec& spec : model.inputs()) feed[spec.name] = tensors.at(spec.name);
    const std::map<std::string, Tensor> produced = model.run(feed);
    std::vector<double> times;
    for (int r = 0; r < runs; ++r) {
      const auto start = std::chrono::steady_clock::now();
      model.run(feed);
      times.push_back(
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
    }
    std::nth_element(times.begin(), times.begin() + static_cast<std::ptrdiff_t>(times.size() / 2),
                     times.end());
    segment_ms.push_back(times[times.size() / 2]);
    tensors.insert(produced.begin(), produced.end());
  }
  return segment_ms;
}

}  // namespace

ModelSplit Runtime::split_model(const std::filesystem::path& file, const ModelSplitOptions& options) const {
  const std::string bytes = read_model_bytes(file);
  const std::string dir = file.parent_path().string();
  ModelSplit split{
      parse_onnx(bytes.data(), bytes.size(), {}, dir.empty() ? "." : dir, file.string()), {}, {}, {}};
  const Graph& graph = split.graph;

  PartitionOptions partition;
  partition.stages = options.segments;
  partition.orders = options.orders;
  partition.kept_together = fused_chains(graph);  // a cut never splits what the engine fuses
  for (const std::string& pin : options.pinned_after) {
    try {
      partition.pinned_after.push_back(graph_node_for(bytes, graph, pin));
    } catch (const GraphError& e) {
      throw PinError(pin, e.what());
    }
  }
  partition.copy_bandwidth_gbps =
      options.copy_bandwidth_gbps > 0 ? options.copy_bandwidth_gbps : measure_copy_bandwidth_gbps();
  AnalyticCostOptions cost;
  cost.threads = options.threads;
  const std::vector<double> node_cost_ms =
      options.costs == ModelSplitOptions::Costs::kAnalytic
          ? analytic_node_cost_ms(graph, cost)
          : measure_node_cost_ms(graph, options.threads, options.cost_runs);
  split.partition = partition_graph(graph, node_cost_ms, partition);
  if (options.export_segments || options.measure_runs > 0)
    split.segment_models = export_stages(bytes, graph, split.partition);
  if (options.measure_runs > 0)
    split.measured_ms =
        measure_segments_ms(split.segment_models, graph, options.threads, options.measure_runs);
  return split;
}

}  // namespace conveyor
