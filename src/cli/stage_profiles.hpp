#pragma once
#include <functional>
#include <string>
#include <vector>

#include "conveyor/config/pipeline_config.hpp"
#include "conveyor/plan/planner.hpp"
#include "conveyor/plan/profile_stage.hpp"
#include "conveyor/plan/profile_store.hpp"
#include "conveyor/runtime/topology.hpp"

namespace conveyor::cli {

// Glue between pipeline files (config) and the plan layer, shared by `profile`, `plan` and `simulate`.

plan::StageIdentity stage_identity(const PipelineConfig& config, const StageConfig& stage);

// Intra-op threads each worker of the stage runs with on this machine, as the file configures it
// (threads_per_worker).
int configured_threads(const StageConfig& stage);

// Every stage's stored profiles on this CPU (all thread counts). Throws one error listing each stage
// without a 1-thread profile and the `conveyor profile` command that measures it.
std::vector<plan::StageProfile> load_stage_profiles(const PipelineConfig& config,
                                                    const plan::ProfileStore& store,
                                                    const std::string& cpu_model);

// "4" -> the hardware threads of the first 4 usable physical cores (ids 0..3 beyond the machine's size, for
// what-ifs); "0-3,6" -> those hardware-thread ids.
std::vector<int> parse_core_budget(const std::string& text);

// "1..4" | "1,2,4" | "2" -> sorted distinct thread counts >= 1.
std::vector<int> parse_thread_counts(const std::string& text);

std::string profile_command_hint(const PipelineConfig& config, const std::string& threads);

// Measures, at each of `threads`, every stage with no stored 1-thread profile on this CPU and stores the
// times (what `conveyor profile` does for all stages). Earlier stages run once over `inputs` only to
// produce the later stages' inputs. `announce` is told each stage before it is measured. Returns the
// names of the stages measured.
std::vector<std::string> profile_missing_stages(const PipelineConfig& config, std::vector<Sample> inputs,
                                                const std::vector<int>& threads, plan::ProfileStore& store,
                                                const plan::ProfileRunOptions& run,
                                                const std::function<void(const std::string&)>& announce,
                                                const Topology& machine = Topology::detect());

// expand_splits with what `store` knows of the other stages (their mean time per item over their workers
// at the configured threads), so `split: auto` cuts a model no finer than the rest of the pipeline can
// follow. Every command expands a file through this, so with the same stored profiles they all see the same
// segment stages (`conveyor profile` measures the segments of a changed cut too).
PipelineConfig expand_with_profiles(const PipelineConfig& config, const plan::ProfileStore& store = plan::ProfileStore(),
                                    const std::string& cpu_model = Topology::detect().cpu_model());

// Writes the plan's workers, threads and core ids into the stages of `config` (same order and names).
void apply_plan(PipelineConfig& config, const plan::Plan& plan);

}  // namespace conveyor::cli
