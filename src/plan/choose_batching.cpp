// Batching in a plan: after the search has chosen workers, threads and cores, each planned stage that may
// batch is simulated with the batch settings it may take, under the plan's load, and keeps the best. Batch
// sizes come with their own measured times (StageProfile::by_batch): a batch of 8 is never assumed to cost
// 8 / 8 of one request, nor 8 times it.
#include "plan/choose_batching.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>

#include "plan/duration_text.hpp"

namespace conveyor::plan {
namespace {

// A planned stage that runs one pipeline stage whose profile batches (as written, or by the planner's
// choice).
struct BatchingStage {
  std::size_t index = 0;  // in plan.stages
  const StageProfile* profile = nullptr;
};

// The delays tried, in multiples of one request's service time: enough to gather a few at loads where
// that pays, never more than a handful of service times.
constexpr double kDelayFactors[] = {0, 0.5, 1, 2, 4};

struct Outcome {
  SimResult sim;
  bool keeps_up = true;
  bool slo_met = true;
};

// A simulation judged against the plan's load and the request's SLO.
Outcome judged(const SimResult& sim, const Workload& workload, const PlanRequest& request) {
  Outcome outcome{sim};
  outcome.keeps_up = !workload.rate_rps || sim.throughput_rps >= 0.97 * *workload.rate_rps;
  outcome.slo_met = outcome.keeps_up && (!request.slo_p99_s || sim.latency.p99 <= *request.slo_p99_s);
  return outcome;
}

Outcome simulate_with(const Plan& plan, const PlanRequest& request, const std::vector<SimBatch>& batches) {
  std::vector<SimStage> stages = sim_stages(plan.model_stages(), request.queue_capacity);
  for (std::size_t i = 0; i < stages.size(); ++i) stages[i].batch = batches[i];
  SimOptions options;
  options.workload = plan.workload;
  options.requests = request.sim_requests;
  options.warmup = std::max<uint64_t>(100, request.sim_requests / 10);
  options.seed = request.seed;
  return judged(simulate(stages, options), plan.workload, request);
}

// Whether `a` is worth taking over `b` (by more than 1%: ties keep what came first, no batching first).
bool better(const Outcome& a, const Outcome& b, const PlanRequest& request) {
  if (a.slo_met != b.slo_met) return a.slo_met;
  if (a.keeps_up != b.keeps_up) return a.keeps_up;
  const bool closed = !request.rate_rps;
  const bool by_throughput = closed && request.objective == Objective::kThroughput;
  if (by_throughput && std::abs(a.sim.throughput_rps - b.sim.throughput_rps) > 0.01 * b.sim.throughput_rps)
    return a.sim.throughput_rps > b.sim.throughput_rps;
  return a.sim.latency.p99 < 0.99 * b.sim.latency.p99;
}

// The sizes up to `max_size` whose batch time is known at `threads` (1 always is).
std::vector<int> measured_sizes(const StageProfile& profile, int threads, int max_size) {
  std::vector<int> sizes{1};
  for (const auto& [size, by_threads] : profile.by_batch)
    if (size <= max_size && by_threads.count(threads)) sizes.push_back(size);
  return sizes;
}

std::string describe(const BatchSpec& spec) {
  if (!spec.batches()) return "no batching";
  return fmt::format("batch up to {} (sizes {}), max_delay {}", spec.max_size,
                     fmt::join(spec.run_sizes(), "/"),
                     ms(std::chrono::duration<double>(spec.max_delay).count()));
}

std::string outcome_text(const Outcome& o) {
  return fmt::format("{:.1f} req/s, p99 {}{}", o.sim.throughput_rps, ms(o.sim.latency.p99),
                     o.keeps_up ? "" : " (does not keep up)");
}

}  // namespace

SimBatch simulated_batch(const StageProfile& profile, int threads, const BatchSpec& spec,
                         std::vector<int>* guessed) {
  SimBatch batch;
  batch.max_size = spec.max_size;
  batch.max_delay_s = std::chrono::duration<double>(spec.max_delay).count();
  batch.sizes = spec.run_sizes();
  const ServiceTime one = std::prev(profile.by_threads.upper_bound(threads))->second;
  for (const int size : batch.sizes) {
    if (size == 1) continue;
    const auto measured = profile.by_batch.find(size);
    if (measured != profile.by_batch.end() && measured->second.count(threads)) {
      batch.by_size[size] = measured->second.at(threads);
    } else {
      batch.by_size[size] = ServiceTime::with_cv2(one.mean * size, one.cv2 / size);
      if (guessed) guessed->push_back(size);
    }
  }
  return batch;
}

bool batches_better(const Plan& a, const Plan& b, const PlanRequest& request) {
  if (!a.simulated || !b.simulated) return false;
  return better(judged(*a.simulated, a.workload, request), judged(*b.simulated, b.workload, request),
                request);
}

void choose_batching(Plan& plan, const PlanRequest& request) {
  std::vector<BatchingStage> batching;
  for (std::size_t i = 0; i < plan.stages.size(); ++i) {
    const StagePlan& stage = plan.stages[i];
    for (const std::string& member : stage.members) {
      const auto profile = std::find_if(request.stages.begin(), request.stages.end(),
                                        [&](const StageProfile& p) { return p.name == member; });
      if (profile == request.stages.end() || !(profile->batch.batches() || profile->choose_batch)) continue;
      if (stage.members.size() > 1)
        plan.notes.push_back(fmt::format("{}: runs merged with other stages ({}), so it does not batch",
                                         profile->name, stage.name));
      else
        batching.push_back({i, &*profile});
    }
  }
  if (batching.empty()) return;
  if (request.sim_requests == 0) {
    plan.notes.push_back("batching not planned: it is judged by simulation, and simulation is off");
    return;
  }

  std::vector<SimBatch> chosen(plan.stages.size());
  std::vector<BatchSpec> specs(plan.stages.size());
  for (const BatchingStage& b : batching)
    if (!b.profile->choose_batch) {  // as written: predicted as it will run
      std::vector<int> guessed;
      chosen[b.index] = simulated_batch(*b.profile, plan.stages[b.index].threads, b.profile->batch, &guessed);
      specs[b.index] = b.profile->batch;
      if (!guessed.empty())
        plan.notes.push_back(
            fmt::format("{}: batches of {} were never measured at {} thread(s): guessed to take that many "
                        "times one request "
                        "(no gain); `conveyor profile` measures them",
                        b.profile->name, fmt::join(guessed, ", "), plan.stages[b.index].threads));
    }
  const Outcome unbatched = simulate_with(plan, request, chosen);
  Outcome best = unbatched;

  for (const BatchingStage& b : batching) {
    if (!b.profile->choose_batch) continue;
    const StagePlan& stage = plan.stages[b.index];
    const std::vector<int> sizes = measured_sizes(*b.profile, stage.threads, b.profile->batch.max_size);
    if (sizes.size() == 1) {
      plan.notes.push_back(
          fmt::format("{}: batch: auto, but no batch size was measured at {} thread(s): not batched",
                      stage.name, stage.threads));
      continue;
    }
    const Outcome before = best;
    for (std::size_t top = 1; top < sizes.size(); ++top)
      for (const double factor : kDelayFactors) {
        BatchSpec spec;
        spec.max_size = sizes[top];
        spec.sizes.assign(sizes.begin(), sizes.begin() + static_cast<std::ptrdiff_t>(top) + 1);
        spec.max_delay =
            std::chrono::microseconds(static_cast<int64_t>(std::llround(factor * stage.service.mean * 1e6)));
        std::vector<SimBatch> trial = chosen;
        trial[b.index] = simulated_batch(*b.profile, stage.threads, spec);
        const Outcome outcome = simulate_with(plan, request, trial);
        if (better(outcome, best, request)) {
          best = outcome;
          chosen = std::move(trial);
          specs[b.index] = spec;
        }
      }
    plan.notes.push_back(
        specs[b.index].batches()
            ? fmt::format("{}: batch: auto chose {}: {} against {} unbatched", stage.name,
                          describe(specs[b.index]), outcome_text(best), outcome_text(before))
            : fmt::format("{}: batch: auto chose no batching: no batch size and delay beat {} at this load",
                          stage.name, outcome_text(before)));
  }

  for (std::size_t i = 0; i < plan.stages.size(); ++i) plan.stages[i].batch = specs[i];
  plan.simulated = best.sim;
  plan.throughput_rps = best.sim.throughput_rps;
  plan.p50_s = best.sim.latency.p50;
  plan.p99_s = best.sim.latency.p99;
  plan.slo_met = best.slo_met;
}

}  // namespace conveyor::plan
