#include "conveyor/engine/compiled_model.hpp"

#include <omp.h>

#include <algorithm>
#include <chrono>
#include <sstream>

#include "model_impl.hpp"

namespace conveyor {

CompiledModel::CompiledModel(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
CompiledModel::CompiledModel(CompiledModel&&) noexcept = default;
CompiledModel& CompiledModel::operator=(CompiledModel&&) noexcept = default;
CompiledModel::~CompiledModel() = default;

CompiledModel CompiledModel::compile(const Graph& graph, const EngineOptions& options) {
  check_openmp_environment();
  if (options.threads < 0 || options.threads > EngineOptions::kMaxThreads)
    throw EngineError("threads must be between 1 and " + std::to_string(EngineOptions::kMaxThreads) +
                      " (0: the calling thread's budget), got " + std::to_string(options.threads));
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
    out << "]";
    if (s.node >= 0) out << " -> node " << s.node;
    out << "\n";
  }
  return out.str();
}

namespace {

// Points the input and output storages at the caller's tensors; returns the fresh output tensors.
std::vector<Tensor> bind(CompiledModel::Impl& m, const std::vector<Tensor>& inputs) {
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
  return outputs;
}

// Runs every step; `step_seconds`, when given, receives each step's wall time.
void run_steps(CompiledModel::Impl& m, std::vector<double>* step_seconds) {
  try {
    if (!step_seconds) {
      for (auto& step : m.steps) step->run(m.ptrs.data(), m.stream);
      m.stream.wait();
      return;
    }
    step_seconds->assign(m.steps.size(), 0.0);
    for (std::size_t s = 0; s < m.steps.size(); ++s) {
      const auto start = std::chrono::steady_clock::now();
      m.steps[s]->run(m.ptrs.data(), m.stream);
      m.stream.wait();
      (*step_seconds)[s] = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    }
  } catch (const dnnl::error& e) {
    throw EngineError(std::string("run: oneDNN: ") + e.what());
  } catch (const KernelError& e) {
    throw EngineError(std::string("run: ") + e.what());
  }
}

}  // namespace

std::vector<Tensor> CompiledModel::run(const std::vector<Tensor>& inputs) {
  std::vector<Tensor> outputs = bind(*impl_, inputs);
  run_steps(*impl_, nullptr);
  return outputs;
}

std::vector<double> CompiledModel::profile_nodes(const std::vector<Tensor>& inputs, int runs) {
  if (runs < 1) throw EngineError("profile_nodes: runs must be >= 1, got " + std::to_string(runs));
  Impl& m = *impl_;
  const std::vector<Tensor> outputs = bind(m, inputs);  // the steps write into these: keep them alive
  run_steps(m, nullptr);  // warm-up: first-touch page faults, oneDNN's lazily generated kernels
  std::vector<std::vector<double>> node_runs(m.graph_nodes, std::vector<double>(static_cast<std::size_t>(runs), 0.0));
  std::vector<double> step_seconds;
  for (int r = 0; r < runs; ++r) {
    run_steps(m, &step_seconds);
    for (std::size_t s = 0; s < m.steps.size(); ++s)
      if (m.steps[s]->node >= 0)
        node_runs[static_cast<std::size_t>(m.steps[s]->node)][static_cast<std::size_t>(r)] += step_seconds[s];
  }
  std::vector<double> median_ms;
  median_ms.reserve(m.graph_nodes);
  for (auto& times : node_runs) {
    const auto middle = times.begin() + static_cast<std::ptrdiff_t>(times.size() / 2);
    std::nth_element(times.begin(), middle, times.end());
    median_ms.push_back(*middle * 1e3);
  }
  return median_ms;
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
