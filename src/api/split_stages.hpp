#pragma once
// Segments as stages: an `onnx` stage with `split: K` (or `split: auto`) runs its model as K pipeline
// stages "<name>.0".."<name>.K-1", one per contiguous segment of the model (graph/partition.hpp cuts it).
// Each segment stage is an `onnx` stage on the same file with the original args and
// `segment: {inputs: [...], outputs: [...]}`, the model tensors bounding it: the ops layer imports the file
// once for all of them and cuts each segment out of that graph in memory (no segment file is written). Each
// segment stage gets the original stage's workers, cores (per worker, so the K segments own K times the
// cores) and threads; the activations crossing a cut travel in the Sample by name, handed on by pointer.
//
// Tensor names: a model input is read from the sample tensor the stage's `inputs` maps it to, a model
// output is written to the one its `outputs` maps it to (whichever segment reads or produces it); the
// tensors crossing a cut keep their names in the model.
//
// Node costs: each node timed inside the compiled executor on the stage's threads per worker (median of
// a few runs, on the calling thread), once per model, `dims`, threads and CPU model; the times are kept in
// <cache>/<model key>-costs.json (<model key>: a 64-bit FNV-1a hash of the model bytes and of what shapes
// the costs: `dims`, the threads, the CPU model) and reused, so a given K cuts where it did before. With a
// fixed copy bandwidth of 10 GB/s the partition is a function of those. SplitOptions can ask for the
// analytic FLOP/byte estimate instead (no compilation).
//
// `split: auto` picks K with plan::choose_auto_split (plan/choose_split.hpp; node costs on the stage's
// threads per worker):
//   K_max = the cores left for the stage — the machine's cores (Topology::detect()) minus those claimed by
//           every other stage that does not set share_cores (workers x cores) — divided by the cores one
//           segment stage needs (workers x cores per worker), at least 1 and at most the number of nodes;
//   B(K)  = max(the partition's bottleneck at K, the slowest other stage's time per item over its
//           workers (SplitOptions::stage_ms, when known) x the stage's workers): cutting the model finer
//           than the rest of the pipeline can follow gains nothing;
//   K     = the smallest K in 1..K_max such that going to K+1 segments lowers B by 5% or less (K_max when
//           every step still gains more than 5%).
#include <filesystem>
#include <map>
#include <string>

#include "conveyor/config/pipeline_config.hpp"
#include "conveyor/runtime/topology.hpp"

namespace conveyor {

struct SplitOptions {
  std::filesystem::path cache_dir;     // where node costs are kept; empty: default_segment_cache_dir()
  const Topology* topology = nullptr;  // cores split: auto may use, CPU model; null: Topology::detect()
  enum class Costs { kMeasured, kAnalytic };
  Costs costs = Costs::kMeasured;  // node costs the cut balances (see above)
  int cost_runs = 5;               // timed runs per measured node cost (median)
  // Known time per item of other stages, by stage name: mean service time / workers, in ms (from stored
  // profiles; a merged run under its first stage's name). split: auto uses the slowest.
  std::map<std::string, double> stage_ms;
};

// $XDG_CACHE_HOME/conveyor/segments, else ~/.cache/conveyor/segments, else /tmp/conveyor/segments.
std::filesystem::path default_segment_cache_dir();

// `config` with every split stage replaced by its segment stages; stages without split are copied
// unchanged. Errors are ConfigErrors at the stage's lines: an unreadable model at args.path, a K the model
// cannot be cut into (more segments than nodes) at split, a generated stage name taken by another stage at
// name.
PipelineConfig expand_splits(const PipelineConfig& config, const SplitOptions& options = {});

}  // namespace conveyor
