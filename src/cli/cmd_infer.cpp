// conveyor infer: run one ONNX model on .npy inputs (no pipeline) once, or N times to time it (--repeat,
// --profile-nodes); or describe it with --info.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <stdexcept>
#include <utility>

#include "cli/cli_runtime.hpp"
#include "cli/commands.hpp"
#include "cli/infer_timing.hpp"
#include "cli/json_text.hpp"
#include "cli/model_inputs.hpp"
#include "cli/number_text.hpp"
#include "cli/option_checks.hpp"
#include "cli/output_file_name.hpp"
#include "conveyor/graph/cost.hpp"
#include "conveyor/graph/supported_ops.hpp"
#include "conveyor/tensor/npy.hpp"

namespace conveyor::cli {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

struct InferCommand {
  std::string model;
  std::vector<std::string> inputs;  // NAME=FILE.npy (or FILE.npy for a one-input model)
  std::vector<std::string> dims;    // NAME=VALUE
  std::string output_dir;           // empty: outputs are only described
  int threads = 0;                  // 0: every CPU of the topology
  int repeat = 0;                   // > 0: time this many runs after `warmup` runs
  int warmup = 5;
  bool profile_nodes = false;
  bool info = false;
  bool list_ops = false;
  bool json = false;
};

double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

ModelOptions model_options(const InferCommand& o) {
  ModelOptions import;
  import.threads = o.threads;
  for (const auto& d : o.dims) {
    const auto [name, text] = split_pair(d, "--dim", "NAME=VALUE (a symbolic dimension and its size)");
    const auto value = integer_text(text);
    if (!value || *value < 1)
      throw std::invalid_argument("--dim " + d + ": the size must be an integer >= 1, got '" + text + "'");
    import.dims[name] = *value;
  }
  return import;
}

Graph load_model(const InferCommand& o) {
  try {
    return cli_runtime().import_model(o.model, model_options(o));
  } catch (const GraphError& e) {
    throw std::runtime_error(std::string("cannot load the model: ") + e.what());
  }
}

// ---- --info ----

void print_info(const InferCommand& o, const Graph& graph) {
  const auto inputs = specs_of(graph, graph.inputs);
  const auto outputs = specs_of(graph, graph.outputs);
  std::map<std::string, std::size_t> op_counts;
  for (const Node& node : graph.nodes) ++op_counts[node.op_type];
  std::vector<std::pair<std::string, std::size_t>> ops(op_counts.begin(), op_counts.end());
  std::stable_sort(ops.begin(), ops.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  const double gflops = graph_cost(graph).flops / 1e9;

  if (o.json) {
    nlohmann::json j{{"model", o.model},
                     {"opset", graph.opset},
                     {"nodes", graph.nodes.size()},
                     {"gflops", gflops},
                     {"symbolic_dims", symbolic_dims(inputs)}};
    j["inputs"] = nlohmann::json::array();
    for (const auto& s : inputs) j["inputs"].push_back(spec_json(s));
    j["outputs"] = nlohmann::json::array();
    for (const auto& s : outputs) j["outputs"].push_back(spec_json(s));
    j["ops"] = nlohmann::json::array();
    for (const auto& [op, count] : ops) j["ops"].push_back({{"op", op}, {"count", count}});
    std::printf("%s\n", json_text(j, 2).c_str());
    return;
  }
  std::printf("model    %s (opset %lld)\n", o.model.c_str(), static_cast<long long>(graph.opset));
  for (const auto& s : inputs) std::printf("input    %-24s %s\n", s.name.c_str(), spec_str(s).c_str());
  for (const auto& s : outputs) std::printf("output   %-24s %s\n", s.name.c_str(), spec_str(s).c_str());
  for (const auto& name : symbolic_dims(inputs)) {
    const auto given = std::find_if(o.dims.begin(), o.dims.end(),
                                    [&](const std::string& d) { return d.rfind(name + "=", 0) == 0; });
    std::printf(
        "dim      %-24s %s\n", name.c_str(),
        given != o.dims.end() ? given->substr(name.size() + 1).c_str() : "1 (set it with --dim NAME=N)");
  }
  std::printf("nodes    %zu (after import optimisations)\n", graph.nodes.size());
  std::printf("GFLOPs   %.3f\n", gflops);
  std::printf("ops     ");
  for (std::size_t i = 0; i < ops.size(); ++i)
    std::printf("%s %s x%zu", i == 0 ? "" : ",", ops[i].first.c_str(), ops[i].second);
  std::printf("\n");
}

// ---- inference ----

void infer(const InferCommand& o, Graph graph) {
  const auto input_specs = specs_of(graph, graph.inputs);
  const std::vector<Tensor> inputs = read_inputs(o.inputs, input_specs);

  const auto compile_start = Clock::now();
  Model model = cli_runtime().compile_model(std::move(graph), model_options(o));
  const double compile_ms = ms_since(compile_start);
  const auto run_start = Clock::now();
  const std::vector<Tensor> results = model.run(inputs);
  const double run_ms = ms_since(run_start);

  std::vector<std::string> files(results.size());
  if (!o.output_dir.empty()) {
    std::error_code error;
    fs::create_directories(o.output_dir, error);
    if (error)
      throw std::runtime_error("cannot create the output folder '" + o.output_dir + "': " + error.message());
    std::set<std::string> taken;
    for (std::size_t i = 0; i < results.size(); ++i)
      files[i] = (fs::path(o.output_dir) / output_file_name(model.outputs()[i].name, taken)).string();
    for (const auto& file : files)  // writing an output over an input file would destroy it
      for (const auto& arg : o.inputs) {
        const std::string input = input_name_and_file(arg, input_specs).second;
        if (fs::equivalent(file, input, error))
          throw std::runtime_error("output '" + file + "' would overwrite the input '" + input +
                                   "': choose another --output folder");
      }
    for (std::size_t i = 0; i < results.size(); ++i) write_npy(files[i], results[i]);
  }

  if (o.json) {
    nlohmann::json j{
        {"model", o.model}, {"threads", model.threads()}, {"compile_ms", compile_ms}, {"run_ms", run_ms}};
    j["outputs"] = nlohmann::json::array();
    for (std::size_t i = 0; i < results.size(); ++i) {
      nlohmann::json out{{"name", model.outputs()[i].name},
                         {"dtype", dtype_name(results[i].dtype())},
                         {"shape", results[i].shape()}};
      if (!files[i].empty()) out["file"] = files[i];
      j["outputs"].push_back(out);
    }
    std::printf("%s\n", json_text(j, 2).c_str());
    return;
  }
  std::printf("%s: %d threads, compile %.1f ms, run %.2f ms\n", o.model.c_str(), model.threads(), compile_ms,
              run_ms);
  for (std::size_t i = 0; i < results.size(); ++i)
    std::printf("output   %-24s %s%s%s\n", model.outputs()[i].name.c_str(), results[i].describe().c_str(),
                files[i].empty() ? "" : " -> ", files[i].c_str());
}

// ---- --list-ops ----

void print_supported_ops(bool json) {
  if (json) {
    nlohmann::json ops = nlohmann::json::array();
    for (const SupportedOp& op : supported_ops())
      ops.push_back({{"op", op.op}, {"attributes", op.attributes}, {"limits", op.limits}});
    std::printf("%s\n", json_text(nlohmann::json{{"ops", ops}}, 2).c_str());
    return;
  }
  std::printf("%zu operators (ONNX default domain, opsets up to 17); float32 runs on oneDNN where it can\n\n",
              supported_ops().size());
  std::printf("%-20s %s\n", "operator", "attributes read; limits");
  for (const SupportedOp& op : supported_ops())
    std::printf("%-20s %s%s%s\n", op.op.c_str(), op.attributes.c_str(), op.limits.empty() ? "" : "; ",
                op.limits.c_str());
}

}  // namespace

void add_infer_command(CLI::App& app) {
  auto o = std::make_shared<InferCommand>();
  CLI::App* cmd = app.add_subcommand(
      "infer",
      "Run one ONNX model on .npy inputs, once or --repeat N times to time it, or describe it (--info)");
  cmd->add_option("model", o->model, "ONNX model file")->check(CLI::ExistingFile);
  auto* input =
      cmd->add_option("-i,--input", o->inputs,
                      "NAME=FILE.npy for each model input (FILE.npy alone when the model has one input)");
  cmd->add_option("-o,--output", o->output_dir,
                  "Folder for the outputs, one <output name>.npy each (created)");
  cmd->add_option("--threads", o->threads, "Engine threads (default: every CPU this process may use)")
      ->check(whole_number(1, EngineOptions::kMaxThreads));
  cmd->add_option("--dim", o->dims, "NAME=VALUE: size of a symbolic input dimension (others default to 1)");
  auto* repeat =
      cmd->add_option("--repeat", o->repeat,
                      "Time N runs (after --warmup runs): min, median, mean, p90, max ms and GFLOP/s; "
                      "without --input on synthetic inputs")
          ->check(whole_number(1, 1'000'000));
  cmd->add_option("--warmup", o->warmup, "Untimed runs before --repeat's")
      ->capture_default_str()
      ->check(whole_number(0, 1'000'000))
      ->needs(repeat);
  cmd->add_flag("--profile-nodes", o->profile_nodes,
                "With --repeat: each node's median ms and share of the run, slowest first, and each op's")
      ->needs(repeat);
  cmd->add_flag("--info", o->info, "Print the model's inputs, outputs, op counts and GFLOPs; run nothing")
      ->excludes(input)
      ->excludes(repeat);
  cmd->add_flag(
      "--list-ops", o->list_ops,
      "List the ONNX operators the executor runs, the attributes it reads and its limits; no model");
  cmd->add_flag("--json", o->json, "Print one JSON object");
  cmd->footer(
      "Examples:\n  conveyor zoo tinycnn -o tinycnn.onnx && conveyor infer tinycnn.onnx --info\n"
      "  conveyor infer tinycnn.onnx --input input=x.npy --output out/ --threads 4\n"
      "  conveyor infer tinycnn.onnx --repeat 100 --threads 1 --profile-nodes\n"
      "Without --output the outputs are described but not written.");
  cmd->callback([o] {
    if (o->list_ops) {
      if (!o->model.empty()) throw CLI::ValidationError("--list-ops", "takes no model");
      return print_supported_ops(o->json);
    }
    if (o->model.empty()) throw CLI::RequiredError("model");
    Graph graph = load_model(*o);
    if (o->info)
      print_info(*o, graph);
    else if (o->repeat > 0)
      time_runs({o->model, o->inputs, o->repeat, o->warmup, o->profile_nodes, o->json}, std::move(graph),
                model_options(*o));
    else
      infer(*o, std::move(graph));
  });
}

}  // namespace conveyor::cli
