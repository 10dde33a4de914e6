#include "conveyor/runtime/core_allocation.hpp"

#include <algorithm>
#include <map>
#include <string>

namespace conveyor {
namespace {

std::string stage_label(const StageSpec& stage) { return "stage '" + stage.name + "'"; }

std::string core_label(const PhysicalCore& core) {
  if (core.hardware_threads.size() == 1) return "core " + std::to_string(core.id());
  return "core " + std::to_string(core.id()) + " (hardware threads " +
         format_cpu_list(core.hardware_threads) + ")";
}

void validate(const StageSpec& stage, const Topology& topology) {
  if (stage.workers < 1) throw ResourceError(stage_label(stage) + ": workers must be >= 1");
  if (stage.threads < 0) throw ResourceError(stage_label(stage) + ": threads must be >= 0");
  if (stage.cores.kind == CoreSpec::Kind::kCount) {
    if (stage.cores.per_worker < 1) throw ResourceError(stage_label(stage) + ": cores per worker must be >= 1");
    if (stage.cores.per_worker > topology.core_count())
      throw ResourceError(stage_label(stage) + ": asks for " + std::to_string(stage.cores.per_worker) +
                          " cores per worker, the machine has " + std::to_string(topology.core_count()) +
                          " (" + topology.describe() + ")");
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

// The hardware threads of `ids`' slice [begin, end) of a stage's list, grouped by physical core in the
// order the cores first appear: per core, all its threads (smt) or the first one named. An id not in
// `topology` is a core of one thread.
std::vector<std::vector<int>> threads_by_core(const std::vector<int>& ids, std::size_t begin, std::size_t end,
                                              bool smt, const Topology& topology) {
  std::vector<std::vector<int>> threads;
  const std::vector<int> slice(ids.begin() + static_cast<std::ptrdiff_t>(begin),
                               ids.begin() + static_cast<std::ptrdiff_t>(end));
  for (const PhysicalCore& core : topology.cores_of(slice)) {
    if (smt) {
      threads.push_back(core.hardware_threads);
      continue;
    }
    const auto named = std::find_if(slice.begin(), slice.end(), [&](int id) {
      return std::find(core.hardware_threads.begin(), core.hardware_threads.end(), id) !=
             core.hardware_threads.end();
    });
    threads.push_back({*named});
  }
  return threads;
}

void add_core(WorkerPlacement& p, const PhysicalCore& core, bool smt) {
  p.cores.push_back(core.id());
  if (smt)
    p.hardware_threads.insert(p.hardware_threads.end(), core.hardware_threads.begin(),
                              core.hardware_threads.end());
  else
    p.hardware_threads.push_back(core.id());
}

}  // namespace

int threads_per_worker(int workers, const CoreSpec& cores, int threads, const Topology& topology) {
  if (threads > 0) return threads;
  switch (cores.kind) {
    case CoreSpec::Kind::kCount:
      return std::max(1, cores.per_worker) * (cores.smt ? topology.threads_per_core() : 1);
    case CoreSpec::Kind::kIds: {
      const std::size_t per = cores.ids.size() / static_cast<std::size_t>(std::max(1, workers));
      std::size_t n = 0;
      for (const auto& core : threads_by_core(cores.ids, 0, per, cores.smt, topology)) n += core.size();
      return std::max<int>(1, static_cast<int>(n));
    }
    case CoreSpec::Kind::kUnpinned:
      return 1;
  }
  return 1;
}

int cores_claimed(int workers, const CoreSpec& cores, const Topology& topology) {
  if (cores.shared) return 0;
  switch (cores.kind) {
    case CoreSpec::Kind::kCount:
      return workers * cores.per_worker;
    case CoreSpec::Kind::kIds:
      return static_cast<int>(threads_by_core(cores.ids, 0, cores.ids.size(), false, topology).size());
    case CoreSpec::Kind::kUnpinned:
      return 0;
  }
  return 0;
}

std::vector<std::vector<WorkerPlacement>> allocate_cores(const std::vector<StageSpec>& stages,
                                                         const Topology& topology) {
  for (const auto& stage : stages) validate(stage, topology);

  struct Owner {
    std::size_t stage;
    int worker;
    int cpu;  // the hardware thread it named (or took first)
  };
  const auto& cores = topology.cores();
  std::vector<int> users(cores.size(), 0);  // per core: workers pinned to it
  std::map<int, Owner> owner;               // core index -> its exclusive owner
  std::vector<std::vector<WorkerPlacement>> placement(stages.size());

  // `cpu` names core `c` for worker `w` of stage `s`: a stage owns its cores whole, so a sibling thread of a
  // core another stage (or another worker of this one) owns is as taken as the thread itself.
  auto claim = [&](std::size_t s, int w, int c, int cpu) {
    const StageSpec& stage = stages[s];
    if (!stage.cores.shared) {
      auto it = owner.find(c);
      if (it != owner.end() && (it->second.stage != s || it->second.worker != w)) {
        const Owner& first = it->second;
        const std::string core = core_label(cores[static_cast<std::size_t>(c)]);
        if (first.stage != s)
          throw ResourceError(stage_label(stage) + ": " +
                              (first.cpu == cpu
                                   ? core + " is already owned by stage '" + stages[first.stage].name + "'"
                                   : "hardware thread " + std::to_string(cpu) + " is a sibling of " +
                                         std::to_string(first.cpu) + " on " + core + ", which stage '" +
                                         stages[first.stage].name + "' owns") +
                              "; stages own whole physical cores unless a stage is allowed to share cores");
        throw ResourceError(stage_label(stage) + ": workers " + std::to_string(first.worker) + " and " +
                            std::to_string(w) + " would share " + core + " (hardware threads " +
                            std::to_string(first.cpu) + " and " + std::to_string(cpu) +
                            "); give each worker whole cores, or allow the stage to share cores");
      }
      owner.emplace(c, Owner{s, w, cpu});
    }
    ++users[static_cast<std::size_t>(c)];
  };

  // Pass 1: explicit ids; pass 2: exclusive counts; pass 3: shared counts; unpinned stages need nothing.
  for (std::size_t s = 0; s < stages.size(); ++s) {
    const StageSpec& stage = stages[s];
    if (stage.cores.kind != CoreSpec::Kind::kIds) continue;
    const std::size_t per = stage.cores.ids.size() / static_cast<std::size_t>(stage.workers);
    for (int w = 0; w < stage.workers; ++w) {
      const std::size_t begin = static_cast<std::size_t>(w) * per;
      WorkerPlacement p;
      for (const auto& threads :
           threads_by_core(stage.cores.ids, begin, begin + per, stage.cores.smt, topology)) {
        p.cores.push_back(
            topology.cores()[static_cast<std::size_t>(topology.core_index(threads.front()))].id());
        p.hardware_threads.insert(p.hardware_threads.end(), threads.begin(), threads.end());
      }
      if (w > 0 && p.hardware_threads.size() != placement[s].front().hardware_threads.size())
        throw ResourceError(stage_label(stage) + ": worker " + std::to_string(w) + "'s cores [" +
                            format_cpu_list(p.cores) + "] have " + std::to_string(p.hardware_threads.size()) +
                            " hardware threads to run on, worker 0's [" +
                            format_cpu_list(placement[s].front().cores) + "] have " +
                            std::to_string(placement[s].front().hardware_threads.size()) +
                            "; name as many whole cores for each worker");
      placement[s].push_back(p);
    }
  }
  for (std::size_t s = 0; s < stages.size(); ++s) {
    if (stages[s].cores.kind != CoreSpec::Kind::kIds) continue;
    const std::size_t per = stages[s].cores.ids.size() / static_cast<std::size_t>(stages[s].workers);
    for (std::size_t i = 0; i < stages[s].cores.ids.size(); ++i) {
      const int cpu = stages[s].cores.ids[i];
      claim(s, static_cast<int>(i / per), topology.core_index(cpu), cpu);
    }
  }

  for (int pass = 0; pass < 2; ++pass) {
    const bool shared_pass = pass == 1;
    for (std::size_t s = 0; s < stages.size(); ++s) {
      const StageSpec& stage = stages[s];
      if (stage.cores.kind != CoreSpec::Kind::kCount || stage.cores.shared != shared_pass) continue;
      const int need = stage.workers * stage.cores.per_worker;
      std::vector<int> candidates;  // core indices
      for (int c = 0; c < topology.core_count(); ++c)
        if (!owner.count(c)) candidates.push_back(c);
      if (shared_pass) {
        // Shared stages may use any core: prefer the least used, keeping topology order among equals.
        candidates.clear();
        for (int c = 0; c < topology.core_count(); ++c) candidates.push_back(c);
        std::stable_sort(candidates.begin(), candidates.end(), [&](int a, int b) {
          return users[static_cast<std::size_t>(a)] < users[static_cast<std::size_t>(b)];
        });
        while (static_cast<int>(candidates.size()) < need) {
          const std::size_t n = candidates.size();
          for (std::size_t i = 0; i < n && static_cast<int>(candidates.size()) < need; ++i)
            candidates.push_back(candidates[i]);
        }
      } else if (static_cast<int>(candidates.size()) < need) {
        throw ResourceError(stage_label(stage) + ": needs " + std::to_string(need) + " cores (" +
                            std::to_string(stage.workers) + " workers x " +
                            std::to_string(stage.cores.per_worker) + "), only " +
                            std::to_string(candidates.size()) + " of the machine's " +
                            std::to_string(topology.core_count()) +
                            " are free; give it fewer, or allow it to share cores with other stages");
      }
      for (int w = 0; w < stage.workers; ++w) {
        WorkerPlacement p;
        for (int k = 0; k < stage.cores.per_worker; ++k) {
          const int c = candidates[static_cast<std::size_t>(w * stage.cores.per_worker + k)];
          const PhysicalCore& core = cores[static_cast<std::size_t>(c)];
          add_core(p, core, stage.cores.smt);
          claim(s, w, c, core.id());
        }
        placement[s].push_back(p);
      }
    }
  }

  for (std::size_t s = 0; s < stages.size(); ++s) {
    const StageSpec& stage = stages[s];
    if (stage.cores.kind == CoreSpec::Kind::kUnpinned) placement[s].assign(static_cast<std::size_t>(stage.workers), {});
    for (auto& p : placement[s])
      p.threads =
          stage.threads > 0 ? stage.threads : std::max<int>(1, static_cast<int>(p.hardware_threads.size()));
  }
  return placement;
}

}  // namespace conveyor
