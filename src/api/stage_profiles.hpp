#pragma once
#include <functional>
#include <string>
#include <vector>

#include "conveyor/api/runtime.hpp"
#include "conveyor/config/pipeline_config.hpp"
#include "conveyor/plan/planner.hpp"
#include "conveyor/plan/profile_stage.hpp"
#include "conveyor/plan/profile_store.hpp"
#include "conveyor/runtime/topology.hpp"

namespace conveyor {

// Glue between pipeline configs and the plan layer's profiles, behind the Runtime facade.

plan::StageIdentity stage_identity(const PipelineConfig& config, const StageConfig& stage);

// The batch sizes above 1 a batching stage is profiled at (its run sizes; batch: auto: those it may choose).
std::vector<int> profiled_batch_sizes(const StageConfig& stage);

// How the simulator runs `stage` batching as `spec` says at `threads` (one request taking `one`), with each
// batch size's time stored on this CPU; sizes never stored are listed in `guessed` (plan::simulated_batch).
plan::SimBatch stored_batching(const PipelineConfig& config, const StageConfig& stage, const BatchSpec& spec,
                               int threads, const plan::ServiceTime& one, const plan::ProfileStore& store,
                               const std::string& cpu_model, std::vector<int>* guessed = nullptr);

// Measures a batching stage's batches of each profiled size at each of `threads` on `inputs` and stores
// them (plan::batch_identity); nothing when its operator does not batch. `on_run` sees each (size, threads).
void record_batch_profiles(const PipelineConfig& config, const StageConfig& stage, const StageSpec& spec,
                           const std::vector<Sample>& inputs, const std::vector<int>& threads,
                           plan::ProfileStore& store, const plan::ProfileRunOptions& run, const Topology& machine,
                           const std::function<void(int, int, const plan::StageMeasurement&,
                                                    const plan::ProfileEntry&)>& on_run);

// Every stage's stored profiles on this CPU (all thread counts). Throws MissingProfilesError naming each
// stage without a 1-thread profile.
std::vector<plan::StageProfile> load_stage_profiles(const PipelineConfig& config,
                                                    const plan::ProfileStore& store,
                                                    const std::string& cpu_model);

// Measures, at each of `threads`, every stage with no stored 1-thread profile on this CPU and stores the
// times. Earlier stages run once over `inputs` only to produce the later stages' inputs. `announce` is
// told each stage before it is measured. Returns the names of the stages measured.
std::vector<std::string> profile_missing_stages(const PipelineConfig& config, std::vector<Sample> inputs,
                                                const std::vector<int>& threads, plan::ProfileStore& store,
                                                const plan::ProfileRunOptions& run,
                                                const std::function<void(const std::string&)>& announce,
                                                const Topology& machine);

// expand_splits with what `store` knows of the other stages (their mean time per item over their workers
// at the configured threads), so `split: auto` cuts a model no finer than the rest of the pipeline can
// follow. Every client expands a file through this, so with the same stored profiles they all see the same
// segment stages.
PipelineConfig expand_with_profiles(const PipelineConfig& config, const plan::ProfileStore& store,
                                    const std::string& cpu_model,
                                    const std::filesystem::path& segment_cache_dir, const Topology& machine);

// The planner's choice for an expanded config from the profiles `store` holds, on `machine` (or the cores
// `options` names), in the config's smt mode and admission limits; with options.front_end, the front end
// is its first stage.
plan::Plan plan_pipeline(const PipelineConfig& config, const plan::ProfileStore& store,
                         const Topology& machine, const PlanOptions& options);

// Writes the plan's workers, threads and core ids (and, for batch: auto, its batch) into the stages of
// `config` (same order and names; a planned front end is skipped).
void apply_plan(PipelineConfig& config, const plan::Plan& plan);

}  // namespace conveyor
