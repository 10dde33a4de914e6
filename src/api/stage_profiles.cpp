#include "api/stage_profiles.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <stdexcept>

#include "api/split_stages.hpp"
#include "api/stage_signatures.hpp"
#include "conveyor/api/errors.hpp"
#include "conveyor/config/stage_runs.hpp"
#include "conveyor/runtime/core_allocation.hpp"

namespace conveyor {

plan::StageIdentity stage_identity(const PipelineConfig& config, const StageConfig& stage) {
  return {stage.op, stage.args, config.base_dir};
}

std::vector<int> profiled_batch_sizes(const StageConfig& stage) {
  std::vector<int> sizes;
  if (!stage.batch.batches()) return sizes;
  for (const int size : stage.batch.run_sizes())
    if (size > 1) sizes.push_back(size);
  return sizes;
}

plan::SimBatch stored_batching(const PipelineConfig& config, const StageConfig& stage, const BatchSpec& spec,
                               int threads, const plan::ServiceTime& one, const plan::ProfileStore& store,
                               const std::string& cpu_model, std::vector<int>* guessed) {
  plan::StageProfile profile;
  profile.by_threads[threads] = one;
  for (const int size : spec.run_sizes())
    if (size > 1)
      if (const auto entry = store.lookup(plan::batch_identity(stage_identity(config, stage), size), threads,
                                          cpu_model);
          entry && entry->count() > 0)
        profile.by_batch[size][threads] = entry->service_time();
  return plan::simulated_batch(profile, threads, spec, guessed);
}

std::vector<plan::StageProfile> load_stage_profiles(const PipelineConfig& config,
                                                    const plan::ProfileStore& store,
                                                    const std::string& cpu_model) {
  std::vector<plan::StageProfile> profiles;
  std::vector<std::string> missing, missing_names;
  for (const auto& stage : config.stages) {
    plan::StageProfile p;
    p.name = stage.name;
    if (stage.op == "onnx") p.role = plan::StageProfile::Role::kModel;
    for (const auto& entry : store.lookup_all_threads(stage_identity(config, stage), cpu_model))
      p.by_threads[entry.threads] = entry.service_time();
    p.batch = stage.batch;
    p.choose_batch = stage.batch_auto;
    for (const int size : profiled_batch_sizes(stage))
      for (const auto& entry :
           store.lookup_all_threads(plan::batch_identity(stage_identity(config, stage), size), cpu_model))
        p.by_batch[size][entry.threads] = entry.service_time();
    if (!p.by_threads.count(1)) {
      missing.push_back("'" + stage.name + "'");
      missing_names.push_back(stage.name);
    }
    profiles.push_back(std::move(p));
  }
  if (!missing.empty())
    throw MissingProfilesError(
        fmt::format("no profile on this CPU ({}) for stage{} {} of '{}' (profiles in {})", cpu_model,
                    missing.size() > 1 ? "s" : "", fmt::join(missing, ", "), config.name,
                    store.dir().string()),
        config.file.string(), missing_names);
  return profiles;
}

std::vector<std::string> profile_missing_stages(const PipelineConfig& config, std::vector<Sample> inputs,
                                                const std::vector<int>& threads, plan::ProfileStore& store,
                                                const plan::ProfileRunOptions& run,
                                                const std::function<void(const std::string&)>& announce,
                                                const Topology& machine) {
  std::vector<bool> missing;
  std::size_t last_missing = 0;
  for (std::size_t s = 0; s < config.stages.size(); ++s) {
    const plan::StageIdentity identity = stage_identity(config, config.stages[s]);
    bool lacking = !store.lookup(identity, 1, machine.cpu_model());
    for (const int size : profiled_batch_sizes(config.stages[s]))
      lacking = lacking || !store.lookup(plan::batch_identity(identity, size), 1, machine.cpu_model());
    missing.push_back(lacking);
    if (missing.back()) last_missing = s;
  }
  std::vector<std::string> measured;
  if (std::find(missing.begin(), missing.end(), true) == missing.end()) return measured;
  if (inputs.empty()) throw std::invalid_argument("no inputs to profile the stages on");
  const std::vector<StageSpec> specs = build_checked_stage_specs(config, builtin_operators());
  for (std::size_t s = 0; s <= last_missing; ++s) {
    const StageConfig& stage = config.stages[s];
    std::vector<Sample> next;
    if (!missing[s]) {  // only its outputs are needed: one pass over the inputs
      plan::ProfileRunOptions once;
      once.requests = inputs.size();
      once.warmup = 0;
      once.pin = run.pin;
      next = plan::profile_stage(specs[s], 1, inputs, once, machine).outputs;
    } else {
      announce(stage.name);
      for (int t : threads) {
        plan::StageMeasurement m = plan::profile_stage(specs[s], t, inputs, run, machine);
        store.record(stage_identity(config, stage), stage.name, t, m.service, machine.cpu_model());
        if (next.empty()) next = std::move(m.outputs);
      }
      record_batch_profiles(config, stage, specs[s], inputs, threads, store, run, machine, {});
      measured.push_back(stage.name);
    }
    inputs = std::move(next);
  }
  return measured;
}

void record_batch_profiles(
    const PipelineConfig& config, const StageConfig& stage, const StageSpec& spec,
    const std::vector<Sample>& inputs, const std::vector<int>& threads, plan::ProfileStore& store,
    const plan::ProfileRunOptions& run, const Topology& machine,
    const std::function<void(int, int, const plan::StageMeasurement&, const plan::ProfileEntry&)>& on_run) {
  if (!spec.signature.batches) return;  // the operator runs each request alone: nothing to measure
  for (const int size : profiled_batch_sizes(stage))
    for (int t : threads) {
      const plan::StageMeasurement m = plan::profile_stage_batches(spec, t, size, inputs, run, machine);
      const plan::ProfileEntry entry = store.record(plan::batch_identity(stage_identity(config, stage), size),
                                                    stage.name, t, m.service, machine.cpu_model());
      if (on_run) on_run(size, t, m, entry);
    }
}

PipelineConfig expand_with_profiles(const PipelineConfig& config, const plan::ProfileStore& store,
                                    const std::string& cpu_model,
                                    const std::filesystem::path& segment_cache_dir, const Topology& machine) {
  if (std::none_of(config.stages.begin(), config.stages.end(),
                   [](const StageConfig& s) { return s.split.has_value(); }))
    return config;  // nothing to cut (or already expanded): no profile lookups
  SplitOptions options;
  options.cache_dir = segment_cache_dir;
  options.topology = &machine;
  for (const auto& run : stage_runs(config)) {  // a merged run: its members' times add, on its head's workers
    const StageConfig& head = config.stages[run.front()];
    double run_ms = 0;
    bool known = true;
    for (std::size_t i : run) {
      const auto entry = config.stages[i].split ? std::nullopt
                                                : store.lookup(stage_identity(config, config.stages[i]),
                                                               threads_per_worker(head, machine), cpu_model);
      known = known && entry.has_value();
      if (entry) run_ms += entry->mean() * 1e3;
    }
    if (known) options.stage_ms[head.name] = run_ms / head.workers;
  }
  return expand_splits(config, options);
}

plan::Plan plan_pipeline(const PipelineConfig& config, const plan::ProfileStore& store,
                         const Topology& machine, const PlanOptions& options) {
  plan::PlanRequest request;
  request.stages = load_stage_profiles(config, store, machine.cpu_model());
  if (options.front_end) {
    for (const auto& stage : config.stages)
      if (stage.name == kFrontEndStage)
        throw std::invalid_argument(
            fmt::format("'{}' has a stage named '{}', the name the server's front end is "
                        "planned under: rename it",
                        config.name, kFrontEndStage));
    plan::StageProfile front_end = *options.front_end;
    front_end.name = kFrontEndStage;
    front_end.role = plan::StageProfile::Role::kFrontEnd;
    request.stages.insert(request.stages.begin(), std::move(front_end));
  }
  request.cores = options.cores.empty() ? machine.cpus() : options.cores;
  request.topology = &machine;
  request.smt = config.stages.empty() || config.stages.front().cores.smt;
  request.rate_rps = options.load.rate_rps;
  request.concurrency = options.load.concurrency;
  request.slo_p99_s = options.slo_p99_s;
  request.objective = options.objective;
  request.max_in_flight = config.options.max_in_flight;
  request.queue_capacity = config.options.queue_capacity;
  request.sim_requests = options.sim_requests;
  request.merge = options.merge;
  return plan::make_plan(request);
}

void apply_plan(PipelineConfig& config, const plan::Plan& plan) {
  std::size_t next = 0;  // the file's stages, taken in order by the planned stages' members
  for (const plan::StagePlan& chosen : plan.stages) {
    bool first = true;  // of the file's stages in this planned stage (the front end is none of them)
    for (const std::string& member : chosen.members) {
      if (member == kFrontEndStage && next == 0) continue;
      if (next >= config.stages.size() || config.stages[next].name != member)
        throw std::logic_error(
            fmt::format("the plan's stage '{}' does not match stage {} of '{}'", member, next, config.name));
      StageConfig& stage = config.stages[next++];
      stage.with_previous = !first;
      first = false;
      stage.workers = chosen.workers;
      stage.threads = chosen.threads;
      if (stage.batch_auto) stage.batch = chosen.batch;
      stage.cores.kind = CoreSpec::Kind::kIds;
      stage.cores.ids = chosen.cores();
      stage.cores.shared = chosen.share_cores;
    }
  }
  if (next != config.stages.size())
    throw std::logic_error(
        fmt::format("the plan covers {} stages, '{}' has {}", next, config.name, config.stages.size()));
}

}  // namespace conveyor
