// onnx: runs an ONNX model (or a segment of one) on the stage worker's cores. The file is imported and
// optimised once per process (shared_model_graph: every stage and worker on the same file shares it); a
// `segment` stage cuts its part out of that graph in memory when the pipeline is built; every worker
// compiles its own copy inside its own thread, so the oneDNN primitives get that worker's thread budget.
#include <algorithm>
#include <cstddef>
#include <cstring>
#include <functional>
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

// `mapping` (model name -> sample tensor name) for every model value in `names`; unnamed ones keep their
// name.
std::vector<Binding> bind_names(ArgReader& reader, const std::string& key,
                                const std::vector<std::string>& names) {
  std::map<std::string, std::string> mapping;
  if (const auto raw = reader.raw(key); raw && !raw->is_null()) {
    if (!raw->is_mapping())
      throw reader.error(key, "must map model " + key + " to sample tensor names, e.g. {input: pixels}");
    for (const auto& model_name : raw->keys()) {
      const OpArgs sample_name = raw->at(model_name);
      if (std::find(names.begin(), names.end(), model_name) == names.end()) {
        std::string known;
        for (const auto& n : names) known += (known.empty() ? "" : ", ") + n;
        throw reader.error(
            key, "names '" + model_name + "', which is not one of the model's " + key + " (" + known + ")");
      }
      if (!sample_name.is_string() || sample_name.as_string().empty())
        throw reader.error(
            key, "maps '" + model_name + "' to " + json_excerpt(sample_name) + ", not a tensor name");
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

// The inputs as the model expects them, or std::invalid_argument naming the one that differs.
void check_inputs(const Sample& sample, const std::vector<Binding>& inputs, const CompiledModel& model) {
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    const Tensor& given = sample.at(inputs[i].sample_name);
    const TensorSpec& want = model.inputs()[i];
    if (given.dtype() != want.dtype || given.shape() != want.shape)
      throw std::invalid_argument("onnx: model input '" + want.name + "' expects " +
                                  std::string(dtype_name(want.dtype)) + shape_str(want.shape) + ", tensor '" +
                                  inputs[i].sample_name + "' is " + given.describe());
  }
}

// One tensor holding `parts` one after another along dimension 0.
Tensor stacked(const std::vector<const Tensor*>& parts, const TensorSpec& want) {
  Tensor batch(want.dtype, want.shape);
  auto* to = static_cast<std::byte*>(batch.raw());
  for (const Tensor* part : parts) {
    std::memcpy(to, part->raw(), part->nbytes());
    to += part->nbytes();
  }
  return batch;
}

// Rows [first, first + rows) of `batch` along dimension 0.
Tensor rows_of(const Tensor& batch, int64_t first, int64_t rows) {
  Shape shape = batch.shape();
  const std::size_t row_bytes = batch.nbytes() / static_cast<std::size_t>(shape[0]);
  shape[0] = rows;
  Tensor part(batch.dtype(), shape);
  std::memcpy(part.raw(),
              static_cast<const std::byte*>(batch.raw()) + static_cast<std::size_t>(first) * row_bytes,
              static_cast<std::size_t>(rows) * row_bytes);
  return part;
}

class OnnxModelOperator final : public Operator {
 public:
  // `batched`: the model compiled for each batch size above 1 the stage may run, with the graph it came from.
  OnnxModelOperator(CompiledModel model, std::vector<Binding> inputs, std::vector<Binding> outputs,
                    std::map<std::size_t, CompiledModel> batched)
      : model_(std::move(model)),
        inputs_(std::move(inputs)),
        outputs_(std::move(outputs)),
        batched_(std::move(batched)) {
    feed_.resize(inputs_.size());
  }

  void process(Sample& sample) override {
    check_inputs(sample, inputs_, model_);
    for (std::size_t i = 0; i < inputs_.size(); ++i) feed_[i] = sample.at(inputs_[i].sample_name);
    std::vector<Tensor> results = model_.run(feed_);
    for (std::size_t i = 0; i < outputs_.size(); ++i)
      sample.tensors[outputs_[i].sample_name] = std::move(results[i]);
    for (auto& t : feed_) t = Tensor();  // do not keep the sample's tensors alive
  }

  bool process_batch(std::span<Sample* const> samples) override {
    const auto found = batched_.find(samples.size());
    if (found == batched_.end()) return false;
    CompiledModel& model = found->second;
    for (const Sample* sample : samples) check_inputs(*sample, inputs_, model_);
    std::vector<const Tensor*> parts(samples.size());
    for (std::size_t i = 0; i < inputs_.size(); ++i) {
      for (std::size_t k = 0; k < samples.size(); ++k) parts[k] = &samples[k]->at(inputs_[i].sample_name);
      feed_[i] = stacked(parts, model.inputs()[i]);
    }
    std::vector<Tensor> results = model.run(feed_);
    for (auto& t : feed_) t = Tensor();
    const auto count = static_cast<int64_t>(samples.size());
    for (std::size_t i = 0; i < outputs_.size(); ++i) {
      const int64_t rows = results[i].dim(0) / count;
      for (int64_t k = 0; k < count; ++k)
        samples[static_cast<std::size_t>(k)]->tensors[outputs_[i].sample_name] =
            rows_of(results[i], k * rows, rows);
    }
    return true;
  }

 private:
  CompiledModel model_;
  std::vector<Binding> inputs_, outputs_;
  std::map<std::size_t, CompiledModel> batched_;
  std::vector<Tensor> feed_;
};

// The symbolic name of the first dimension that every model input shares (the batch), or why there is none.
struct BatchDimension {
  std::string name;
  std::string why_not;
};

BatchDimension batch_dimension(const Graph& model) {
  std::string name;
  for (const int id : model.inputs) {
    const Value& value = model.value(id);
    if (value.shape.empty()) return {"", "the model's input '" + value.name + "' is a scalar"};
    const std::string first = value.dim_names.empty() ? "" : value.dim_names.front();
    if (first.empty())
      return {"", "the model's input '" + value.name + "' has a fixed batch of " +
                      std::to_string(value.shape[0]) +
                      " (export it with a symbolic first dimension: conveyor zoo NAME --batch dynamic)"};
    if (!name.empty() && first != name)
      return {"", "the model's inputs disagree on their first dimension ('" + name + "', '" + first + "')"};
    name = first;
  }
  if (name.empty()) return {"", "the model has no inputs"};
  return {name, ""};
}

// Why the graph at `size` times the rows of `single` is not `single` stacked `size` times; empty when it is.
std::string batch_mismatch(const Graph& single, const Graph& batch, int64_t size) {
  const auto check = [&](const std::vector<int>& ones, const std::vector<int>& many,
                         const char* kind) -> std::string {
    for (std::size_t i = 0; i < ones.size() && i < many.size(); ++i) {
      Shape want = single.value(ones[i]).shape;
      if (!want.empty()) want[0] *= size;
      const Shape& got = batch.value(many[i]).shape;
      if (want.empty() || got != want)
        return std::string("its ") + kind + " '" + single.value(ones[i]).name + "' is " + shape_str(got) +
               " at batch " + std::to_string(size) + ", not " + std::to_string(size) + " × " +
               shape_str(single.value(ones[i]).shape);
    }
    return "";
  };
  std::string why = check(single.inputs, batch.inputs, "input");
  return why.empty() ? check(single.outputs, batch.outputs, "output") : why;
}

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
  const auto segment = reader.raw("segment");
  if (segment && !segment->is_null()) {
    if (!segment->is_mapping())
      throw reader.error("segment",
                         "must name the tensors bounding the segment, e.g. {inputs: [x], outputs: [y]}");
    for (const auto& key : segment->keys())
      if (key != "inputs" && key != "outputs")
        throw reader.error("segment", "has '" + key + "'; it takes inputs and outputs");
  }
  const std::vector<std::string> segment_inputs =
      segment && !segment->is_null() ? segment_names(reader, *segment, "inputs") : std::vector<std::string>{};
  const std::vector<std::string> segment_outputs = segment && !segment->is_null()
                                                       ? segment_names(reader, *segment, "outputs")
                                                       : std::vector<std::string>{};
  // The model (or its segment) with the symbolic dimensions at `sizes`; `model` is the whole model there.
  const auto import_at = [path, segment_inputs, segment_outputs](const std::map<std::string, int64_t>& sizes,
                                                                 std::shared_ptr<const Graph>& model) {
    model = shared_model_graph(path, sizes);
    if (segment_inputs.empty()) return model;
    return std::make_shared<const Graph>(extract_segment(*model, segment_inputs, segment_outputs));
  };
  std::shared_ptr<const Graph> model, graph;
  try {
    graph = import_at(dims, model);
  } catch (const GraphError& e) {
    if (!model) throw reader.error("path", std::string("cannot load the model: ") + e.what());
    throw reader.error("segment", std::string("cannot cut it out of the model: ") + e.what());
  } catch (const std::exception& e) {
    throw reader.error("path", std::string("cannot load the model: ") + e.what());
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
  // A batch of N requests runs the model with its batch dimension at N times what one request holds.
  std::function<std::map<std::string, int64_t>(int)> dims_at;
  if (context.batch_sizes.size() > 1) {
    const BatchDimension batch = batch_dimension(*model);
    if (batch.name.empty()) {
      signature.not_batched = batch.why_not;
    } else {
      const int64_t rows = dims.count(batch.name) ? dims.at(batch.name) : 1;
      dims_at = [dims, batch, rows](int size) {
        auto at = dims;
        at[batch.name] = rows * size;
        return at;
      };
      const int largest = context.batch_sizes.back();
      std::shared_ptr<const Graph> whole;
      try {
        signature.not_batched = batch_mismatch(*graph, *import_at(dims_at(largest), whole), largest);
      } catch (const std::exception& e) {
        signature.not_batched =
            "the model does not import at batch " + std::to_string(largest) + ": " + e.what();
      }
      if (!signature.not_batched.empty()) dims_at = nullptr;
      signature.batches = dims_at != nullptr;
    }
  }
  auto factory = [model, graph, inputs, outputs, threads, dims_at,
                  import_at](const WorkerContext& worker) -> std::unique_ptr<Operator> {
    EngineOptions options;
    options.threads = threads > 0 ? static_cast<int>(threads) : worker.threads;
    std::map<std::size_t, CompiledModel> batched;
    if (dims_at)
      for (const int size : worker.batch_sizes)
        if (size > 1) {
          std::shared_ptr<const Graph> whole;
          const auto at = import_at(dims_at(size), whole);
          batched.emplace(static_cast<std::size_t>(size), CompiledModel::compile(*at, options));
        }
    return std::make_unique<OnnxModelOperator>(CompiledModel::compile(*graph, options), inputs, outputs,
                                               std::move(batched));
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
