// conveyor split: cut a model into K balanced pipeline stages, print the plan, optionally write the stages.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/cli_runtime.hpp"
#include "cli/commands.hpp"
#include "cli/json_text.hpp"
#include "cli/option_checks.hpp"

namespace conveyor::cli {
namespace {

struct SplitCommand {
  std::string model;
  int stages = 2;
  int threads = 1;
  std::vector<std::string> pins;
  std::vector<std::string> orders;
  std::string out_dir;
  double bandwidth_gbps = 0;
  int measure_runs = 0;
  std::string cost = "measured";  // per-node costs: measured in the executor, or analytic
  int cost_runs = 5;
  bool json = false;
};

std::string human_bytes(std::size_t bytes) {
  char text[32];
  if (bytes < 1024)
    std::snprintf(text, sizeof text, "%zu B", bytes);
  else if (bytes < (1u << 20))
    std::snprintf(text, sizeof text, "%.1f KiB", static_cast<double>(bytes) / 1024.0);
  else
    std::snprintf(text, sizeof text, "%.2f MiB", static_cast<double>(bytes) / (1024.0 * 1024.0));
  return text;
}

std::string tensor_list(const std::vector<CutTensor>& tensors) {
  std::string text;
  std::size_t total = 0;
  for (const CutTensor& t : tensors) {
    text += (text.empty() ? "" : ", ") + t.name + " (" + human_bytes(t.bytes) + ")";
    total += t.bytes;
  }
  if (tensors.size() > 1) text += " = " + human_bytes(total);
  return text.empty() ? "-" : text;
}

nlohmann::json tensors_json(const std::vector<CutTensor>& tensors) {
  nlohmann::json list = nlohmann::json::array();
  for (const CutTensor& t : tensors) list.push_back({{"name", t.name}, {"bytes", t.bytes}});
  return list;
}

// Measured balance: the slowest measured stage over the mean measured stage.
double measured_balance(const std::vector<double>& measured_ms) {
  double sum = 0, slowest = 0;
  for (double ms : measured_ms) {
    sum += ms;
    slowest = std::max(slowest, ms);
  }
  return sum > 0 ? slowest / (sum / static_cast<double>(measured_ms.size())) : 1.0;
}

std::string cost_source(const SplitCommand& o) {
  return o.cost == "analytic" ? "analytic cost"
                              : "cost measured in the executor (median of " + std::to_string(o.cost_runs) + " runs)";
}

void print_text(const SplitCommand& o, const Graph& graph, const Partition& p,
                const std::vector<std::string>& files, const std::vector<double>& measured_ms) {
  std::printf("%s: %zu nodes after optimisation, %zu stages; %s on %d thread%s: %.2f ms in all\n",
              o.model.c_str(), graph.nodes.size(), p.stages.size(), cost_source(o).c_str(), o.threads,
              o.threads == 1 ? "" : "s", p.total_compute_ms);
  std::printf("node order '%s', copy bandwidth %.1f GB/s\n\n", p.order_name.c_str(), p.copy_bandwidth_gbps);
  std::printf("stage  nodes  cost ms  share  transfer ms%s  first node -> last node\n",
              measured_ms.empty() ? "" : "  measured ms");
  double total_stage_ms = 0;
  for (const Stage& s : p.stages) total_stage_ms += s.cost_ms();
  for (std::size_t i = 0; i < p.stages.size(); ++i) {
    const Stage& s = p.stages[i];
    std::printf("%5zu  %5zu  %7.2f  %4.1f%%  %11.3f", i, s.nodes.size(), s.cost_ms(),
                100.0 * s.cost_ms() / total_stage_ms, s.transfer_in_ms);
    if (!measured_ms.empty()) std::printf("  %11.2f", measured_ms[i]);
    std::printf("  %s -> %s\n", s.first_node.c_str(), s.last_node.c_str());
    if (i > 0) std::printf("       cut in : %s\n", tensor_list(s.live_in).c_str());
    std::printf("       outputs: %s\n", tensor_list(s.outputs).c_str());
    if (!files.empty()) std::printf("       file   : %s\n", files[i].c_str());
  }
  std::printf(
      "\nbottleneck %.2f ms; lower bound %.2f ms (total/K %.2f, largest node %.2f); balance %.3f; gap "
      "%.1f%%\n",
      p.bottleneck_ms, p.lower_bound_ms, p.mean_ms, p.max_node_ms, p.balance, 100.0 * p.gap);
  if (!measured_ms.empty())
    std::printf("measured (median of %d runs, %d thread%s): slowest stage %.2f ms, balance %.3f\n",
                o.measure_runs, o.threads, o.threads == 1 ? "" : "s",
                *std::max_element(measured_ms.begin(), measured_ms.end()), measured_balance(measured_ms));
  std::printf("orders tried:");
  for (const OrderResult& r : p.orders_tried)
    std::printf(" %s %.2f ms (peak live %s)", r.name.c_str(), r.bottleneck_ms,
                human_bytes(static_cast<std::size_t>(r.peak_live_bytes)).c_str());
  std::printf("\n");
}

nlohmann::json partition_json(const SplitCommand& o, const Partition& p,
                              const std::vector<std::string>& files, const std::vector<double>& measured_ms) {
  nlohmann::json stages = nlohmann::json::array();
  double total_stage_ms = 0;
  for (const Stage& s : p.stages) total_stage_ms += s.cost_ms();
  for (std::size_t i = 0; i < p.stages.size(); ++i) {
    const Stage& s = p.stages[i];
    nlohmann::json j{{"index", i},
                     {"first_node", s.first_node},
                     {"last_node", s.last_node},
                     {"nodes", s.nodes.size()},
                     {"cost_ms", s.cost_ms()},
                     {"compute_ms", s.compute_ms},
                     {"transfer_in_ms", s.transfer_in_ms},
                     {"share", s.cost_ms() / total_stage_ms},
                     {"inputs", tensors_json(s.inputs)},
                     {"outputs", tensors_json(s.outputs)},
                     {"live_in", tensors_json(s.live_in)}};
    if (!files.empty()) j["file"] = files[i];
    if (!measured_ms.empty()) j["measured_ms"] = measured_ms[i];
    stages.push_back(std::move(j));
  }
  nlohmann::json tried = nlohmann::json::array();
  for (const OrderResult& r : p.orders_tried)
    tried.push_back({{"order", r.name},
                     {"bottleneck_ms", r.bottleneck_ms},
                     {"peak_live_bytes", r.peak_live_bytes},
                     {"cut_bytes", r.cut_bytes}});
  nlohmann::json result{{"model", o.model},
                        {"threads", o.threads},
                        {"cost_source", o.cost},
                        {"order", p.order_name},
                        {"copy_bandwidth_gbps", p.copy_bandwidth_gbps},
                        {"total_ms", p.total_compute_ms},
                        {"stages", stages},
                        {"balance", p.balance},
                        {"bottleneck_ms", p.bottleneck_ms},
                        {"lower_bound_ms", p.lower_bound_ms},
                        {"mean_ms", p.mean_ms},
                        {"max_node_ms", p.max_node_ms},
                        {"gap", p.gap},
                        {"orders_tried", tried}};
  if (!measured_ms.empty()) {
    result["measured_bottleneck_ms"] = *std::max_element(measured_ms.begin(), measured_ms.end());
    result["measured_balance"] = measured_balance(measured_ms);
  }
  return result;
}

void run_split(const SplitCommand& o) {
  ModelSplitOptions options;
  options.segments = o.stages;
  options.threads = o.threads;
  options.pinned_after = o.pins;
  options.orders = o.orders;
  options.copy_bandwidth_gbps = o.bandwidth_gbps;
  options.costs = o.cost == "analytic" ? ModelSplitOptions::Costs::kAnalytic : ModelSplitOptions::Costs::kMeasured;
  options.cost_runs = o.cost_runs;
  options.export_segments = !o.out_dir.empty();
  options.measure_runs = o.measure_runs;
  ModelSplit split;
  try {
    split = cli_runtime().split_model(o.model, options);
  } catch (const PinError& e) {
    throw std::runtime_error("--pin " + e.pin() + ": " + e.what());
  }
  const Partition& partition = split.partition;
  const std::vector<std::string>& stage_models = split.segment_models;
  std::vector<std::string> files;
  if (!o.out_dir.empty()) {
    std::error_code error;
    std::filesystem::create_directories(o.out_dir, error);
    if (error)
      throw std::runtime_error("cannot create --out directory '" + o.out_dir + "': " + error.message());
    for (std::size_t i = 0; i < stage_models.size(); ++i) {
      const std::string path =
          (std::filesystem::path(o.out_dir) / ("stage_" + std::to_string(i) + ".onnx")).string();
      std::ofstream file(path, std::ios::binary | std::ios::trunc);
      if (!file ||
          !file.write(stage_models[i].data(), static_cast<std::streamsize>(stage_models[i].size())) ||
          !file.flush())
        throw std::runtime_error("cannot write '" + path + "'");
      files.push_back(path);
    }
  }
  const std::vector<double>& measured_ms = split.measured_ms;
  if (o.json)
    std::printf("%s\n", json_text(partition_json(o, partition, files, measured_ms), 2).c_str());
  else
    print_text(o, split.graph, partition, files, measured_ms);
}

}  // namespace

void add_split_command(CLI::App& app) {
  auto o = std::make_shared<SplitCommand>();
  CLI::App* cmd = app.add_subcommand("split", "Cut an ONNX model into K balanced pipeline stages");
  cmd->add_option("model", o->model, "ONNX model file")->required()->check(CLI::ExistingFile);
  // Bounded far above any model: the split itself says when a model has fewer nodes than stages.
  cmd->add_option("-k,--stages", o->stages, "Number of stages")->required()->check(whole_number(1, 1 << 20));
  cmd->add_option("--threads", o->threads, "Threads per stage the costs assume")
      ->capture_default_str()
      ->check(whole_number(1, EngineOptions::kMaxThreads));
  cmd->add_option("--pin", o->pins, "Node names a cut must fall right after (repeatable)");
  cmd->add_option("--order", o->orders,
                  "Node orders to try: file, dfs, dfs-reversed, min-live (default: all)");
  cmd->add_option("--bandwidth", o->bandwidth_gbps,
                  "Copy bandwidth in GB/s for cut transfers (default: measured)")
      ->check(positive_number());
  cmd->add_option("--cost", o->cost,
                  "Per-node costs: measured (each node timed inside the compiled executor) or analytic "
                  "(FLOP/byte roofline estimate, no compilation)")
      ->capture_default_str()
      ->check(CLI::IsMember({"measured", "analytic"}));
  cmd->add_option("--cost-runs", o->cost_runs, "Timed runs per node cost (median) with --cost measured")
      ->capture_default_str()
      ->check(whole_number(1, 10000));
  cmd->add_option("--out", o->out_dir, "Write the stages as DIR/stage_<i>.onnx");
  cmd->add_option("--measure", o->measure_runs,
                  "Compile each stage with the engine and time it over N runs (median) to check the balance")
      ->check(whole_number(1, 10000));
  cmd->add_flag("--json", o->json, "Print one JSON object instead of the table");
  cmd->footer(
      "A pinned node may be any node of the ONNX file; one folded into another (BatchNormalization) pins\n"
      "the cut after the node that absorbed it.\n"
      "Examples:\n  conveyor split resnet50.onnx --stages 3\n"
      "  conveyor split resnet50.onnx --stages 4 --threads 2 --out stages/ --json\n"
      "  conveyor split bert.onnx --stages 2 --pin \\\n"
      "    "
      "/encoder/encoder.layer/encoder.layer.1/encoder.layer.1.output/encoder.layer.1.output.LayerNorm/Add_1");
  cmd->callback([o] { run_split(*o); });
}

}  // namespace conveyor::cli
