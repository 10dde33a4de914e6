#include "conveyor/runtime/core_allocation.hpp"

#include <algorithm>
#include <map>
#include <string>

namespace conveyor {
namespace {

std::string stage_label(const StageSpec& stage) { return "stage '" + stage.name + "'"; }

void validate(const StageSpec& stage, const Topology& topology) {
  if (stage.workers < 1) throw ResourceError(stage_label(stage) + ": workers must be >= 1");
  if (stage.threads < 0) throw ResourceError(stage_label(stage) + ": threads must be >= 0");
  if (stage.cores.kind == CoreSpec::Kind::kCount) {
    if (stage.cores.per_worker < 1) throw ResourceError(stage_label(stage) + ": cores per worker must be >= 1");
    if (stage.cores.per_worker > topology.size())
      throw ResourceError(stage_label(stage) + ": asks for " + std::to_string(stage.cores.per_worker) +
                          " cores per worker, the machine has " + std::to_string(topology.size()) + " (" +
                          topology.describe() + ")");
  }
  if (stage.cores.kind == CoreSpec::Kind::kIds) {
    if (stage.cores.ids.empty()) throw ResourceError(stage_label(stage) + ": empty core list");
    if (stage.cores.ids.size() % static_cast<std::size_t>(stage.workers) != 0)
      throw ResourceError(stage_label(stage) + ": " + std::to_string(stage.cores.ids.size()) +
                          " cores cannot be split evenly among " + std::to_string(stage.workers) + " workers");
    std::vector<int> sorted = stage.cores.ids;
    std::sort(sorted.begin(), sorted.end());
    if (std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end())
      throw ResourceError(stage_label(stage) + ": core list [" + format_cpu_list(stage.cores.ids) +
                          "] names a core twice");
    for (int id : stage.cores.ids)
      if (!topology.contains(id))
        throw ResourceError(stage_label(stage) + ": core " + std::to_string(id) +
                            " does not exist or is not available (available: " + format_cpu_list(topology.cpus()) +
                            ")");
  }
}

}  // namespace

std::vector<std::vector<WorkerPlacement>> allocate_cores(const std::vector<StageSpec>& stages,
                                                         const Topology& topology) {
  for (const auto& stage : stages) validate(stage, topology);

  std::map<int, int> users;             // cpu -> workers pinned to it
  std::map<int, std::string> owner;     // cpu -> exclusive owner stage
  std::vector<std::vector<WorkerPlacement>> placement(stages.size());

  auto claim = [&](const StageSpec& stage, int cpu) {
    if (!stage.cores.shared) {
      auto it = owner.find(cpu);
      if (it != owner.end() && it->second != stage.name)
        throw ResourceError(stage_label(stage) + ": core " + std::to_string(cpu) + " is already owned by stage '" +
                            it->second + "' (set share_cores to allow sharing)");
      owner[cpu] = stage.name;
    }
    ++users[cpu];
  };

  // Pass 1: explicit ids; pass 2: exclusive counts; pass 3: shared counts; unpinned stages need nothing.
  for (std::size_t s = 0; s < stages.size(); ++s) {
    const StageSpec& stage = stages[s];
    if (stage.cores.kind != CoreSpec::Kind::kIds) continue;
    const std::size_t per = stage.cores.ids.size() / static_cast<std::size_t>(stage.workers);
    for (int w = 0; w < stage.workers; ++w) {
      WorkerPlacement p;
      p.cores.assign(stage.cores.ids.begin() + static_cast<std::ptrdiff_t>(w * per),
                     stage.cores.ids.begin() + static_cast<std::ptrdiff_t>((w + 1) * per));
      placement[s].push_back(p);
    }
  }
  for (std::size_t s = 0; s < stages.size(); ++s)
    if (stages[s].cores.kind == CoreSpec::Kind::kIds)
      for (int cpu : stages[s].cores.ids) claim(stages[s], cpu);

  for (int pass = 0; pass < 2; ++pass) {
    const bool shared_pass = pass == 1;
    for (std::size_t s = 0; s < stages.size(); ++s) {
      const StageSpec& stage = stages[s];
      if (stage.cores.kind != CoreSpec::Kind::kCount || stage.cores.shared != shared_pass) continue;
      const int need = stage.workers * stage.cores.per_worker;
      std::vector<int> candidates;
      for (int cpu : topology.cpus())
        if (!owner.count(cpu)) candidates.push_back(cpu);
      if (shared_pass) {
        // Shared stages may use any core: prefer the least used, keeping topology order among equals.
        candidates = topology.cpus();
        std::stable_sort(candidates.begin(), candidates.end(),
                         [&](int a, int b) { return users[a] < users[b]; });
        while (static_cast<int>(candidates.size()) < need) {
          const std::size_t n = candidates.size();
          for (std::size_t i = 0; i < n && static_cast<int>(candidates.size()) < need; ++i)
            candidates.push_back(candidates[i]);
        }
      } else if (static_cast<int>(candidates.size()) < need) {
        throw ResourceError(stage_label(stage) + ": needs " + std::to_string(need) + " cores (" +
                            std::to_string(stage.workers) + " workers x " + std::to_string(stage.cores.per_worker) +
                            "), only " + std::to_string(candidates.size()) + " of the machine's " +
                            std::to_string(topology.size()) +
                            " are free; give it fewer, or set share_cores to let stages share cores");
      }
      for (int w = 0; w < stage.workers; ++w) {
        WorkerPlacement p;
        for (int c = 0; c < stage.cores.per_worker; ++c) {
          const int cpu = candidates[static_cast<std::size_t>(w * stage.cores.per_worker + c)];
          p.cores.push_back(cpu);
          claim(stage, cpu);
        }
        placement[s].push_back(p);
      }
    }
  }

  for (std::size_t s = 0; s < stages.size(); ++s) {
    const StageSpec& stage = stages[s];
    if (stage.cores.kind == CoreSpec::Kind::kUnpinned) placement[s].assign(static_cast<std::size_t>(stage.workers), {});
    for (auto& p : placement[s])
      p.threads = stage.threads > 0 ? stage.threads : std::max<int>(1, static_cast<int>(p.cores.size()));
  }
  return placement;
}

}  // namespace conveyor
