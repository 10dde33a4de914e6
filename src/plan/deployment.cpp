#include "conveyor/plan/deployment.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <set>
#include <stdexcept>

#include "conveyor/runtime/topology.hpp"
#include "duration_text.hpp"

namespace conveyor::plan {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

std::string cores_text(int n) {
  return fmt::format("{} core{}", n, n == 1 ? "" : "s");
}

double sum_t1(const PipelineDemand& p) {
  double sum = 0;
  for (const auto& s : p.stages) sum += s.by_threads.at(1).mean;
  return sum;
}

// What the pipeline must achieve at `rate`: keep up and, with an SLO, meet it.
bool meets(const Plan& plan, double rate) {
  return plan.slo_met && plan.capacity_rps > rate;
}

std::string goal(const PipelineDemand& p, double rate) {
  return p.slo_p99_s ? fmt::format("p99 <= {} at {:.1f} req/s", ms(*p.slo_p99_s), rate)
                     : fmt::format("capacity above {:.1f} req/s (no SLO)", rate);
}

std::string shortfall(const Plan& plan, double rate) {
  if (plan.capacity_rps <= rate)
    return fmt::format("capacity {:.1f} req/s < {:.1f} req/s", plan.capacity_rps, rate);
  return fmt::format("p99 {}", ms(plan.p99_s));
}

class Allocator {
 public:
  explicit Allocator(const DeploymentRequest& request)
      : r_(request),
        units_(request.topology ? request.topology->cores_of(request.cores)
                                : Topology::from_cpus(request.cores).cores()) {}

  Deployment run() {
    validate();
    for (std::size_t i = 0; i < r_.pipelines.size(); ++i) {
      PipelineAllocation a;
      a.name = r_.pipelines[i].name;
      a.priority = r_.pipelines[i].priority;
      a.notes = r_.pipelines[i].notes;
      out_.push_back(std::move(a));
    }
    choose_rates();
    counts_.assign(r_.pipelines.size(), 0);
    switch (r_.strategy) {
      case AllocationStrategy::kHistory:
        by_demand();
        break;
      case AllocationStrategy::kForecast:
        fewest_in_priority_order(/*keep_one_each=*/true);
        break;
      case AllocationStrategy::kPriority:
        fewest_in_priority_order(/*keep_one_each=*/false);
        break;
    }
    return finish();
  }

 private:
  int budget() const { return static_cast<int>(units_.size()); }

  // The hardware threads of the budget's physical cores [begin, end).
  std::vector<int> threads_of(std::size_t begin, std::size_t end) const {
    std::vector<int> threads;
    for (std::size_t c = begin; c < end; ++c)
      threads.insert(threads.end(), units_[c].hardware_threads.begin(), units_[c].hardware_threads.end());
    return threads;
  }
  double demand(std::size_t i) const { return out_[i].rate_rps * sum_t1(r_.pipelines[i]); }

  void validate() const {
    if (r_.cores.empty()) throw std::invalid_argument("deployment: the core budget is empty");
    if (std::set<int>(r_.cores.begin(), r_.cores.end()).size() != r_.cores.size())
      throw std::invalid_argument("deployment: the core list [" + format_cpu_list(r_.cores) +
                                  "] names a core twice");
    if (r_.pipelines.empty()) throw std::invalid_argument("deployment: no pipelines");
    std::set<std::string> names;
    for (const auto& p : r_.pipelines) {
      if (!names.insert(p.name).second)
        throw std::invalid_argument("deployment: pipeline '" + p.name + "' is listed twice");
      if (p.stages.empty())
        throw std::invalid_argument("deployment: pipeline '" + p.name + "' has no stage profiles");
      for (const auto& s : p.stages)
        if (!s.by_threads.count(1))
          throw std::invalid_argument("deployment: pipeline '" + p.name + "': stage '" + s.name +
                                      "' has no 1-thread profile");
      if (p.rate_rps && !(*p.rate_rps > 0))
        throw std::invalid_argument("deployment: pipeline '" + p.name + "': the rate must be > 0");
      if (p.slo_p99_s && !(*p.slo_p99_s > 0))
        throw std::invalid_argument("deployment: pipeline '" + p.name + "': the SLO must be > 0");
    }
    const auto n = static_cast<int>(r_.pipelines.size());
    if (r_.strategy != AllocationStrategy::kPriority && n > budget())
      throw std::invalid_argument(fmt::format(
          "deployment: the {} strategy gives every pipeline at least one core, but there are {} pipelines "
          "and {}; the priority strategy serves the most important first",
          strategy_name(r_.strategy), n, cores_text(budget())));
  }

  void choose_rates() {
    for (std::size_t i = 0; i < r_.pipelines.size(); ++i) {
      const PipelineDemand& p = r_.pipelines[i];
      PipelineAllocation& a = out_[i];
      if (r_.strategy == AllocationStrategy::kForecast && !p.arrivals.empty()) {
        try {
          a.forecast = forecast_load(p.arrivals, r_.forecast);
        } catch (const std::invalid_argument& error) {
          throw std::invalid_argument("deployment: pipeline '" + p.name + "': " + error.what());
        }
        a.rate_rps = a.forecast->peak_rps;
        a.notes.push_back(a.forecast->describe());
        if (!(a.rate_rps > 0))
          throw std::invalid_argument("deployment: pipeline '" + p.name +
                                      "': the forecast peak rate is 0 req/s; nothing to plan for");
        continue;
      }
      if (!p.rate_rps)
        throw std::invalid_argument(
            "deployment: pipeline '" + p.name + "' has no rate: give it an expected rate or an arrival history" +
            (r_.strategy == AllocationStrategy::kForecast ? " (the forecast strategy needs an arrival history)" : ""));
      a.rate_rps = *p.rate_rps;
      if (r_.strategy == AllocationStrategy::kForecast)
        a.notes.push_back(
            fmt::format("no arrival history to forecast from: planned for the given rate "
                        "{:.1f} req/s",
                        a.rate_rps));
    }
  }

  std::vector<double> demands() const {
    std::vector<double> d;
    for (std::size_t i = 0; i < out_.size(); ++i) d.push_back(demand(i));
    return d;
  }

  void by_demand() {
    const std::vector<double> d = demands();
    const double total = std::accumulate(d.begin(), d.end(), 0.0);
    counts_ = proportional_shares(d, budget(), true);
    for (std::size_t i = 0; i < out_.size(); ++i)
      out_[i].notes.push_back(fmt::format(
          "demand {:.1f} req/s x sum T(1) {} = {:.2f} core-seconds/s, {:.0f}% of all demand: quota {:.2f} of "
          "{} -> {} (largest remainder, at least 1 each)",
          out_[i].rate_rps, ms(sum_t1(r_.pipelines[i])), d[i], 100 * d[i] / total, budget() * d[i] / total,
          cores_text(budget()), cores_text(counts_[i])));
  }

  PlanRequest plan_request(std::size_t i, std::vector<int> cores, uint64_t sim_requests) const {
    const PipelineDemand& p = r_.pipelines[i];
    PlanRequest request;
    request.stages = p.stages;
    request.cores = std::move(cores);
    request.topology = r_.topology;
    request.smt = r_.smt;
    request.rate_rps = out_[i].rate_rps;
    request.slo_p99_s = p.slo_p99_s;
    request.max_in_flight = p.max_in_flight;
    request.queue_capacity = p.queue_capacity;
    request.sim_requests = sim_requests;
    request.seed = r_.seed;
    request.merge = r_.merge;
    return request;
  }

  std::vector<int> first_cores(int n) const { return threads_of(0, static_cast<std::size_t>(n)); }

  // The fewest cores (1..most) whose plan meets the pipeline's goal, found with the analytic model and
  // confirmed by simulation; none when even `most` cannot. `closest` gets the plan on `most` cores then.
  std::optional<int> fewest_cores(std::size_t i, int most, std::optional<Plan>& closest) const {
    for (int k = 1; k <= most; ++k) {
      const Plan analytic = make_plan(plan_request(i, first_cores(k), 0));
      if (!meets(analytic, out_[i].rate_rps)) {
        if (k == most) closest = analytic;
        continue;
      }
      if (r_.sim_requests == 0) return k;
      const Plan confirmed = make_plan(plan_request(i, first_cores(k), r_.sim_requests));
      if (meets(confirmed, out_[i].rate_rps)) return k;
      if (k == most) closest = confirmed;
    }
    return std::nullopt;
  }

  void fewest_in_priority_order(bool keep_one_each) {
    std::vector<std::size_t> order(out_.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
      return r_.pipelines[a].priority > r_.pipelines[b].priority;
    });
    int left = budget();
    bool all_met = true;
    for (std::size_t rank = 0; rank < order.size(); ++rank) {
      const std::size_t i = order[rank];
      const PipelineDemand& p = r_.pipelines[i];
      auto& notes = out_[i].notes;
      const int later = static_cast<int>(order.size() - rank - 1);
      const int most = keep_one_each ? left - later : left;
      const std::string position = fmt::format("priority {} ({} of {})", p.priority, rank + 1, order.size());
      if (most <= 0) {
        notes.push_back(
            fmt::format("{}: no cores left after the pipelines before it: sheds all its load", position));
        all_met = false;
        continue;
      }
      std::optional<Plan> closest;
      if (const auto k = fewest_cores(i, most, closest)) {
        counts_[i] = *k;
        notes.push_back(fmt::format("{}: the fewest cores for {}: {}{}", position, goal(p, out_[i].rate_rps),
                                    cores_text(*k),
                                    *k > 1 ? fmt::format(" (with {}: not met)", cores_text(*k - 1)) : ""));
      } else {
        counts_[i] = most;
        all_met = false;
        notes.push_back(fmt::format(
            "{}: cannot reach {} with the {} {} ({}): gets {}{}", position, goal(p, out_[i].rate_rps),
            cores_text(most),
            keep_one_each && later > 0 ? "it may take (one kept for each pipeline after it)" : "left",
            shortfall(*closest, out_[i].rate_rps), most == 1 ? "it" : "them all",
            !keep_one_each && later > 0 ? "; the pipelines after it get none" : ""));
      }
      left -= counts_[i];
    }
    if (left > 0 && all_met) give_spare(left);
  }

  // Every pipeline met its goal: the rest of the cores go out in proportion to demand (more headroom, lower
  // latency).
  void give_spare(int spare) {
    const std::vector<int> extra = proportional_shares(demands(), spare, false);
    for (std::size_t i = 0; i < out_.size(); ++i)
      if (extra[i] > 0) {
        counts_[i] += extra[i];
        out_[i].notes.push_back(
            fmt::format("+{} of the {} spare after every pipeline is met, in proportion to demand ({:.2f} "
                        "core-seconds/s)",
                        cores_text(extra[i]), spare, demand(i)));
      }
  }

  Deployment finish() {
    Deployment d;
    d.strategy = r_.strategy;
    for (const auto& core : units_) d.cores_budget.push_back(core.id());
    std::size_t next = 0;
    for (std::size_t i = 0; i < out_.size(); ++i) {
      PipelineAllocation& a = out_[i];
      const auto n = static_cast<std::size_t>(counts_[i]);
      for (std::size_t c = next; c < next + n; ++c) a.cores.push_back(units_[c].id());
      a.hardware_threads = threads_of(next, next + n);
      next += n;
      if (a.cores.empty()) {
        a.p50_s = a.p99_s = kInf;
        a.shed_rps = a.rate_rps;
        a.notes.push_back(fmt::format("no cores: sheds all {:.1f} req/s", a.rate_rps));
        continue;
      }
      a.plan = make_plan(plan_request(i, a.hardware_threads, r_.sim_requests));
      a.throughput_rps = a.plan->throughput_rps;
      // An overloaded plan's simulated latencies only measure how long the simulation ran.
      a.p50_s = a.plan->analytic.stable ? a.plan->p50_s : kInf;
      a.p99_s = a.plan->analytic.stable ? a.plan->p99_s : kInf;
      a.slo_met = meets(*a.plan, a.rate_rps);
      a.shed_rps = std::max(0.0, a.rate_rps - a.plan->capacity_rps);
      if (a.shed_rps > 0)
        a.notes.push_back(
            fmt::format("sheds {:.1f} req/s: the rate {:.1f} req/s exceeds its capacity {:.1f} "
                        "req/s on {}",
                        a.shed_rps, a.rate_rps, a.plan->capacity_rps, cores_text(counts_[i])));
      else if (!a.slo_met && r_.pipelines[i].slo_p99_s && a.p99_s > *r_.pipelines[i].slo_p99_s)
        a.notes.push_back(fmt::format("keeps up but misses its SLO: p99 {} > {}", ms(a.p99_s),
                                      ms(*r_.pipelines[i].slo_p99_s)));
      else if (!a.slo_met)  // the planner's simulation saw under 97% of the rate go through
        a.notes.push_back(
            fmt::format("not confirmed to keep up: the simulation delivered {:.1f} of {:.1f} "
                        "req/s (more simulated requests make it less noisy)",
                        a.throughput_rps, a.rate_rps));
    }
    d.pipelines = std::move(out_);
    double total = 0;
    for (std::size_t i = 0; i < d.pipelines.size(); ++i)
      total += d.pipelines[i].rate_rps * sum_t1(r_.pipelines[i]);
    d.notes.push_back(fmt::format(
        "strategy {}; budget {} [{}]; total demand {:.2f} core-seconds/s ({:.0f}% of the budget{})",
        strategy_name(r_.strategy), cores_text(budget()), format_cpu_list(r_.cores), total,
        100 * total / budget(), total > budget() ? ": over-committed, something must shed" : ""));
    for (const auto& a : d.pipelines)
      if (a.shed_rps > 0)
        d.notes.push_back(fmt::format("'{}' (priority {}) sheds {:.1f} of {:.1f} req/s", a.name, a.priority,
                                      a.shed_rps, a.rate_rps));
    return d;
  }

  const DeploymentRequest& r_;
  std::vector<PhysicalCore> units_;  // the budget as physical cores, in its order
  std::vector<PipelineAllocation> out_;
  std::vector<int> counts_;
};

}  // namespace

AllocationStrategy parse_strategy(const std::string& text) {
  if (text == "history") return AllocationStrategy::kHistory;
  if (text == "forecast") return AllocationStrategy::kForecast;
  if (text == "priority") return AllocationStrategy::kPriority;
  throw std::invalid_argument("strategy '" + text + "': expected history, forecast or priority");
}

const char* strategy_name(AllocationStrategy strategy) {
  switch (strategy) {
    case AllocationStrategy::kHistory:
      return "history";
    case AllocationStrategy::kForecast:
      return "forecast";
    case AllocationStrategy::kPriority:
      return "priority";
  }
  return "?";
}

int Deployment::cores_used() const {
  int n = 0;
  for (const auto& p : pipelines) n += static_cast<int>(p.cores.size());
  return n;
}

double Deployment::shed_rps() const {
  double total = 0;
  for (const auto& p : pipelines) total += p.shed_rps;
  return total;
}

Deployment allocate_deployment(const DeploymentRequest& request) {
  return Allocator(request).run();
}

std::vector<int> proportional_shares(const std::vector<double>& weights, int total, bool at_least_one) {
  const std::size_t n = weights.size();
  if (n == 0) return {};
  if (total < 0 || (at_least_one && total < static_cast<int>(n)))
    throw std::invalid_argument(fmt::format("cannot split {} among {} with at least one each", total, n));
  double sum = 0;
  for (double w : weights) {
    if (!(w >= 0) || std::isinf(w)) throw std::invalid_argument("proportional_shares: bad weight");
    sum += w;
  }
  std::vector<double> quota(n);
  for (std::size_t i = 0; i < n; ++i)
    quota[i] = sum > 0 ? total * weights[i] / sum : total / static_cast<double>(n);
  std::vector<int> share(n);
  int given = 0;
  for (std::size_t i = 0; i < n; ++i) {
    share[i] = static_cast<int>(std::floor(quota[i] + 1e-9));
    given += share[i];
  }
  std::vector<std::size_t> by_remainder(n);
  std::iota(by_remainder.begin(), by_remainder.end(), 0);
  std::stable_sort(by_remainder.begin(), by_remainder.end(),
                   [&](std::size_t a, std::size_t b) { return quota[a] - share[a] > quota[b] - share[b]; });
  for (std::size_t k = 0; given < total; ++k, ++given) ++share[by_remainder[k % n]];
  if (at_least_one)
    for (std::size_t i = 0; i < n; ++i) {
      if (share[i] > 0) continue;
      std::size_t donor = n;
      for (std::size_t j = 0; j < n; ++j)
        if (share[j] > 1 && (donor == n || share[j] - quota[j] > share[donor] - quota[donor])) donor = j;
      --share[donor];  // exists: total >= n and share i is 0, so some share is >= 2
      share[i] = 1;
    }
  return share;
}

}  // namespace conveyor::plan
