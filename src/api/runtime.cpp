#include "conveyor/api/runtime.hpp"

#include <algorithm>
#include <stdexcept>

#include <fmt/format.h>

#include "api/auto_plan.hpp"
#include "api/deployment_request.hpp"
#include "api/predicted_performance.hpp"
#include "api/run_history.hpp"
#include "api/stage_profiles.hpp"
#include "api/stage_signatures.hpp"
#include "conveyor/config/stage_runs.hpp"
#include "conveyor/graph/onnx_import.hpp"
#include "conveyor/runtime/merged_stage.hpp"
#include "conveyor/runtime/promised_result.hpp"

namespace conveyor {

struct Runtime::State {
  RuntimeOptions options;
  Topology topology;
  plan::ProfileStore store;

  explicit State(RuntimeOptions o)
      : options(std::move(o)),
        topology(options.topology ? *options.topology : Topology::detect()),
        store(options.profile_dir.empty() ? plan::ProfileStore::default_dir() : options.profile_dir) {}

  void note(const std::string& text) const {
    if (options.on_note) options.on_note(text);
  }
};

// What the stages write together, as far as every operator says (one that says nothing: not known).
std::optional<std::vector<TensorSignature>> stage_outputs_of(const std::vector<StageSpec>& stages) {
  std::vector<TensorSignature> outputs;
  for (const auto& stage : stages) {
    if (stage.signature.inputs.empty() && stage.signature.outputs.empty()) return std::nullopt;
    outputs.insert(outputs.end(), stage.signature.outputs.begin(), stage.signature.outputs.end());
  }
  return outputs;
}

struct RunningPipeline::State {
  std::shared_ptr<void> runtime;       // the starting Runtime's state: alive as long as this pipeline
  const Topology* topology = nullptr;  // in it
  plan::ProfileStore* store = nullptr;
  PipelineConfig config;
  std::optional<plan::Plan> plan;
  OperatorSignature signature;                                // what the stages read and write together
  std::optional<std::vector<TensorSignature>> stage_outputs;  // what each stage writes, in stage order
  RunHistory history;                                         // before the pipeline: outlives its callbacks
  bool arrivals_are_demand = true;                            // !StartOptions::generated_load
  std::unique_ptr<TimelineRecorder> timeline;                 // likewise; null when none is kept
  std::unique_ptr<Pipeline> pipeline;                         // destroyed (drained) first
};

Runtime::Runtime(RuntimeOptions options) : state_(std::make_shared<State>(std::move(options))) {}
Runtime::~Runtime() = default;

const Topology& Runtime::topology() const {
  return state_->topology;
}
plan::ProfileStore& Runtime::profiles() {
  return state_->store;
}
const plan::ProfileStore& Runtime::profiles() const {
  return state_->store;
}
const OperatorRegistry& Runtime::operators() const {
  return builtin_operators();
}

PipelineConfig Runtime::load(const std::filesystem::path& file) const {
  return load_pipeline_config(file);
}

PipelineConfig Runtime::parse(const std::string& yaml_text, const std::filesystem::path& origin) const {
  return parse_pipeline_config(yaml_text, origin);
}

PipelineConfig Runtime::expand(const PipelineConfig& config) const {
  return expand_with_profiles(config, state_->store, state_->topology.cpu_model(),
                              state_->options.segment_cache_dir, state_->topology);
}

std::optional<plan::ProfileEntry> Runtime::stored_profile(const PipelineConfig& config,
                                                          const StageConfig& stage, int threads) const {
  return state_->store.lookup(stage_identity(config, stage), threads, state_->topology.cpu_model());
}

std::vector<plan::ProfileEntry> Runtime::stored_profiles(const PipelineConfig& config,
                                                         const StageConfig& stage) const {
  return state_->store.lookup_all_threads(stage_identity(config, stage), state_->topology.cpu_model());
}

std::vector<StageProfileRun> Runtime::profile(const PipelineConfig& file_config, std::vector<Sample> inputs,
                                              const ProfileOptions& options,
                                              const std::function<void(const StageProfileRun&)>& on_run,
                                              const std::function<void(const std::string&)>& on_resplit) {
  const Topology& machine = state_->topology;
  std::vector<int> threads = options.threads;
  if (threads.empty())
    for (int t = 1; t <= machine.thread_count(); ++t) threads.push_back(t);
  std::sort(threads.begin(), threads.end());
  if (threads.front() < 1 || threads.back() > machine.thread_count())
    throw std::invalid_argument("cannot profile at " + std::to_string(threads.back()) +
                                " threads: the machine has " + std::to_string(machine.thread_count()) +
                                " hardware threads (" + machine.describe() + ")");
  if (inputs.empty()) throw std::invalid_argument("no inputs to profile the stages on");
  const std::vector<Sample> first_inputs = inputs;
  const PipelineConfig config = expand(file_config);
  const std::vector<StageSpec> specs = build_checked_stage_specs(config, operators());
  std::vector<StageProfileRun> runs;
  for (std::size_t s = 0; s < specs.size(); ++s) {
    const StageConfig& stage = config.stages[s];
    std::vector<Sample> next;
    for (int t : threads) {
      StageProfileRun run;
      run.stage = stage.name;
      run.threads = t;
      run.measurement = plan::profile_stage(specs[s], t, inputs, options.run, machine);
      run.stored = state_->store.record(stage_identity(config, stage), stage.name, t, run.measurement.service,
                                        machine.cpu_model());
      if (next.empty()) next = std::move(run.measurement.outputs);  // the next stage's inputs
      run.measurement.outputs.clear();
      if (on_run) on_run(run);
      runs.push_back(std::move(run));
    }
    record_batch_profiles(config, stage, specs[s], inputs, threads, state_->store, options.run, machine,
                          [&](int size, int t, const plan::StageMeasurement& m, const plan::ProfileEntry& entry) {
                            StageProfileRun run{stage.name, t, size, m, entry};
                            if (on_run) on_run(run);
                            runs.push_back(std::move(run));
                          });
    inputs = std::move(next);
  }
  // split: auto may cut differently now that the other stages' times are stored: measure those segments
  // too, so that planning and starting (which expand with what is stored) find profiles for every stage.
  profile_missing_stages(
      expand(file_config), first_inputs, threads, state_->store, options.run,
      on_resplit ? on_resplit : [](const std::string&) {}, machine);
  return runs;
}

plan::Plan Runtime::plan(const PipelineConfig& file_config, const PlanOptions& options) const {
  const PipelineConfig config = expand(file_config);
  plan::Plan chosen = plan_pipeline(config, state_->store, state_->topology, options);
  std::vector<std::string> notes;  // how the model stages were cut comes before how they were planned
  for (const auto& split : config.auto_splits) notes.push_back(split.summary);
  chosen.notes.insert(chosen.notes.begin(), notes.begin(), notes.end());
  return chosen;
}

plan::Deployment Runtime::plan_deployment(const DeploymentConfig& config,
                                          const DeploymentPlanOptions& options) const {
  const plan::AllocationStrategy strategy = options.strategy.value_or(default_strategy(config));
  plan::DeploymentRequest request = deployment_request(config, state_->store, state_->topology,
                                                       state_->options.segment_cache_dir, strategy);
  if (!options.cores.empty())
    request.cores = options.cores;
  else if (!config.core_ids.empty())
    request.cores = config.core_ids;
  else if (config.core_count > 0)
    request.cores = core_budget(config.core_count, state_->topology);
  else
    request.cores = state_->topology.cpus();
  request.topology = &state_->topology;
  request.sim_requests = options.sim_requests;
  request.merge = options.merge;
  return plan::allocate_deployment(request);
}

std::unique_ptr<RunningPipeline> Runtime::start(PipelineConfig config, const StartOptions& options) {
  auto state = std::make_unique<RunningPipeline::State>();
  state->runtime = state_;
  state->topology = &state_->topology;
  state->store = &state_->store;
  state->config = expand(config);
  state->arrivals_are_demand = !options.generated_load;
  for (const auto& split : state->config.auto_splits) state_->note(split.summary);
  if (state->config.plan == PlanMode::kAuto)
    state->plan = apply_auto_plan(state->config, options, state_->store, state_->topology,
                                  [this](const std::string& text) { state_->note(text); });
  std::vector<StageSpec> built = build_checked_stage_specs(state->config, operators());
  for (std::size_t s = 0; s < built.size(); ++s)  // one spec per stage of the config, in its order
    if (StageSpec& spec = built[s]; spec.batch.batches() && !spec.signature.batches) {
      state_->note(fmt::format("stage '{}': not batched: {}", spec.name,
                               spec.signature.not_batched.empty()
                                   ? "op " + state->config.stages[s].op + " runs one request at a time"
                                   : spec.signature.not_batched));
      spec.batch = BatchSpec{};
    }
  state->stage_outputs = stage_outputs_of(built);
  auto specs = merge_stage_runs(state->config, std::move(built));
  state->signature = chain_signature(specs);
  state->pipeline = std::make_unique<Pipeline>(state->config.options, std::move(specs), state_->topology);
  if (options.timeline_requests > 0)
    state->timeline = std::make_unique<TimelineRecorder>(*state->pipeline, options.timeline_requests);
  return std::make_unique<RunningPipeline>(std::move(state));
}

std::unique_ptr<RunningPipeline> Runtime::start_unpipelined(PipelineConfig config, const std::string& name) {
  auto state = std::make_unique<RunningPipeline::State>();
  state->runtime = state_;
  state->topology = &state_->topology;
  state->store = &state_->store;
  state->config = expand(config);
  state->config.plan = PlanMode::kManual;
  std::vector<StageSpec> built = build_checked_stage_specs(state->config, operators());
  state->stage_outputs = stage_outputs_of(built);
  StageSpec all = merge_stages(std::move(built), name);
  // The history sees what runs: one merged run of every stage, each member timed on its own.
  for (std::size_t s = 1; s < state->config.stages.size(); ++s) state->config.stages[s].with_previous = true;
  all.cores.kind = CoreSpec::Kind::kCount;
  all.cores.per_worker = state_->topology.core_count();
  state->signature = all.signature;
  std::vector<StageSpec> one;
  one.push_back(std::move(all));
  PipelineOptions options = state->config.options;
  options.name = name;
  state->pipeline = std::make_unique<Pipeline>(options, std::move(one), state_->topology);
  return std::make_unique<RunningPipeline>(std::move(state));
}

std::unique_ptr<RunningPipeline> Runtime::start(const std::filesystem::path& file,
                                                const StartOptions& options) {
  return start(load(file), options);
}

std::optional<Predictions> Runtime::predict(const RunningPipeline& running, const PipelineMetrics& metrics,
                                            const plan::Workload& workload) const {
  return predict_configuration(running.config(), metrics, state_->store, state_->topology.cpu_model(),
                               workload, running.plan());
}

Graph Runtime::import_model(const std::filesystem::path& file, const ModelOptions& options) const {
  ImportOptions import;
  import.dims = options.dims;
  return load_onnx(file.string(), import);
}

Model Runtime::compile_model(Graph graph, const ModelOptions& options) const {
  EngineOptions engine;
  engine.threads = options.threads > 0 ? options.threads : state_->topology.thread_count();
  CompiledModel compiled = CompiledModel::compile(graph, engine);
  return Model(std::move(graph), std::move(compiled));
}

Model Runtime::load_model(const std::filesystem::path& file, const ModelOptions& options) const {
  return compile_model(import_model(file, options), options);
}

std::vector<int> core_budget(int count, const Topology& machine) {
  if (count < 1) throw std::invalid_argument("a core budget needs at least 1 core");
  const auto& cores = machine.cores();
  std::vector<int> threads;  // physical cores, with all their hardware threads
  const int real = std::min<int>(count, static_cast<int>(cores.size()));
  for (int c = 0; c < real; ++c)
    threads.insert(threads.end(), cores[static_cast<std::size_t>(c)].hardware_threads.begin(),
                   cores[static_cast<std::size_t>(c)].hardware_threads.end());
  // Beyond the machine, for what-ifs: ids no hardware thread has, each a core of its own.
  int next = machine.cpus().empty() ? 0 : *std::max_element(machine.cpus().begin(), machine.cpus().end()) + 1;
  for (int c = real; c < count; ++c) threads.push_back(next++);
  return threads;
}

// ---- RunningPipeline ----

RunningPipeline::RunningPipeline(std::unique_ptr<State> state) : state_(std::move(state)) {}
RunningPipeline::~RunningPipeline() {
  try {
    if (state_ && state_->pipeline) state_->pipeline->shutdown(ShutdownMode::kDrain);
  } catch (...) {  // ~Pipeline drains again; a destructor must not throw
  }
}

Pipeline& RunningPipeline::pipeline() {
  return *state_->pipeline;
}
const Pipeline& RunningPipeline::pipeline() const {
  return *state_->pipeline;
}
const PipelineConfig& RunningPipeline::config() const {
  return state_->config;
}
const std::optional<plan::Plan>& RunningPipeline::plan() const {
  return state_->plan;
}
const OperatorSignature& RunningPipeline::signature() const {
  return state_->signature;
}
const std::optional<std::vector<TensorSignature>>& RunningPipeline::stage_outputs() const {
  return state_->stage_outputs;
}

ResultCallback RunningPipeline::recording(ResultCallback on_done) {
  return [this, on_done = std::move(on_done)](Result&& result) {
    record(result);
    on_done(std::move(result));
  };
}

void RunningPipeline::submit(Sample sample, ResultCallback on_done) {
  state_->pipeline->submit(std::move(sample), recording(std::move(on_done)));
}

std::future<Result> RunningPipeline::submit(Sample sample) {
  auto [on_done, future] = promised_result();
  submit(std::move(sample), std::move(on_done));
  return std::move(future);
}

bool RunningPipeline::try_submit(Sample sample, ResultCallback on_done, std::chrono::milliseconds wait) {
  return state_->pipeline->try_submit(std::move(sample), recording(std::move(on_done)), wait);
}

std::optional<std::future<Result>> RunningPipeline::try_submit(Sample sample,
                                                               std::chrono::milliseconds wait) {
  auto [on_done, future] = promised_result();
  if (!try_submit(std::move(sample), std::move(on_done), wait)) return std::nullopt;
  return std::move(future);
}

bool RunningPipeline::cancel(uint64_t sample_id) {
  return state_->pipeline->cancel(sample_id);
}

void RunningPipeline::record(const Result& result) {
  try {
    state_->history.add(result);
    if (state_->timeline) state_->timeline->record(result);
  } catch (const std::exception&) {  // a result the history cannot take is still the client's
  }
}

std::optional<Timeline> RunningPipeline::timeline() const {
  if (!state_->timeline) return std::nullopt;
  return state_->timeline->timeline();
}

std::string RunningPipeline::save_history() {
  return state_->history.save(state_->config, state_->pipeline->metrics(), *state_->store,
                              state_->topology->cpu_model(), state_->arrivals_are_demand);
}

}  // namespace conveyor
