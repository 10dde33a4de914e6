#include "conveyor/plan/planner.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <map>
#include <set>
#include <stdexcept>

#include "conveyor/runtime/topology.hpp"
#include "duration_text.hpp"
#include "plan/choose_batching.hpp"

namespace conveyor::plan {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kThreadGain = 0.05;  // the least cut in T that more threads must bring to be used

struct Option {
  int workers = 1;
  int threads = 1;
  const ServiceTime* service = nullptr;
  double capacity = 0;
  int cores_per_worker = 1;  // the fewest whole physical cores that hold `threads` hardware threads
  int cores() const { return workers * cores_per_worker; }
};

// One configuration: the pipeline's stages as planned stages (each a run of consecutive stages, merged when
// longer than one), an option per planned stage, or (fewer cores than planned stages) one worker per planned
// stage with a core group each.
struct Candidate {
  std::vector<const StageProfile*> stages;  // planned stages: merged profiles for runs of several
  std::vector<int> first;                   // per planned stage: index of its first pipeline stage
  std::vector<Option> options;
  std::vector<int> group;  // per stage: index of its core; empty when each stage owns its cores
  Workload workload;
  Prediction analytic;
  std::optional<SimResult> simulated;
};

// What a candidate is ranked by.
struct Score {
  bool feasible = true;
  double capacity = 0;  // throughput measure
  double p99 = kInf;
  int cores = 0;
};

bool close(double a, double b, double tolerance) {
  if (a == b) return true;
  if (std::isinf(a) || std::isinf(b)) return false;
  return std::abs(a - b) <= tolerance * std::max(std::abs(a), std::abs(b));
}

// Feasible first; then the objective's measure, its other measure, fewer cores. `tolerance`: relative
// difference treated as a tie (model arithmetic or simulation noise).
bool better(const Score& a, const Score& b, Objective objective, double tolerance) {
  if (a.feasible != b.feasible) return a.feasible;
  if (!a.feasible) {  // neither meets the constraints: the nearest to the SLO, then the most capacity
    if (!close(a.p99, b.p99, tolerance)) return a.p99 < b.p99;
    if (!close(a.capacity, b.capacity, tolerance)) return a.capacity > b.capacity;
    return a.cores < b.cores;
  }
  if (objective == Objective::kThroughput) {
    if (!close(a.capacity, b.capacity, tolerance)) return a.capacity > b.capacity;
    if (!close(a.p99, b.p99, tolerance)) return a.p99 < b.p99;
  } else {
    if (!close(a.p99, b.p99, tolerance)) return a.p99 < b.p99;
    if (!close(a.capacity, b.capacity, tolerance)) return a.capacity > b.capacity;
  }
  return a.cores < b.cores;
}

int cores_of(const Candidate& c) {
  if (!c.group.empty()) return *std::max_element(c.group.begin(), c.group.end()) + 1;
  int n = 0;
  for (const auto& o : c.options) n += o.cores();
  return n;
}

std::vector<ModelStage> to_model(const Candidate& c) {
  std::vector<int> group_size;
  for (int g : c.group) {
    if (g >= static_cast<int>(group_size.size())) group_size.resize(static_cast<std::size_t>(g) + 1, 0);
    ++group_size[static_cast<std::size_t>(g)];
  }
  std::vector<ModelStage> stages;
  for (std::size_t i = 0; i < c.options.size(); ++i) {
    ModelStage s;
    s.name = c.stages[i]->name;
    s.workers = c.options[i].workers;
    s.threads = c.options[i].threads;
    s.service = *c.options[i].service;
    if (!c.group.empty() && group_size[static_cast<std::size_t>(c.group[i])] > 1) s.shared_group = c.group[i];
    stages.push_back(std::move(s));
  }
  return stages;
}

}  // namespace

StageProfile merge_profiles(const std::vector<StageProfile>& stages, std::size_t begin, std::size_t end) {
  if (end - begin == 1) return stages[begin];
  StageProfile merged;
  merged.parallel = false;
  for (std::size_t i = begin; i < end; ++i)
    if (stages[i].role == StageProfile::Role::kFrontEnd ||
        (stages[i].role == StageProfile::Role::kModel && merged.role == StageProfile::Role::kStage))
      merged.role = stages[i].role;
  std::set<int> counts;
  for (std::size_t i = begin; i < end; ++i) {
    if (!stages[i].by_threads.count(1))
      throw std::invalid_argument("plan: stage '" + stages[i].name + "' has no 1-thread profile");
    merged.name += (i > begin ? "+" : "") + stages[i].name;
    merged.parallel = merged.parallel || stages[i].parallel;
    for (const auto& [t, time] : stages[i].by_threads)
      if (stages[i].parallel || t == 1) counts.insert(t);
  }
  for (int t : counts) {
    std::vector<ServiceTime> parts;
    for (std::size_t i = begin; i < end; ++i) {
      const auto& by = stages[i].by_threads;
      auto at = by.upper_bound(stages[i].parallel ? t : 1);
      parts.push_back(std::prev(at)->second);
    }
    merged.by_threads[t] = ServiceTime::sum(parts);
  }
  return merged;
}

namespace {

class Search {
 public:
  explicit Search(const PlanRequest& request)
      : r_(request),
        units_(request.topology ? request.topology->cores_of(request.cores)
                                : Topology::from_cpus(request.cores).cores()) {
    for (const auto& core : units_)
      per_core_ = std::max(per_core_, r_.smt ? static_cast<int>(core.hardware_threads.size()) : 1);
  }

  Plan run() {
    validate();
    const int budget = static_cast<int>(units_.size());
    for (const auto& runs : mergings()) {
      if (budget >= 2 && front_end_beside_model(runs)) continue;
      Candidate base;
      std::size_t begin = 0;
      for (std::size_t length : runs) {
        base.stages.push_back(&merged(begin, begin + length));
        base.first.push_back(static_cast<int>(begin));
        begin += length;
      }
      if (budget >= static_cast<int>(runs.size()))
        search_owned(budget, base);
      else
        search_shared(budget, base);
    }
    if (top_.empty()) throw std::logic_error("planner found no configuration");
    Candidate best = confirm();
    return describe(best);
  }

 private:
  void validate() const {
    if (r_.stages.empty()) throw std::invalid_argument("plan: the pipeline has no stages");
    if (r_.cores.empty()) throw std::invalid_argument("plan: the core budget is empty");
    std::vector<int> sorted = r_.cores;
    std::sort(sorted.begin(), sorted.end());
    if (std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end())
      throw std::invalid_argument("plan: the core list [" + format_cpu_list(r_.cores) +
                                  "] names a core twice");
    for (const auto& s : r_.stages) {
      if (!s.by_threads.count(1))
        throw std::invalid_argument("plan: stage '" + s.name + "' has no 1-thread profile");
      for (const auto& [t, time] : s.by_threads)
        if (t < 1 || !(time.mean > 0))
          throw std::invalid_argument("plan: stage '" + s.name + "' has a bad profile at " +
                                      std::to_string(t) + " threads");
    }
    if (r_.rate_rps && !(*r_.rate_rps > 0)) throw std::invalid_argument("plan: the rate must be > 0");
    if (r_.concurrency && *r_.concurrency < 1) throw std::invalid_argument("plan: concurrency must be >= 1");
    if (r_.slo_p99_s && !(*r_.slo_p99_s > 0)) throw std::invalid_argument("plan: the SLO must be > 0");
    if (r_.max_in_flight < 1) throw std::invalid_argument("plan: max_in_flight must be >= 1");
  }

  // Ways to run the pipeline's stages as runs of consecutive stages (lengths, in order): first none merged,
  // so that it wins ties, then every other way for up to kMaxMergedStages stages; beyond that only all
  // stages merged into one.
  std::vector<std::vector<std::size_t>> mergings() const {
    constexpr std::size_t kMaxMergedStages = 10;
    const std::size_t k = r_.stages.size();
    std::vector<std::vector<std::size_t>> all{std::vector<std::size_t>(k, 1)};
    if (k == 1 || !r_.merge) return all;
    if (k > kMaxMergedStages) {
      all.push_back({k});
      return all;
    }
    const unsigned every_cut = (1u << (k - 1)) - 1;
    for (unsigned cuts = 0; cuts < every_cut; ++cuts) {  // bit i: a stage boundary after stage i
      std::vector<std::size_t> runs{1};
      for (std::size_t i = 0; i + 1 < k; ++i) {
        if (cuts & (1u << i))
          runs.push_back(1);
        else
          ++runs.back();
      }
      all.push_back(std::move(runs));
    }
    return all;
  }

  // Whether one run of `runs` (lengths of consecutive stages) holds both the front end and a model.
  bool front_end_beside_model(const std::vector<std::size_t>& runs) const {
    std::size_t begin = 0;
    for (std::size_t length : runs) {
      bool front_end = false, model = false;
      for (std::size_t i = begin; i < begin + length; ++i) {
        front_end = front_end || r_.stages[i].role == StageProfile::Role::kFrontEnd;
        model = model || r_.stages[i].role == StageProfile::Role::kModel;
      }
      if (front_end && model) return true;
      begin += length;
    }
    return false;
  }

  const StageProfile& merged(std::size_t begin, std::size_t end) {
    auto [it, added] = merged_.try_emplace({begin, end});
    if (added) it->second = merge_profiles(r_.stages, begin, end);
    return it->second;
  }

  Workload workload_for(const Candidate& c) const {
    if (r_.rate_rps) return Workload::open(*r_.rate_rps, r_.max_in_flight);
    int workers = 0;
    for (const auto& o : c.options) workers += o.workers;
    const int n = r_.concurrency ? *r_.concurrency : r_.objective == Objective::kLatency ? 1 : 2 * workers;
    return Workload::closed(n, r_.max_in_flight);
  }

  Score analytic_score(const Candidate& c) const {
    Score s;
    s.capacity = c.analytic.capacity_rps;
    s.p99 = c.analytic.latency_p99_s;
    s.cores = cores_of(c);
    s.feasible = c.analytic.stable && (!r_.slo_p99_s || s.p99 <= *r_.slo_p99_s);
    return s;
  }

  Score simulated_score(const Candidate& c) const {
    Score s = analytic_score(c);
    if (!c.simulated) return s;
    // Closed loop: the simulator measures the throughput; open loop: it can only confirm keeping up.
    if (!c.workload.rate_rps) s.capacity = c.simulated->throughput_rps;
    // A finite run of an unstable configuration has a finite p99 that means nothing: keep it infinite.
    if (c.analytic.stable) s.p99 = c.simulated->latency.p99;
    const bool keeps_up = !c.workload.rate_rps || c.simulated->throughput_rps >= 0.97 * *c.workload.rate_rps;
    s.feasible = c.analytic.stable && keeps_up && (!r_.slo_p99_s || s.p99 <= *r_.slo_p99_s);
    return s;
  }

  void consider(Candidate c) {
    ++evaluated_;
    c.workload = workload_for(c);
    c.analytic = predict(to_model(c), c.workload);
    if (c.stages.size() == r_.stages.size())
      best_unmerged_capacity_ = std::max(best_unmerged_capacity_, c.analytic.capacity_rps);
    const Score score = analytic_score(c);
    auto at = std::find_if(top_.begin(), top_.end(), [&](const Candidate& other) {
      return better(score, analytic_score(other), r_.objective, 1e-9);
    });
    if (at == top_.end() && static_cast<int>(top_.size()) >= finalists()) return;
    top_.insert(at, std::move(c));
    if (static_cast<int>(top_.size()) > finalists()) top_.pop_back();
  }

  int finalists() const { return std::max(1, r_.finalists); }

  // The last kept candidate's score, once the list is full of feasible ones: nothing worse can enter.
  std::optional<Score> threshold() const {
    if (static_cast<int>(top_.size()) < finalists()) return std::nullopt;
    Score s = analytic_score(top_.back());
    if (!s.feasible) return std::nullopt;
    return s;
  }

  // Each stage's useful options: dominated ones (no fewer cores, no more capacity, no shorter or steadier
  // service) are dropped. Sorted by capacity, highest first.
  std::vector<Option> stage_options(const StageProfile& stage, int max_cores) const {
    std::vector<Option> all;
    double fastest = kInf;
    for (const auto& [threads, time] : stage.by_threads) {
      if (!stage.parallel && threads != 1) continue;
      // Timings drift 5-15% on shared machines: more threads must cut T by more than that to count.
      if (threads > 1 && time.mean > (1 - kThreadGain) * fastest) continue;
      fastest = std::min(fastest, time.mean);
      const int cores_per_worker = (threads + per_core_ - 1) / per_core_;
      for (int workers = 1; workers * cores_per_worker <= max_cores; ++workers)
        all.push_back({workers, threads, &time, workers / time.mean, cores_per_worker});
    }
    std::vector<Option> kept;
    for (const auto& a : all) {
      const bool dominated = std::any_of(all.begin(), all.end(), [&](const Option& b) {
        const bool no_worse = b.cores() <= a.cores() && b.capacity >= a.capacity &&
                              b.service->mean <= a.service->mean && b.service->cv2 <= a.service->cv2;
        const bool better_somewhere = b.cores() < a.cores() || b.capacity > a.capacity ||
                                      b.service->mean < a.service->mean || b.service->cv2 < a.service->cv2;
        return no_worse && better_somewhere;
      });
      if (!dominated) kept.push_back(a);
    }
    std::sort(kept.begin(), kept.end(), [](const Option& a, const Option& b) {
      return a.capacity != b.capacity ? a.capacity > b.capacity : a.cores() < b.cores();
    });
    return kept;
  }

  // A lower bound on a stage's mean time at the request's load (used to prune the latency objective).
  double latency_floor(const Option& o) const {
    if (!r_.rate_rps) return o.service->mean;
    const double wait = ggc_mean_wait(o.workers, o.service->mean, *r_.rate_rps, 0, o.service->cv2);
    return o.service->mean + wait;
  }

  void search_owned(int budget, const Candidate& base) {
    const int k = static_cast<int>(base.stages.size());
    std::vector<std::vector<Option>> options;
    for (const StageProfile* s : base.stages) options.push_back(stage_options(*s, budget - (k - 1)));
    std::vector<double> floor_after(static_cast<std::size_t>(k) + 1, 0);  // sum of the stages' best floors
    for (int i = k - 1; i >= 0; --i) {
      double best = kInf;
      for (const auto& o : options[static_cast<std::size_t>(i)]) best = std::min(best, latency_floor(o));
      floor_after[static_cast<std::size_t>(i)] = floor_after[static_cast<std::size_t>(i) + 1] + best;
    }
    Candidate current = base;
    std::function<void(int, int, double, double)> dfs = [&](int i, int left, double min_capacity,
                                                            double floor) {
      if (i == k) return consider(current);
      for (const auto& o : options[static_cast<std::size_t>(i)]) {
        if (o.cores() > left - (k - i - 1)) continue;
        const double capacity = std::min(min_capacity, o.capacity);
        const double stage_floor = floor + latency_floor(o);
        if (const auto bar = threshold()) {
          if (r_.objective == Objective::kThroughput && capacity < bar->capacity * (1 - 1e-9))
            break;  // sorted
          if (r_.objective == Objective::kLatency &&
              stage_floor + floor_after[static_cast<std::size_t>(i) + 1] > bar->p99 * (1 + 1e-9))
            continue;
        }
        current.options.push_back(o);
        dfs(i + 1, left - o.cores(), capacity, stage_floor);
        current.options.pop_back();
      }
    };
    dfs(0, budget, kInf, 0);
  }

  // Fewer cores than stages: every way to put the stages into `budget` non-empty groups, one core each.
  void search_shared(int budget, const Candidate& base) {
    const int k = static_cast<int>(base.stages.size());
    Candidate current = base;
    for (const StageProfile* s : base.stages)
      current.options.push_back({1, 1, &s->by_threads.at(1), 1 / s->by_threads.at(1).mean});
    current.group.assign(static_cast<std::size_t>(k), 0);
    // Restricted growth strings: stage i joins an existing group or opens the next one.
    std::function<void(int, int)> assign = [&](int i, int groups) {
      if (k - i < budget - groups) return;  // not enough stages left to fill every core
      if (i == k) return consider(current);
      for (int g = 0; g <= std::min(groups, budget - 1); ++g) {
        if (budget >= 2 && front_end_beside_model(current, i, g)) continue;
        current.group[static_cast<std::size_t>(i)] = g;
        assign(i + 1, std::max(groups, g + 1));
      }
    };
    assign(0, 0);
  }

  // Whether putting planned stage i onto core group g puts the front end and a model on one core.
  static bool front_end_beside_model(const Candidate& c, int i, int g) {
    using Role = StageProfile::Role;
    const Role role = c.stages[static_cast<std::size_t>(i)]->role;
    if (role == Role::kStage) return false;
    const Role other = role == Role::kModel ? Role::kFrontEnd : Role::kModel;
    for (int j = 0; j < i; ++j)
      if (c.group[static_cast<std::size_t>(j)] == g && c.stages[static_cast<std::size_t>(j)]->role == other)
        return true;
    return false;
  }

  Candidate confirm() {
    if (r_.sim_requests == 0) return top_.front();
    SimOptions sim;
    sim.requests = r_.sim_requests;
    sim.warmup = std::max<uint64_t>(100, r_.sim_requests / 10);
    sim.seed = r_.seed;
    for (auto& c : top_) {
      sim.workload = c.workload;
      c.simulated = simulate(sim_stages(to_model(c), r_.queue_capacity), sim);
    }
    std::size_t best = 0;
    for (std::size_t i = 1; i < top_.size(); ++i)
      if (better(simulated_score(top_[i]), simulated_score(top_[best]), r_.objective, 0.01)) best = i;
    sim_reranked_ = best != 0;
    return top_[best];
  }

  Plan describe(const Candidate& c) const;

  // The hardware threads a worker is pinned to on `core`: all of them, or one with smt off.
  std::vector<int> worker_threads(const PhysicalCore& core) const {
    return r_.smt ? core.hardware_threads : std::vector<int>{core.id()};
  }

  const PlanRequest& r_;
  std::vector<PhysicalCore> units_;  // the budget as physical cores, in its order
  int per_core_ = 1;                 // hardware threads a worker gets per core
  std::map<std::pair<std::size_t, std::size_t>, StageProfile> merged_;  // by [begin, end); stable addresses
  std::vector<Candidate> top_;
  uint64_t evaluated_ = 0;
  double best_unmerged_capacity_ = 0;
  bool sim_reranked_ = false;
};

Plan Search::describe(const Candidate& c) const {
  Plan plan;
  plan.objective = r_.objective;
  plan.workload = c.workload;
  plan.analytic = c.analytic;
  plan.simulated = c.simulated;
  plan.cores_budget = static_cast<int>(units_.size());
  plan.cores_used = cores_of(c);
  plan.configurations = evaluated_;
  plan.capacity_rps = c.analytic.capacity_rps;
  plan.throughput_rps = c.simulated ? c.simulated->throughput_rps : c.analytic.throughput_rps;
  plan.p50_s = c.simulated ? c.simulated->latency.p50 : c.analytic.latency_p50_s;
  plan.p99_s = c.simulated ? c.simulated->latency.p99 : c.analytic.latency_p99_s;
  plan.bottleneck = c.stages[c.analytic.bottleneck]->name;
  double sum_t1 = 0;
  for (const auto& s : r_.stages) sum_t1 += s.by_threads.at(1).mean;
  plan.bound_rps = static_cast<double>(units_.size()) / sum_t1;
  plan.ratio_to_bound = plan.capacity_rps / plan.bound_rps;
  plan.slo_met = simulated_score(c).feasible || (!r_.slo_p99_s && c.analytic.stable);

  std::size_t next_core = 0;
  std::vector<int> group_size(units_.size(), 0);
  for (int g : c.group) ++group_size[static_cast<std::size_t>(g)];
  for (std::size_t i = 0; i < c.options.size(); ++i) {
    StagePlan s;
    s.name = c.stages[i]->name;
    const std::size_t end =
        i + 1 < c.first.size() ? static_cast<std::size_t>(c.first[i + 1]) : r_.stages.size();
    for (auto m = static_cast<std::size_t>(c.first[i]); m < end; ++m) s.members.push_back(r_.stages[m].name);
    s.workers = c.options[i].workers;
    s.threads = c.options[i].threads;
    s.service = *c.options[i].service;
    if (!c.group.empty()) {
      const auto g = static_cast<std::size_t>(c.group[i]);
      s.worker_cores = {worker_threads(units_[g])};
      s.share_cores = group_size[g] > 1;
    } else {
      for (int w = 0; w < s.workers; ++w) {
        std::vector<int> threads;
        for (int k = 0; k < c.options[i].cores_per_worker; ++k) {
          const std::vector<int> more = worker_threads(units_[next_core++]);
          threads.insert(threads.end(), more.begin(), more.end());
        }
        s.worker_cores.push_back(std::move(threads));
      }
    }
    plan.stages.push_back(std::move(s));
  }

  auto& notes = plan.notes;
  notes.push_back(fmt::format("budget {} core{} [{}]; load: {}; objective: {}{}", units_.size(),
                              units_.size() > 1 ? "s" : "", format_cpu_list(r_.cores), c.workload.describe(),
                              objective_name(r_.objective),
                              r_.slo_p99_s ? fmt::format(", p99 <= {}", ms(*r_.slo_p99_s)) : ""));
  for (const auto& s : plan.stages)
    if (s.members.size() > 1)
      notes.push_back(fmt::format(
          "merged {}: each worker runs these stages one after the other on its cores (no queue between "
          "them), so replicas of the run need no core per stage; without merging the best capacity is {:.1f} "
          "req/s{}{}",
          fmt::join(s.members, " + "), best_unmerged_capacity_,
          best_unmerged_capacity_ >= plan.capacity_rps * (1 - 1e-9)
              ? " too, but merged ranks higher (latency, fewer cores, or the simulation)"
              : "",
          r_.stages.size() <= 10 ? "; every way of merging consecutive stages was tried" : ""));
  if (!c.group.empty()) {
    notes.push_back(fmt::format(
        "{} stages on {} core{}: stages must share cores. Every grouping of stages onto the cores was tried; "
        "the chosen one balances the summed service time per core. Stages on one core time-slice it (marked "
        "shared), so each of them slows down by the core's load.",
        c.stages.size(), units_.size(), units_.size() > 1 ? "s" : ""));
    for (std::size_t g = 0; g < units_.size(); ++g) {
      std::vector<std::string> names;
      double sum = 0;
      for (std::size_t i = 0; i < c.group.size(); ++i)
        if (static_cast<std::size_t>(c.group[i]) == g) {
          names.push_back("'" + c.stages[i]->name + "'");
          sum += c.options[i].service->mean;
        }
      notes.push_back(
          fmt::format("core {}: {} ({} per item)", units_[g].id(), fmt::join(names, " + "), ms(sum)));
    }
  }
  for (std::size_t i = 0; i < c.options.size(); ++i) {
    const auto& o = c.options[i];
    const auto& sp = c.analytic.stages[i];
    std::string why;
    const auto& profile = c.stages[i]->by_threads;
    if (o.threads > 1)
      why = fmt::format("; {} threads cut T from {} to {}", o.threads, ms(profile.at(1).mean),
                        ms(o.service->mean));
    else if (o.workers > 1 && profile.size() > 1)
      why = fmt::format(
          "; replicas rather than threads: {} threads give T = {} vs {} on 1, not worth {}x the cores",
          profile.rbegin()->first, ms(profile.rbegin()->second.mean), ms(profile.at(1).mean),
          profile.rbegin()->first);
    else if (!c.stages[i]->parallel)
      why = "; not parallelisable: one thread";
    notes.push_back(fmt::format("{}: {} worker{} x {} thread{}, T = {} -> {:.1f} req/s, {:.0f}% busy{}{}",
                                c.stages[i]->name, o.workers, o.workers > 1 ? "s" : "", o.threads,
                                o.threads > 1 ? "s" : "", ms(o.service->mean), sp.capacity_rps,
                                std::min(sp.utilization, 1.0) * 100,
                                i == c.analytic.bottleneck ? " (bottleneck)" : "", why));
  }
  notes.push_back(
      fmt::format("work-conserving bound: {} cores / sum T(1) {} = {:.1f} req/s; this plan's capacity "
                  "{:.1f} req/s is {:.0f}% of it",
                  units_.size(), ms(sum_t1), plan.bound_rps, plan.capacity_rps, plan.ratio_to_bound * 100));
  if (plan.cores_used < plan.cores_budget && c.group.empty())
    notes.push_back(fmt::format("{} of {} cores left unused: no way of using them ranks higher",
                                plan.cores_budget - plan.cores_used, plan.cores_budget));
  double stage_capacity = kInf;
  for (const auto& sp : c.analytic.stages) stage_capacity = std::min(stage_capacity, sp.capacity_rps);
  if (c.analytic.capacity_rps < stage_capacity * (1 - 1e-9))
    notes.push_back(
        fmt::format("max_in_flight {} caps throughput at {} / sum T {} = {:.1f} req/s (Little's law), below "
                    "the stages' {:.1f} req/s: raise max_in_flight to use the cores",
                    r_.max_in_flight, r_.max_in_flight, ms(c.analytic.service_sum_s), c.analytic.capacity_rps,
                    stage_capacity));
  if (c.workload.rate_rps && !c.analytic.stable)
    notes.push_back(
        fmt::format("the rate {:g} req/s exceeds the best capacity {:.1f} req/s: queues grow without bound",
                    *c.workload.rate_rps, c.analytic.capacity_rps));
  if (r_.slo_p99_s)
    notes.push_back(plan.slo_met
                        ? fmt::format("SLO met: p99 {} <= {}", ms(plan.p99_s), ms(*r_.slo_p99_s))
                        : fmt::format("no configuration meets p99 <= {} at this load; this one comes "
                                      "closest (p99 {})",
                                      ms(*r_.slo_p99_s), ms(plan.p99_s)));
  notes.push_back(fmt::format(
      "searched {} configuration{} with the analytic model{}", evaluated_, evaluated_ == 1 ? "" : "s",
      c.simulated ? fmt::format("; simulated the best {} ({} requests each){}", top_.size(), r_.sim_requests,
                                sim_reranked_ ? ", which changed the pick" : "")
                  : ""));
  return plan;
}

}  // namespace

Objective parse_objective(const std::string& text) {
  if (text == "throughput") return Objective::kThroughput;
  if (text == "latency") return Objective::kLatency;
  throw std::invalid_argument("objective '" + text + "': expected 'throughput' or 'latency'");
}

const char* objective_name(Objective objective) {
  return objective == Objective::kThroughput ? "throughput" : "latency";
}

std::vector<int> StagePlan::cores() const {
  std::vector<int> all;
  for (const auto& w : worker_cores) all.insert(all.end(), w.begin(), w.end());
  return all;
}

std::vector<ModelStage> Plan::model_stages() const {
  std::vector<ModelStage> out;
  std::map<int, int> group_of_core;
  for (const auto& s : stages) {
    ModelStage m;
    m.name = s.name;
    m.workers = s.workers;
    m.threads = s.threads;
    m.service = s.service;
    if (s.share_cores) {
      auto [it, added] =
          group_of_core.emplace(s.worker_cores.front().front(), static_cast<int>(group_of_core.size()));
      m.shared_group = it->second;
    }
    out.push_back(std::move(m));
  }
  return out;
}

namespace {

bool may_batch(const StageProfile& profile) {
  return profile.batch.batches() || profile.choose_batch;
}

// The request with each batching stage's time per request at every thread count where a batch of `size`
// was measured taken as T_size / size: as if it always ran full batches. Stages stay separate (a merged
// stage does not batch). Empty when no batching stage has such a batch measured at one thread.
std::optional<PlanRequest> as_if_batched(const PlanRequest& request, int size) {
  PlanRequest as_if = request;
  as_if.merge = false;
  bool any = false;
  for (StageProfile& profile : as_if.stages) {
    const auto measured = profile.by_batch.find(size);
    if (!may_batch(profile) || size > profile.batch.max_size || measured == profile.by_batch.end() ||
        !measured->second.count(1))
      continue;
    profile.by_threads.clear();
    for (const auto& [threads, time] : measured->second)
      profile.by_threads[threads] = ServiceTime::with_cv2(time.mean / size, time.cv2);
    any = true;
  }
  if (!any) return std::nullopt;
  return as_if;
}

}  // namespace

Plan make_plan(const PlanRequest& request) {
  Plan plan = Search(request).run();
  choose_batching(plan, request);
  if (request.sim_requests == 0 || std::none_of(request.stages.begin(), request.stages.end(), may_batch))
    return plan;
  // Batching changes which layout is best: a batching stage may need fewer cores, gain more from threads, or
  // lose its batching when merged. The layout is searched again with stages kept separate, and as if each
  // batching stage ran full batches of each measured size; each layout gets its batching chosen by
  // simulation with the real profiles, and the best of all wins.
  std::set<int> sizes{1};
  for (const StageProfile& profile : request.stages)
    for (const auto& [size, by_threads] : profile.by_batch) sizes.insert(size);
  for (const int size : sizes) {
    std::optional<PlanRequest> searched =
        size == 1 ? std::optional<PlanRequest>(request) : as_if_batched(request, size);
    if (!searched || (size == 1 && !request.merge)) continue;
    searched->merge = false;
    Plan layout = Search(*searched).run();
    for (StagePlan& stage : layout.stages) {  // the real time of one request, for the simulation
      const auto profile =
          std::find_if(request.stages.begin(), request.stages.end(),
                       [&](const StageProfile& p) { return p.name == stage.members.front(); });
      if (profile != request.stages.end())
        stage.service = std::prev(profile->by_threads.upper_bound(stage.threads))->second;
    }
    choose_batching(layout, request);
    if (!batches_better(layout, plan, request)) continue;
    layout.notes.push_back(
        size == 1
            ? std::string("stages kept separate so that a stage could batch: better than merging them")
            : fmt::format("the layout was searched as if batching stages ran full batches of {} (the time "
                          "per request above is the batch's over {}): better than planning them unbatched",
                          size, size));
    plan = std::move(layout);
  }
  return plan;
}

}  // namespace conveyor::plan
