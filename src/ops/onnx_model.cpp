// onnx: runs an ONNX model (or a segment of one) on the stage worker's cores. The file is imported and
// optimised once per process (shared_model_graph: every stage and worker on the same file shares it); a
// `segment` stage cuts its part out of that graph in memory when the pipeline is built; every worker
// compiles its own copy inside its own thread, so the oneDNN primitives get that worker's thread budget.
#include <algorithm>
#include <map>
#include <memory>

#include "conveyor/engine/compiled_model.hpp"
#include "conveyor/graph/extract_segment.hpp"
#include "conveyor/ops/shared_model_graph.hpp"
#include "conveyor/ops/thread_limit.hpp"
#include "ops/builtin_ops.hpp"
#include "ops/op_args.hpp"

namespace conveyor::ops {
namespace {

static_assert(kMaxOpThreads == EngineOptions::kMaxThreads, "a stage may ask for what the engine runs");

constexpr const char* kOp = "onnx";

struct Binding {
  std::string model_name;   // the model's input or output
  std::string sample_name;  // the sample tensor it is read from / written to
};

// `mapping` (model name -> sample tensor name) for every model value in `names`; unnamed ones keep their name.
std::vector<Binding> bind_names(ArgReader& reader, const std::string& key, const std::vector<std::string>& names) {
  std::map<std::string, std::string> mapping;
  if (const auto raw = reader.raw(key); raw && !raw->is_null()) {
    if (!raw->is_mapping())
      throw reader.error(key, "must map model " + key + " to sample tensor names, e.g. {input: pixels}");
    for (const auto& model_name : raw->keys()) {
      const OpArgs sample_name = raw->at(model_name);
      if (std::find(names.begin(), names.end(), model_name) == names.end()) {
        std::string known;
        for (const auto& n : names) known += (known.empty() ? "" : ", ") + n;
        throw reader.error(key, "names '" + model_name + "', which is not one of the model's " + key + " (" + known + ")");
      }
      if (!sample_name.is_string() || sample_name.as_string().empty())
        throw reader.error(key, "maps '" + model_name + "' to " + json_excerpt(sample_name) + ", not a tensor name");
      mapping[model_name] = sample_name.as_string();
    }
  }
  std::vector<Binding> bindings;
  for (const auto& name : names) bindings.push_back({name, mapping.count(name) ? mapping[name] : name});
  return bindings;
}

// One list of `segment` (its inputs or outputs): tensor names of the model.
std::vector<std::string> segment_names(ArgReader& reader, const OpArgs& segment, const std::string& key) {
  if (!segment.has(key) || !segment.at(key).is_list() || segment.at(key).size() == 0)
    throw reader.error("segment",
                       "needs " + key + ": a list of the model's tensor names bounding the segment");
  const OpArgs list = segment.at(key);
  std::vector<std::string> names;
  for (std::size_t i = 0; i < list.size(); ++i) {
    const OpArgs name = list.at(i);
    if (!name.is_string() || name.as_string().empty())
      throw reader.error("segment", key + " holds " + json_excerpt(name) + ", not a tensor name");
    names.push_back(name.as_string());
  }
  return names;
}

class OnnxModelOperator final : public Operator {
 public:
  OnnxModelOperator(CompiledModel model, std::vector<Binding> inputs, std::vector<Binding> outputs)
      : model_(std::move(model)), inputs_(std::move(inputs)), outputs_(std::move(outputs)) {
    feed_.resize(inputs_.size());
  }

  void process(Sample& sample) override {
    for (std::size_t i = 0; i < inputs_.size(); ++i) {
      const Tensor& given = sample.at(inputs_[i].sample_name);
      const TensorSpec& want = model_.inputs()[i];
      if (given.dtype() != want.dtype || given.shape() != want.shape)
        throw std::invalid_argument("onnx: model input '" + want.name + "' expects " +
                                    std::string(dtype_name(want.dtype)) + shape_str(want.shape) + ", tensor '" +
                                    inputs_[i].sample_name + "' is " + given.describe());
      feed_[i] = given;
    }
    std::vector<Tensor> results = model_.run(feed_);
    for (std::size_t i = 0; i < outputs_.size(); ++i) sample.tensors[outputs_[i].sample_name] = std::move(results[i]);
    for (auto& t : feed_) t = Tensor();  // do not keep the sample's tensors alive
  }

 private:
  CompiledModel model_;
  std::vector<Binding> inputs_, outputs_;
  std::vector<Tensor> feed_;
};

// What the model reads and writes under their sample names; dims it does not fix are -1.
std::vector<TensorSignature> bound_signatures(const Graph& graph, const std::vector<int>& values,
                                              const std::vector<Binding>& bindings) {
  std::vector<TensorSignature> signatures;
  for (std::size_t i = 0; i < values.size(); ++i) {
    const Value& value = graph.values[static_cast<std::size_t>(values[i])];
    TensorSignature signature{.name = bindings[i].sample_name, .dtype = value.dtype, .dims = {}};
    for (const int64_t dim : value.shape) signature.dims.push_back(dim < 0 ? -1 : dim);
    signatures.push_back(std::move(signature));
  }
  return signatures;
}

BuiltOperator build(const OpArgs& args, const OpBuildContext& context) {
  ArgReader reader(kOp, args, context, {"path", "dims", "threads", "segment", "inputs", "outputs"});
  const std::filesystem::path path = reader.required_file("path");
  std::map<std::string, int64_t> dims;
  if (const auto given = reader.raw("dims"); given && !given->is_null()) {
    if (!given->is_mapping())
      throw reader.error("dims", "must map symbolic dimension names to sizes, e.g. {batch: 1}");
    for (const auto& name : given->keys()) {
      const OpArgs value = given->at(name);
      const auto size = value.int64_if_fits();
      if (!size || *size < 1)
        throw reader.error("dims", "'" + name + "' must be an integer >= 1, got " + json_excerpt(value));
      dims[name] = *size;
    }
  }
  const int64_t threads = reader.integer("threads", 0, 0);  // 0: the worker's budget
  if (threads > EngineOptions::kMaxThreads)
    throw reader.error("threads", "must be at most " + std::to_string(EngineOptions::kMaxThreads) + " (got " +
                                      std::to_string(threads) + ")");
  std::shared_ptr<const Graph> model;
  try {
    model = shared_model_graph(path, dims);
  } catch (const std::exception& e) {
    throw reader.error("path", std::string("cannot load the model: ") + e.what());
  }
  std::shared_ptr<const Graph> graph = model;
  if (const auto segment = reader.raw("segment"); segment && !segment->is_null()) {
    if (!segment->is_mapping())
      throw reader.error("segment",
                         "must name the tensors bounding the segment, e.g. {inputs: [x], outputs: [y]}");
    for (const auto& key : segment->keys())
      if (key != "inputs" && key != "outputs")
        throw reader.error("segment", "has '" + key + "'; it takes inputs and outputs");
    const auto inputs = segment_names(reader, *segment, "inputs");
    const auto outputs = segment_names(reader, *segment, "outputs");
    try {
      graph = std::make_shared<const Graph>(extract_segment(*model, inputs, outputs));
    } catch (const GraphError& e) {
      throw reader.error("segment", std::string("cannot cut it out of the model: ") + e.what());
    }
  }
  std::vector<std::string> input_names, output_names;
  for (int v : graph->inputs) input_names.push_back(graph->values[static_cast<std::size_t>(v)].name);
  for (int v : graph->outputs) output_names.push_back(graph->values[static_cast<std::size_t>(v)].name);
  auto inputs = bind_names(reader, "inputs", input_names);
  auto outputs = bind_names(reader, "outputs", output_names);
  reader.finish();

  // `model` rides along so that the other stages on this file, built after this one, find it imported.
  OperatorSignature signature{bound_signatures(*graph, graph->inputs, inputs),
                              bound_signatures(*graph, graph->outputs, outputs)};
  auto factory = [model, graph, inputs, outputs, threads](const WorkerContext& worker) -> std::unique_ptr<Operator> {
    EngineOptions options;
    options.threads = threads > 0 ? static_cast<int>(threads) : worker.threads;
    return std::make_unique<OnnxModelOperator>(CompiledModel::compile(*graph, options), inputs, outputs);
  };
  return {std::move(factory), std::move(signature)};
}

}  // namespace

void add_onnx_model(OperatorRegistry& registry) {
  registry.add(
      kOp,
      "run an ONNX model on the worker's cores: args path, inputs/outputs {model name: tensor}, dims, "
      "threads, "
      "segment {inputs: [...], outputs: [...]} (run only the part of the model between those tensors)",
      build);
}

}  // namespace conveyor::ops
