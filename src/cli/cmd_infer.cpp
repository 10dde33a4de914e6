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
#include "cli/json_text.hpp"
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

// A model input or output as imported: its shape, and the names of its symbolic dimensions ("" for fixed).
struct ValueSpec {
  std::string name;
  DType dtype = DType::kFloat32;
  Shape shape;
  std::vector<std::string> dim_names;

  bool symbolic(std::size_t axis) const { return axis < dim_names.size() && !dim_names[axis].empty(); }
};

std::vector<ValueSpec> specs_of(const Graph& graph, const std::vector<int>& ids) {
  std::vector<ValueSpec> specs;
  for (int id : ids) {
    const Value& v = graph.value(id);
    specs.push_back({v.name, v.dtype, v.shape, v.dim_names});
  }
  return specs;
}

// float32[1, 3, 224, 224]; with symbolic dimensions by name, float32[batch, 8] (`sizes`: batch=1, 8).
std::string spec_str(const ValueSpec& spec, bool sizes = false) {
  std::string text = std::string(dtype_name(spec.dtype)) + "[";
  for (std::size_t axis = 0; axis < spec.shape.size(); ++axis) {
    if (axis > 0) text += ", ";
    const std::string size = std::to_string(spec.shape[axis]);
    text += spec.symbolic(axis) ? spec.dim_names[axis] + (sizes ? "=" + size : "") : size;
  }
  return text + "]";
}

std::string list_specs(const std::vector<ValueSpec>& specs) {
  std::string all;
  for (const auto& s : specs) all += (all.empty() ? "" : ", ") + s.name + " " + spec_str(s);
  return all;
}

nlohmann::json spec_json(const ValueSpec& spec) {
  nlohmann::json dims = nlohmann::json::array();
  for (std::size_t axis = 0; axis < spec.shape.size(); ++axis)
    dims.push_back(spec.symbolic(axis) ? nlohmann::json(spec.dim_names[axis]) : nlohmann::json(nullptr));
  return {{"name", spec.name}, {"dtype", dtype_name(spec.dtype)}, {"shape", spec.shape}, {"dim_names", dims}};
}

// The symbolic dimensions of `specs`, each once, in order of appearance.
std::vector<std::string> symbolic_dims(const std::vector<ValueSpec>& specs) {
  std::vector<std::string> names;
  for (const auto& spec : specs)
    for (const auto& name : spec.dim_names)
      if (!name.empty() && std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
  return names;
}

std::pair<std::string, std::string> split_pair(const std::string& text, const std::string& option,
                                               const std::string& form) {
  const auto eq = text.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == text.size())
    throw std::invalid_argument(option + " expects " + form + ", got '" + text + "'");
  return {text.substr(0, eq), text.substr(eq + 1)};
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

// An --input: NAME=FILE.npy, or FILE.npy alone for a model with one input.
std::pair<std::string, std::string> input_name_and_file(const std::string& arg,
                                                        const std::vector<ValueSpec>& specs) {
  if (arg.find('=') == std::string::npos && specs.size() == 1) return {specs[0].name, arg};
  return split_pair(arg, "--input", "NAME=FILE.npy");
}

// "--dim batch=4" when `tensor` differs from `spec` only in symbolic dimensions (and has its dtype).
std::string dims_hint(const ValueSpec& spec, const Tensor& tensor) {
  if (tensor.dtype() != spec.dtype || tensor.shape().size() != spec.shape.size()) return "";
  std::string dims;
  for (std::size_t axis = 0; axis < spec.shape.size(); ++axis) {
    if (tensor.dim(axis) == spec.shape[axis]) continue;
    if (!spec.symbolic(axis)) return "";
    dims += " --dim " + spec.dim_names[axis] + "=" + std::to_string(tensor.dim(axis));
  }
  return dims.empty() ? "" : ": pass" + dims;
}

// Reads every --input and checks it against the model's inputs (names, dtypes, shapes) before compiling.
std::vector<Tensor> read_inputs(const InferCommand& o, const std::vector<ValueSpec>& specs) {
  std::map<std::string, Tensor> given;
  for (const auto& arg : o.inputs) {
    const auto [name, file] = input_name_and_file(arg, specs);
    const auto spec =
        std::find_if(specs.begin(), specs.end(), [&](const ValueSpec& s) { return s.name == name; });
    if (spec == specs.end())
      throw std::invalid_argument("--input " + arg + ": the model has no input '" + name +
                                  "'; its inputs are " + list_specs(specs));
    if (given.count(name))
      throw std::invalid_argument("--input " + arg + ": input '" + name + "' is given twice");
    std::error_code ec;
    if (!std::filesystem::is_regular_file(file, ec))
      throw std::invalid_argument("--input " + arg + ": '" + file + "' is not a regular file" +
                                  (std::filesystem::exists(file, ec) ? "" : " (it does not exist)"));
    Tensor tensor;
    try {
      tensor = read_npy(file);
    } catch (const std::exception& e) {
      throw std::invalid_argument("--input " + arg + ": " + e.what());
    }
    if (tensor.dtype() != spec->dtype || tensor.shape() != spec->shape)
      throw std::invalid_argument("--input " + arg + ": model input '" + name + "' expects " +
                                  spec_str(*spec, true) + ", " + file + " holds " + tensor.describe() +
                                  dims_hint(*spec, tensor));
    given[name] = std::move(tensor);
  }
  std::vector<Tensor> ordered;
  for (const auto& spec : specs) {
    auto it = given.find(spec.name);
    if (it == given.end())
      throw std::invalid_argument("missing input '" + spec.name + "' (" + spec_str(spec) +
                                  "): pass --input " + spec.name + "=FILE.npy");
    ordered.push_back(std::move(it->second));
  }
  return ordered;
}

void infer(const InferCommand& o, Graph graph) {
  const auto input_specs = specs_of(graph, graph.inputs);
  const std::vector<Tensor> inputs = read_inputs(o, input_specs);

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

// ---- --repeat: timing ----

// Run times summarised: percentiles by nearest rank over every run.
struct RunTimes {
  double min = 0, median = 0, mean = 0, p90 = 0, max = 0;

  explicit RunTimes(std::vector<double> ms) {
    std::sort(ms.begin(), ms.end());
    const auto rank = [&](double q) {
      const auto index = static_cast<std::size_t>(std::ceil(q * static_cast<double>(ms.size())));
      return ms[std::clamp<std::size_t>(index, 1, ms.size()) - 1];
    };
    min = ms.front();
    median = rank(0.5);
    p90 = rank(0.9);
    max = ms.back();
    double sum = 0;
    for (double v : ms) sum += v;
    mean = sum / static_cast<double>(ms.size());
  }
};

struct NodeShare {
  std::string name, op;
  double ms = 0;
  std::size_t nodes = 1;  // of an op: how many nodes it sums
};

void print_node_shares(const std::vector<NodeShare>& nodes, const std::vector<NodeShare>& ops,
                       double total_ms, int runs) {
  constexpr std::size_t kShown = 15;
  std::printf(
      "\nnodes: median ms of %d profiled runs, %.2f ms in all (a fused chain's time is on its first node)\n",
      runs, total_ms);
  std::printf("  %6s %9s  %-18s %s\n", "share", "ms", "op", "node");
  double rest = 0;
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    if (i >= kShown) {
      rest += nodes[i].ms;
      continue;
    }
    std::printf("  %5.1f%% %9.3f  %-18s %s\n", 100 * nodes[i].ms / total_ms, nodes[i].ms, nodes[i].op.c_str(),
                nodes[i].name.c_str());
  }
  if (nodes.size() > kShown)
    std::printf("  %5.1f%% %9.3f  %zu more nodes\n", 100 * rest / total_ms, rest, nodes.size() - kShown);
  std::printf("\nby op:\n  %6s %9s  %-18s %s\n", "share", "ms", "op", "nodes");
  for (const auto& op : ops)
    std::printf("  %5.1f%% %9.3f  %-18s %zu\n", 100 * op.ms / total_ms, op.ms, op.op.c_str(), op.nodes);
}

void time_runs(const InferCommand& o, Graph graph) {
  const auto input_specs = specs_of(graph, graph.inputs);
  const bool synthetic = o.inputs.empty();
  const double gflops = graph_cost(graph).flops / 1e9;

  const auto compile_start = Clock::now();
  Model model = cli_runtime().compile_model(std::move(graph), model_options(o));
  const double compile_ms = ms_since(compile_start);
  const std::vector<Tensor> inputs = synthetic ? model.synthetic_inputs() : read_inputs(o, input_specs);

  for (int i = 0; i < o.warmup; ++i) model.run(inputs);
  std::vector<double> ms;
  for (int i = 0; i < o.repeat; ++i) {
    const auto start = Clock::now();
    model.run(inputs);
    ms.push_back(ms_since(start));
  }
  const RunTimes times(ms);
  const double gflop_per_s = times.median > 0 ? gflops / (times.median / 1e3) : 0;

  std::vector<NodeShare> nodes, ops;
  double total_ms = 0;
  if (o.profile_nodes) {
    const std::vector<double> node_ms = model.profile_nodes(inputs, o.repeat);
    std::map<std::string, NodeShare> by_op;
    for (std::size_t n = 0; n < node_ms.size(); ++n) {
      const Node& node = model.graph().nodes[n];
      total_ms += node_ms[n];
      nodes.push_back({node.name, node.op_type, node_ms[n]});
      NodeShare& op = by_op.try_emplace(node.op_type, NodeShare{"", node.op_type, 0, 0}).first->second;
      op.ms += node_ms[n];
      ++op.nodes;
    }
    for (auto& [name, op] : by_op) ops.push_back(op);
    const auto slowest = [](const NodeShare& a, const NodeShare& b) { return a.ms > b.ms; };
    std::stable_sort(nodes.begin(), nodes.end(), slowest);
    std::stable_sort(ops.begin(), ops.end(), slowest);
  }

  const char* inputs_text =
      synthetic ? "synthetic inputs: floats in [-1, 1), other dtypes 0" : "the given inputs";
  if (o.json) {
    nlohmann::json j{{"model", o.model},
                     {"threads", model.threads()},
                     {"compile_ms", compile_ms},
                     {"inputs", synthetic ? "synthetic" : "given"},
                     {"warmup", o.warmup},
                     {"runs", o.repeat},
                     {"run_ms",
                      {{"min", times.min},
                       {"median", times.median},
                       {"mean", times.mean},
                       {"p90", times.p90},
                       {"max", times.max}}},
                     {"gflops", gflops},
                     {"gflop_per_s", gflop_per_s},
                     {"steps",
                      {{"total", model.stats().steps},
                       {"dnnl", model.stats().dnnl_steps},
                       {"reorders", model.stats().reorders},
                       {"reference", model.stats().reference_steps},
                       {"fused_chains", model.stats().fused_chains}}}};
    if (o.profile_nodes) {
      j["nodes"] = nlohmann::json::array();
      for (const auto& node : nodes)
        j["nodes"].push_back(
            {{"name", node.name}, {"op", node.op}, {"ms", node.ms}, {"share", node.ms / total_ms}});
      j["ops"] = nlohmann::json::array();
      for (const auto& op : ops)
        j["ops"].push_back({{"op", op.op}, {"ms", op.ms}, {"share", op.ms / total_ms}, {"nodes", op.nodes}});
    }
    std::printf("%s\n", json_text(j, 2).c_str());
    return;
  }
  std::printf("%s: %d thread%s, compile %.1f ms; %d runs after %d warm-up runs (%s)\n", o.model.c_str(),
              model.threads(), model.threads() > 1 ? "s" : "", compile_ms, o.repeat, o.warmup, inputs_text);
  std::printf("run ms   min %.3f  median %.3f  mean %.3f  p90 %.3f  max %.3f\n", times.min, times.median,
              times.mean, times.p90, times.max);
  std::printf("GFLOP/s  %.1f at the median (%.3f GFLOPs per run)\n", gflop_per_s, gflops);
  const EngineStats& stats = model.stats();
  std::printf(
      "kernels  %zu steps per run: %zu oneDNN primitives (%zu of them layout reorders), %zu reference; "
      "%zu fused chains\n",
      stats.steps, stats.dnnl_steps, stats.reorders, stats.reference_steps, stats.fused_chains);
  if (o.profile_nodes) print_node_shares(nodes, ops, total_ms, o.repeat);
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
      time_runs(*o, std::move(graph));
    else
      infer(*o, std::move(graph));
  });
}

}  // namespace conveyor::cli
