// conveyor infer: run one ONNX model once on .npy inputs (no pipeline), or describe it with --info.
#include <algorithm>
#include <chrono>
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
  bool info = false;
  bool json = false;
};

double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

TensorSpec spec_of(const Graph& graph, int value_id) {
  const Value& v = graph.value(value_id);
  return {v.name, v.dtype, v.shape};
}

std::vector<TensorSpec> specs_of(const Graph& graph, const std::vector<int>& ids) {
  std::vector<TensorSpec> specs;
  for (int id : ids) specs.push_back(spec_of(graph, id));
  return specs;
}

std::string spec_str(const TensorSpec& spec) { return std::string(dtype_name(spec.dtype)) + shape_str(spec.shape); }

std::string list_specs(const std::vector<TensorSpec>& specs) {
  std::string all;
  for (const auto& s : specs) all += (all.empty() ? "" : ", ") + s.name + " " + spec_str(s);
  return all;
}

nlohmann::json spec_json(const TensorSpec& spec) {
  return {{"name", spec.name}, {"dtype", dtype_name(spec.dtype)}, {"shape", spec.shape}};
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
    nlohmann::json j{{"model", o.model}, {"opset", graph.opset}, {"nodes", graph.nodes.size()}, {"gflops", gflops}};
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
                                                        const std::vector<TensorSpec>& specs) {
  if (arg.find('=') == std::string::npos && specs.size() == 1) return {specs[0].name, arg};
  return split_pair(arg, "--input", "NAME=FILE.npy");
}

// Reads every --input and checks it against the model's inputs (names, dtypes, shapes) before compiling.
std::vector<Tensor> read_inputs(const InferCommand& o, const std::vector<TensorSpec>& specs) {
  std::map<std::string, Tensor> given;
  for (const auto& arg : o.inputs) {
    const auto [name, file] = input_name_and_file(arg, specs);
    const auto spec = std::find_if(specs.begin(), specs.end(), [&](const TensorSpec& s) { return s.name == name; });
    if (spec == specs.end())
      throw std::invalid_argument("--input " + arg + ": the model has no input '" + name + "'; its inputs are " +
                                  list_specs(specs));
    if (given.count(name)) throw std::invalid_argument("--input " + arg + ": input '" + name + "' is given twice");
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
      throw std::invalid_argument("--input " + arg + ": model input '" + name + "' expects " + spec_str(*spec) +
                                  ", " + file + " holds " + tensor.describe());
    given[name] = std::move(tensor);
  }
  std::vector<Tensor> ordered;
  for (const auto& spec : specs) {
    auto it = given.find(spec.name);
    if (it == given.end())
      throw std::invalid_argument("missing input '" + spec.name + "' (" + spec_str(spec) + "): pass --input " +
                                  spec.name + "=FILE.npy");
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
    if (error) throw std::runtime_error("cannot create the output folder '" + o.output_dir + "': " + error.message());
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
    nlohmann::json j{{"model", o.model}, {"threads", model.threads()}, {"compile_ms", compile_ms}, {"run_ms", run_ms}};
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
  std::printf("%s: %d threads, compile %.1f ms, run %.2f ms\n", o.model.c_str(), model.threads(), compile_ms, run_ms);
  for (std::size_t i = 0; i < results.size(); ++i)
    std::printf("output   %-24s %s%s%s\n", model.outputs()[i].name.c_str(), results[i].describe().c_str(),
                files[i].empty() ? "" : " -> ", files[i].c_str());
}

}  // namespace

void add_infer_command(CLI::App& app) {
  auto o = std::make_shared<InferCommand>();
  CLI::App* cmd = app.add_subcommand("infer", "Run one ONNX model once on .npy inputs, or describe it (--info)");
  cmd->add_option("model", o->model, "ONNX model file")->required()->check(CLI::ExistingFile);
  auto* input = cmd->add_option("-i,--input", o->inputs,
                                "NAME=FILE.npy for each model input (FILE.npy alone when the model has one input)");
  cmd->add_option("-o,--output", o->output_dir, "Folder for the outputs, one <output name>.npy each (created)");
  cmd->add_option("--threads", o->threads, "Engine threads (default: every CPU this process may use)")
      ->check(whole_number(1, EngineOptions::kMaxThreads));
  cmd->add_option("--dim", o->dims, "NAME=VALUE: size of a symbolic input dimension (others default to 1)");
  cmd->add_flag("--info", o->info, "Print the model's inputs, outputs, op counts and GFLOPs; run nothing")
      ->excludes(input);
  cmd->add_flag("--json", o->json, "Print one JSON object");
  cmd->footer(
      "Examples:\n  conveyor zoo tinycnn -o tinycnn.onnx && conveyor infer tinycnn.onnx --info\n"
      "  conveyor infer tinycnn.onnx --input input=x.npy --output out/ --threads 4\n"
      "Without --output the outputs are described but not written.");
  cmd->callback([o] {
    Graph graph = load_model(*o);
    if (o->info)
      print_info(*o, graph);
    else
      infer(*o, std::move(graph));
  });
}

}  // namespace conveyor::cli
