#pragma once
// The facade every client goes through (the CLI, a server, a user's program): a Runtime owns the machine's
// topology, the profile store and the caches; it loads pipeline files, profiles and plans them, and starts
// them as running pipelines with `plan: auto` and `split:` honoured; it also compiles single models.
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "conveyor/api/model.hpp"
#include "conveyor/api/model_split.hpp"
#include "conveyor/api/predictions.hpp"
#include "conveyor/api/running_pipeline.hpp"
#include "conveyor/api/simulation.hpp"
#include "conveyor/config/deployment_config.hpp"
#include "conveyor/config/pipeline_config.hpp"
#include "conveyor/ops/registry.hpp"
#include "conveyor/plan/deployment.hpp"
#include "conveyor/plan/planner.hpp"
#include "conveyor/plan/profile_stage.hpp"
#include "conveyor/plan/profile_store.hpp"
#include "conveyor/runtime/topology.hpp"

namespace conveyor {

struct RuntimeOptions {
  std::filesystem::path profile_dir;        // empty: plan::ProfileStore::default_dir()
  std::filesystem::path segment_cache_dir;  // node costs of split models; empty: default_segment_cache_dir()
  std::optional<Topology> topology;         // the cores pipelines may use; empty: this machine's
  // What the runtime does on its own initiative, in words (profiling a stage plan: auto needs, the plan it
  // chose). Default: nothing is said.
  std::function<void(const std::string&)> on_note;
};

// The load a pipeline is planned for. Neither set: closed loop at the planner's default concurrency.
struct PlannedLoad {
  std::optional<double> rate_rps;  // open loop: Poisson arrivals per second
  std::optional<int> concurrency;  // closed loop: requests kept in flight
};

// The name of the stage a server's front end is planned as (PlanOptions::front_end); no pipeline stage may
// have it then.
inline constexpr const char* kFrontEndStage = "front end";

struct PlanOptions {
  std::vector<int> cores;  // the core budget (ids); empty: the runtime's topology
  PlannedLoad load;
  // A server's front end as the pipeline's first stage (its name is kFrontEndStage, its role kFrontEnd):
  // the plan gives it cores of its own, or shares them with light stages, never with a model.
  std::optional<plan::StageProfile> front_end;
  std::optional<double> slo_p99_s;
  plan::Objective objective = plan::Objective::kThroughput;
  uint64_t sim_requests = 20000;  // 0: analytic predictions only
  bool merge = true;              // may run consecutive stages on the same workers
};

struct DeploymentPlanOptions {
  std::vector<int> cores;                            // empty: the file's budget, else the runtime's topology
  std::optional<plan::AllocationStrategy> strategy;  // empty: priority when priorities differ, else history
  uint64_t sim_requests = 20000;
  bool merge = true;
};

struct SimulationOptions {
  std::vector<int> cores;  // the core budget (ids); empty: the runtime's topology
  PlannedLoad load;        // neither set: closed loop at 2 x the workers
  bool planned = false;    // simulate the planner's configuration instead of the file's
  uint64_t requests = 20000;
  uint64_t seed = 1;
};

struct ProfileOptions {
  std::vector<int> threads;  // thread counts to measure; empty: 1..the topology's cores
  plan::ProfileRunOptions run;
};

// One stage measured at one thread count by Runtime::profile.
struct StageProfileRun {
  std::string stage;
  int threads = 1;
  int batch = 1;  // a batching stage's runs of this many requests at once: the samples are whole batches
  plan::StageMeasurement measurement;  // outputs dropped
  plan::ProfileEntry stored;           // the store's entry after adding it
};

struct StartOptions {
  // plan: auto measures stages without a stored profile on these (the first stage's inputs).
  std::vector<Sample> profiling_inputs;
  PlannedLoad load;  // plan: auto plans for it
  // A server's front end: plan: auto plans it with the stages (PlanOptions::front_end).
  std::optional<plan::StageProfile> front_end;
  // The requests come from a load generator (bench): their arrival times are not demand, so the history
  // keeps none of them (service times are kept).
  bool generated_load = false;
  // Keep the timeline of the first this many results (RunningPipeline::timeline, for a trace or a plot);
  // 0: keep none.
  std::size_t timeline_requests = 0;
};

class Runtime {
 public:
  explicit Runtime(RuntimeOptions options = {});
  ~Runtime();
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;

  const Topology& topology() const;
  plan::ProfileStore& profiles();
  const plan::ProfileStore& profiles() const;
  const OperatorRegistry& operators() const;  // the built-in operators

  // Pipeline files (format: README). Throw ConfigError naming file, line and key.
  PipelineConfig load(const std::filesystem::path& file) const;
  PipelineConfig parse(const std::string& yaml_text, const std::filesystem::path& origin = "<string>") const;

  // `config` with every `split:` stage replaced by its model-segment stages, cut with what the profile
  // store knows of the other stages; the stages every other call plans, profiles and runs.
  PipelineConfig expand(const PipelineConfig& config) const;

  // Stored profiles of a stage of an expanded config on this CPU: at one thread count, or all of them.
  std::optional<plan::ProfileEntry> stored_profile(const PipelineConfig& config, const StageConfig& stage,
                                                   int threads) const;
  std::vector<plan::ProfileEntry> stored_profiles(const PipelineConfig& config,
                                                  const StageConfig& stage) const;

  // Measures every stage of `config` (expanded first) alone at each thread count on `inputs` (the first
  // stage's inputs; each later stage runs on its predecessor's outputs), stores the times, and then
  // measures segments of a `split: auto` stage that cut differently now. `on_run` sees each measurement
  // as it is stored; `on_resplit` each re-cut stage before it is measured.
  std::vector<StageProfileRun> profile(const PipelineConfig& config, std::vector<Sample> inputs,
                                       const ProfileOptions& options = {},
                                       const std::function<void(const StageProfileRun&)>& on_run = {},
                                       const std::function<void(const std::string&)>& on_resplit = {});

  // Plans `config` (expanded first) from stored profiles. Throws MissingProfilesError when a stage has none.
  plan::Plan plan(const PipelineConfig& config, const PlanOptions& options = {}) const;
  // Simulates `config` (expanded first) as written, or as planned, from stored profiles at the thread counts
  // it would run with. Throws MissingProfilesError, or BudgetExceededError when the file's layout needs more
  // cores than the budget.
  Simulation simulate(const PipelineConfig& config, const SimulationOptions& options = {}) const;
  // Divides cores among a deployment's pipelines, then plans each on its share.
  plan::Deployment plan_deployment(const DeploymentConfig& config,
                                   const DeploymentPlanOptions& options = {}) const;

  // Expands, plans (`plan: auto`, profiling what it lacks on options.profiling_inputs), builds every
  // operator and starts the pipeline. Throws ConfigError, ResourceError, MissingProfilesError.
  std::unique_ptr<RunningPipeline> start(PipelineConfig config, const StartOptions& options = {});
  std::unique_ptr<RunningPipeline> start(const std::filesystem::path& file, const StartOptions& options = {});
  // The baseline pipelining is measured against: every stage of `config` (expanded, plan ignored) run one
  // after the other by a single worker that owns every core, one request at a time per core team.
  std::unique_ptr<RunningPipeline> start_unpipelined(PipelineConfig config, const std::string& name);

  // The analytic model's and the simulator's numbers for a started configuration (each stage's workers and
  // threads as `metrics` reports them, its stored service time there) under `workload`; nothing when a
  // stage has no stored profile at the thread count it ran with. Call before its history is saved.
  std::optional<Predictions> predict(const RunningPipeline& running, const PipelineMetrics& metrics,
                                     const plan::Workload& workload) const;

  // One ONNX model: imported (throws GraphError naming the file and node), then compiled on the calling
  // thread (see Model); load_model does both.
  Graph import_model(const std::filesystem::path& file, const ModelOptions& options = {}) const;
  Model compile_model(Graph graph, const ModelOptions& options = {}) const;
  Model load_model(const std::filesystem::path& file, const ModelOptions& options = {}) const;
  // Cuts one ONNX model into balanced model segments (what `split:` does inside a pipeline, shown and
  // exported on its own). Throws GraphError for a model it cannot read, PinError for a pin it cannot use.
  ModelSplit split_model(const std::filesystem::path& file, const ModelSplitOptions& options) const;

 private:
  struct State;
  std::shared_ptr<State> state_;  // shared with the pipelines it starts
};

// The hardware threads of the first `count` physical cores of `machine`; beyond its size (what-if plans),
// new ids after its highest, one core each.
std::vector<int> core_budget(int count, const Topology& machine);

}  // namespace conveyor
