#include "conveyor/engine/compiled_model.hpp"

#include <omp.h>

#include <sstream>

#include "model_impl.hpp"

namespace conveyor {

CompiledModel::CompiledModel(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
CompiledModel::CompiledModel(CompiledModel&&) noexcept = default;
CompiledModel& CompiledModel::operator=(CompiledModel&&) noexcept = default;
CompiledModel::~CompiledModel() = default;

CompiledModel CompiledModel::compile(const Graph& graph, const EngineOptions& options) {
  check_openmp_environment();
  if (options.threads < 0) throw EngineError("EngineOptions::threads must be >= 0");
  auto impl = std::make_unique<Impl>();
  impl->threads = options.threads > 0 ? options.threads : omp_get_max_threads();
  // Before any oneDNN call: primitives take their team size from the creating thread's setting.
  omp_set_num_threads(impl->threads);
  try {
    impl->engine = dnnl::engine(dnnl::engine::kind::cpu, 0);
    impl->stream = dnnl::stream(impl->engine);
    compile_graph(graph, *impl);
  } catch (const dnnl::error& e) {
    throw EngineError(std::string("oneDNN: ") + e.what());
  }
  return CompiledModel(std::move(impl));
}

const std::vector<TensorSpec>& CompiledModel::inputs() const { return impl_->inputs; }
const std::vector<TensorSpec>& CompiledModel::outputs() const { return impl_->outputs; }
int CompiledModel::threads() const { return impl_->threads; }
const EngineStats& CompiledModel::stats() const { return impl_->stats; }

std::string CompiledModel::describe() const {
  std::ostringstream out;
  for (std::size_t i = 0; i < impl_->steps.size(); ++i) {
    const Step& s = *impl_->steps[i];
    out << i << ": " << s.label << " [";
    for (std::size_t k = 0; k < s.storages.size(); ++k)
      out << (k ? ", " : "") << impl_->storages[static_cast<std::size_t>(s.storages[k])].name;
    out << "]\n";
  }
  return out.str();
}

std::vector<Tensor> CompiledModel::run(const std::vector<Tensor>& inputs) {
  Impl& m = *impl_;
  if (inputs.size() != m.inputs.size())
    throw EngineError("run: " + std::to_string(inputs.size()) + " inputs given, the model takes " +
                      std::to_string(m.inputs.size()));
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    const TensorSpec& spec = m.inputs[i];
    if (inputs[i].empty() || inputs[i].dtype() != spec.dtype || inputs[i].shape() != spec.shape)
      throw EngineError("run: input '" + spec.name + "' must be " + std::string(dtype_name(spec.dtype)) +
                        shape_str(spec.shape) + ", got " + (inputs[i].empty() ? "an empty tensor" : inputs[i].describe()));
    m.ptrs[static_cast<std::size_t>(m.input_storage[i])] = const_cast<void*>(inputs[i].raw());
  }
  std::vector<Tensor> outputs;
  outputs.reserve(m.outputs.size());
  for (std::size_t i = 0; i < m.outputs.size(); ++i) {
    outputs.emplace_back(m.outputs[i].dtype, m.outputs[i].shape);
    m.ptrs[static_cast<std::size_t>(m.output_storage[i])] = outputs.back().raw();
  }
  for (auto& [mem, storage] : m.external_memories) mem.set_data_handle(m.ptrs[static_cast<std::size_t>(storage)]);
  if (omp_get_max_threads() != m.threads) omp_set_num_threads(m.threads);
  try {
    for (auto& step : m.steps) step->run(m.ptrs.data(), m.stream);
    m.stream.wait();
  } catch (const dnnl::error& e) {
    throw EngineError(std::string("run: oneDNN: ") + e.what());
  } catch (const GraphError& e) {
    throw EngineError(std::string("run: ") + e.what());
  }
  return outputs;
}

std::map<std::string, Tensor> CompiledModel::run(const std::map<std::string, Tensor>& inputs) {
  std::vector<Tensor> ordered;
  for (const TensorSpec& spec : impl_->inputs) {
    const auto it = inputs.find(spec.name);
    if (it == inputs.end()) throw EngineError("run: missing input '" + spec.name + "'");
    ordered.push_back(it->second);
  }
  if (inputs.size() != ordered.size())
    for (const auto& [name, t] : inputs) {
      bool known = false;
      for (const TensorSpec& spec : impl_->inputs) known = known || spec.name == name;
      if (!known) throw EngineError("run: the model has no input '" + name + "'");
    }
  std::vector<Tensor> results = run(ordered);
  std::map<std::string, Tensor> named;
  for (std::size_t i = 0; i < results.size(); ++i) named[impl_->outputs[i].name] = std::move(results[i]);
  return named;
}

}  // namespace conveyor
