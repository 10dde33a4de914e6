#include "conveyor/plan/planner.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <random>
#include <set>

namespace conveyor::plan {
namespace {

StageProfile fixed(const std::string& name, double ms) {
  StageProfile s;
  s.name = name;
  s.by_threads[1] = ServiceTime::deterministic(ms * 1e-3);
  return s;
}

// T(t) = T(1) / t^scaling for t = 1..max_threads.
StageProfile scaling(const std::string& name, double ms, int max_threads, double exponent) {
  StageProfile s;
  s.name = name;
  for (int t = 1; t <= max_threads; ++t)
    s.by_threads[t] = ServiceTime::deterministic(ms * 1e-3 / std::pow(t, exponent));
  return s;
}

std::vector<int> iota_cores(int n) {
  std::vector<int> cores(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) cores[static_cast<std::size_t>(i)] = i;
  return cores;
}

void expect_disjoint_and_contiguous(const Plan& plan, const std::vector<int>& budget) {
  std::set<int> seen;
  for (const auto& s : plan.stages)
    for (const auto& w : s.worker_cores) {
      ASSERT_EQ(static_cast<int>(w.size()), s.threads) << s.name;
      const auto first = std::find(budget.begin(), budget.end(), w.front()) - budget.begin();
      for (std::size_t i = 0; i < w.size(); ++i) {
        EXPECT_EQ(budget.at(static_cast<std::size_t>(first) + i), w[i]) << s.name << ": not contiguous";
        EXPECT_TRUE(seen.insert(w[i]).second) << "core " << w[i] << " given twice";
      }
    }
}

TEST(Planner, ReplicatesTheSlowStageToBalanceThePipeline) {
  PlanRequest r;
  r.stages = {fixed("decode", 1), fixed("model", 3), fixed("post", 1)};
  r.cores = iota_cores(5);
  const Plan plan = make_plan(r);
  ASSERT_EQ(plan.stages.size(), 3u);
  EXPECT_EQ(plan.stages[0].workers, 1);
  EXPECT_EQ(plan.stages[1].workers, 3);
  EXPECT_EQ(plan.stages[2].workers, 1);
  EXPECT_NEAR(plan.capacity_rps, 1000, 1e-6);
  EXPECT_NEAR(plan.bound_rps, 1000, 1e-6);
  EXPECT_NEAR(plan.ratio_to_bound, 1, 1e-9);
  EXPECT_EQ(plan.cores_used, 5);
  ASSERT_TRUE(plan.simulated.has_value());
  EXPECT_NEAR(plan.throughput_rps, 1000, 20);  // the simulator agrees (in-order delivery costs a little)
  expect_disjoint_and_contiguous(plan, r.cores);
}

TEST(Planner, SloThatForbidsQueueingBuysThreadsInsteadOfReplicas) {
  PlanRequest r;
  r.stages = {fixed("decode", 1), scaling("model", 3, 3, 1.0), fixed("post", 1)};
  r.cores = iota_cores(5);
  r.rate_rps = 100;
  r.slo_p99_s = 4.5e-3;  // three replicas make each request take 5 ms: only the 3-thread model fits
  const Plan plan = make_plan(r);
  EXPECT_TRUE(plan.slo_met);
  EXPECT_EQ(plan.stages[1].workers, 1);
  EXPECT_EQ(plan.stages[1].threads, 3);
  EXPECT_LE(plan.p99_s, 4.5e-3);
  expect_disjoint_and_contiguous(plan, r.cores);
  r.slo_p99_s = 2e-3;  // below the 3 ms a request needs alone: impossible, and said so
  const Plan impossible = make_plan(r);
  EXPECT_FALSE(impossible.slo_met);
}

TEST(Planner, NonParallelStageGetsReplicasNeverThreads) {
  PlanRequest r;
  StageProfile model = scaling("model", 3, 4, 1.0);
  model.parallel = false;
  r.stages = {fixed("decode", 1), model, fixed("post", 1)};
  r.cores = iota_cores(6);
  r.objective = Objective::kLatency;  // a parallel model would take threads to cut latency
  const Plan serial = make_plan(r);
  EXPECT_EQ(serial.stages[1].threads, 1);
  r.stages[1].parallel = true;
  const Plan parallel = make_plan(r);
  EXPECT_EQ(parallel.stages[1].threads, 4);
  EXPECT_LT(parallel.p99_s, serial.p99_s);
}

TEST(Planner, ThreadsThatGainLessThanTheNoiseAreNotUsed) {
  PlanRequest r;
  StageProfile s = fixed("decode", 3);
  s.by_threads[2] = ServiceTime::deterministic(2.9e-3);  // 3% faster on twice the cores: noise
  r.stages = {s};
  r.cores = iota_cores(2);
  r.objective = Objective::kLatency;
  r.sim_requests = 0;
  EXPECT_EQ(make_plan(r).stages[0].threads, 1);
  r.stages[0].by_threads[2] = ServiceTime::deterministic(2.0e-3);
  EXPECT_EQ(make_plan(r).stages[0].threads, 2);
}

TEST(Planner, FewerCoresThanStagesShareCoresAndSaySo) {
  PlanRequest r;
  r.merge = false;
  r.stages = {fixed("decode", 1), fixed("model", 3), fixed("post", 1)};
  r.cores = {6, 7};
  const Plan plan = make_plan(r);
  // The balanced grouping: model alone, decode + post together (2 ms vs 3 ms per core).
  EXPECT_FALSE(plan.stages[1].share_cores);
  EXPECT_TRUE(plan.stages[0].share_cores);
  EXPECT_TRUE(plan.stages[2].share_cores);
  EXPECT_EQ(plan.stages[0].cores(), plan.stages[2].cores());
  EXPECT_NE(plan.stages[0].cores(), plan.stages[1].cores());
  EXPECT_NEAR(plan.capacity_rps, 1000.0 / 3, 1e-6);
  EXPECT_NEAR(plan.throughput_rps, 1000.0 / 3, 5);
  const bool explained = std::any_of(plan.notes.begin(), plan.notes.end(), [](const std::string& n) {
    return n.find("share") != std::string::npos;
  });
  EXPECT_TRUE(explained);
}

TEST(Planner, UsesTheGivenCoreIds) {
  PlanRequest r;
  r.stages = {fixed("a", 1), scaling("b", 4, 2, 0.9)};
  r.cores = {4, 5, 8, 9, 10};
  r.sim_requests = 0;
  const Plan plan = make_plan(r);
  for (const auto& s : plan.stages)
    for (int c : s.cores()) EXPECT_NE(std::find(r.cores.begin(), r.cores.end(), c), r.cores.end());
  expect_disjoint_and_contiguous(plan, r.cores);
  EXPECT_FALSE(plan.simulated.has_value());
}

// The pruned search must find the same best capacity as trying everything.
// Every configuration, by brute force: each way of merging consecutive stages (when `merge`), then every
// workers x threads per planned stage. A merged run's time at t threads is the sum of its members'.
double brute_force_capacity(const std::vector<StageProfile>& stages, int cores, bool merge) {
  const int k = static_cast<int>(stages.size());
  double best = 0;
  const unsigned every_cut = (1u << (k - 1)) - 1;
  for (unsigned cuts = every_cut;; --cuts) {
    std::vector<std::map<int, double>> planned(1);
    for (int i = 0; i < k; ++i) {
      if (i > 0 && (cuts & (1u << (i - 1)))) planned.emplace_back();
      for (const auto& [t, time] : stages[static_cast<std::size_t>(i)].by_threads)
        planned.back()[t] += time.mean;
    }
    std::function<void(std::size_t, int, double)> all = [&](std::size_t i, int left, double capacity) {
      if (i == planned.size()) return void(best = std::max(best, capacity));
      for (const auto& [t, mean] : planned[i])
        for (int w = 1; w * t <= left; ++w) all(i + 1, left - w * t, std::min(capacity, w / mean));
    };
    all(0, cores, 1e300);
    if (!merge || cuts == 0) break;
  }
  return best;
}

TEST(Planner, MatchesBruteForceOnRandomProfiles) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> ms(0.5, 6), exponent(0.3, 1.0);
  for (int trial = 0; trial < 40; ++trial) {
    PlanRequest r;
    const int k = 2 + trial % 3;
    const int cores = k + static_cast<int>(rng() % 7);
    for (int i = 0; i < k; ++i) {
      std::string name = "stage";
      name += std::to_string(i);
      r.stages.push_back(scaling(name, ms(rng), 3, exponent(rng)));
    }
    r.cores = iota_cores(cores);
    r.sim_requests = 0;
    r.merge = trial % 2 == 0;
    const Plan plan = make_plan(r);
    const double best = brute_force_capacity(r.stages, cores, r.merge);
    EXPECT_NEAR(plan.capacity_rps, best, 1e-9 * best) << "trial " << trial << (r.merge ? " (merging)" : "");
    int used = 0;
    std::size_t members = 0;
    for (const auto& s : plan.stages) {
      used += s.workers * s.threads;
      members += s.members.size();
      if (!r.merge) {
        EXPECT_EQ(s.members.size(), 1u);
      }
    }
    EXPECT_LE(used, cores);
    EXPECT_EQ(members, r.stages.size());
  }
}

TEST(Planner, MergesThePipelineWhenReplicasOfTheWholeBeatStagesSharingCores) {
  PlanRequest r;
  r.stages = {fixed("decode", 1), fixed("model", 3), fixed("post", 1)};
  r.cores = {6, 7};
  const Plan plan = make_plan(r);
  // Separate stages on 2 cores: at best 1 / 3 ms (model alone on a core). The whole pipeline merged and
  // replicated on both cores: 2 / 5 ms.
  ASSERT_EQ(plan.stages.size(), 1u);
  EXPECT_EQ(plan.stages[0].name, "decode+model+post");
  EXPECT_EQ(plan.stages[0].members, (std::vector<std::string>{"decode", "model", "post"}));
  EXPECT_EQ(plan.stages[0].workers, 2);
  EXPECT_EQ(plan.stages[0].threads, 1);
  EXPECT_NEAR(plan.capacity_rps, 400, 1e-6);
  const bool explained = std::any_of(plan.notes.begin(), plan.notes.end(), [](const std::string& n) {
    return n.find("merged decode + model + post") != std::string::npos &&
           n.find("333.3 req/s") != std::string::npos;
  });
  EXPECT_TRUE(explained);
}

// Where whole-pipeline replicas would win (the test above), a front end stays off the model's cores: it
// merges with the light stages, or gets a core of its own, and every planned stage that holds the model
// holds no front end.
TEST(Planner, TheFrontEndNeverSharesACoreWithAModel) {
  StageProfile front_end = fixed("front end", 0.05);
  front_end.role = StageProfile::Role::kFrontEnd;
  StageProfile model = fixed("model", 3);
  model.role = StageProfile::Role::kModel;
  for (int cores : {2, 3, 4}) {
    PlanRequest r;
    r.stages = {front_end, fixed("decode", 1), model, fixed("post", 1)};
    r.cores = iota_cores(cores);
    const Plan plan = make_plan(r);
    std::set<int> front_end_cores, model_cores;
    for (const auto& s : plan.stages) {
      const auto& m = s.members;
      const bool has_front_end = std::find(m.begin(), m.end(), "front end") != m.end();
      const bool has_model = std::find(m.begin(), m.end(), "model") != m.end();
      EXPECT_FALSE(has_front_end && has_model) << s.name << " on " << cores << " cores";
      const std::vector<int> used = s.cores();
      if (has_front_end) front_end_cores.insert(used.begin(), used.end());
      if (has_model) model_cores.insert(used.begin(), used.end());
    }
    EXPECT_EQ(front_end_cores.size(), 1u) << cores << " cores";
    for (int core : front_end_cores)
      EXPECT_EQ(model_cores.count(core), 0u) << "core " << core << " of " << cores;
  }
  // One core: nothing to keep apart, so the two share it.
  PlanRequest one;
  one.stages = {front_end, model};
  one.cores = {0};
  EXPECT_EQ(make_plan(one).cores_used, 1);
}

TEST(Planner, SameRequestSamePlan) {
  PlanRequest r;
  r.stages = {fixed("a", 1), scaling("b", 2.5, 4, 0.8), fixed("c", 0.7)};
  r.cores = iota_cores(8);
  r.rate_rps = 600;
  const Plan a = make_plan(r), b = make_plan(r);
  EXPECT_EQ(a.p99_s, b.p99_s);
  for (std::size_t i = 0; i < a.stages.size(); ++i)
    EXPECT_EQ(a.stages[i].worker_cores, b.stages[i].worker_cores);
}

TEST(Planner, RejectsBadRequests) {
  PlanRequest r;
  r.stages = {fixed("a", 1)};
  r.cores = {};
  EXPECT_THROW(make_plan(r), std::invalid_argument);
  r.cores = {0, 0};
  EXPECT_THROW(make_plan(r), std::invalid_argument);
  r.cores = {0};
  StageProfile no_one;
  no_one.name = "x";
  no_one.by_threads[2] = ServiceTime::deterministic(1e-3);
  r.stages = {no_one};
  EXPECT_THROW(make_plan(r), std::invalid_argument);
  EXPECT_THROW(parse_objective("fast"), std::invalid_argument);
  EXPECT_EQ(parse_objective("latency"), Objective::kLatency);
}

TEST(PlannerSmt, AWorkerGetsWholePhysicalCoresAndNoStageSharesOne) {
  // 4 cores of 2 hardware threads: core c runs threads 2c, 2c+1.
  const Topology smt = Topology::synthetic("package:1 core:4 pu:2");
  PlanRequest r;
  r.stages = {fixed("decode", 1), scaling("model", 8, 4, 1.0)};
  r.cores = smt.cpus();
  r.topology = &smt;
  r.sim_requests = 0;
  const Plan plan = make_plan(r);
  EXPECT_EQ(plan.cores_budget, 4);
  EXPECT_LE(plan.cores_used, 4);
  std::map<int, std::string> owner;  // core index -> stage
  for (const auto& s : plan.stages)
    for (const auto& w : s.worker_cores) {
      ASSERT_FALSE(w.empty());
      EXPECT_EQ(w.size() % 2, 0u) << s.name << ": a worker owns both threads of each of its cores";
      EXPECT_GE(static_cast<int>(w.size()), s.threads) << s.name;
      for (int cpu : w) {
        const auto [it, inserted] = owner.emplace(smt.core_index(cpu), s.name);
        EXPECT_TRUE(inserted || it->second == s.name) << "core of thread " << cpu << " in two stages";
      }
    }
  int used = 0;
  for (const auto& s : plan.stages)
    for (const auto& w : s.worker_cores) used += static_cast<int>(w.size()) / 2;
  EXPECT_EQ(used, plan.cores_used);
}

TEST(PlannerSmt, FourThreadsFitOnTwoCoresWithSmtAndNeedFourWithout) {
  const Topology smt = Topology::synthetic("package:1 core:4 pu:2");
  PlanRequest r;
  r.stages = {scaling("model", 8, 4, 1.0)};
  r.cores = smt.cpus();
  r.topology = &smt;
  r.sim_requests = 0;
  r.objective = Objective::kLatency;
  r.concurrency = 1;
  Plan plan = make_plan(r);
  ASSERT_EQ(plan.stages.size(), 1u);
  EXPECT_EQ(plan.stages[0].threads, 4);  // the fastest, on 2 cores a worker: room for a second replica
  ASSERT_GE(plan.stages[0].workers, 1);
  EXPECT_EQ(plan.stages[0].worker_cores.front(), (std::vector<int>{0, 1, 2, 3}));
  EXPECT_EQ(plan.cores_used, 2 * plan.stages[0].workers);

  r.smt = false;
  plan = make_plan(r);
  EXPECT_EQ(plan.stages[0].threads, 4);
  EXPECT_EQ(plan.stages[0].workers, 1);
  EXPECT_EQ(plan.stages[0].worker_cores, (std::vector<std::vector<int>>{{0, 2, 4, 6}}));
  EXPECT_EQ(plan.cores_used, 4);
}

TEST(PlannerSmt, WithoutATopologyEveryIdIsACore) {
  PlanRequest r;
  r.stages = {scaling("model", 8, 4, 1.0)};
  r.cores = iota_cores(4);
  r.sim_requests = 0;
  r.objective = Objective::kLatency;
  r.concurrency = 1;
  const Plan plan = make_plan(r);
  EXPECT_EQ(plan.stages[0].worker_cores, (std::vector<std::vector<int>>{{0, 1, 2, 3}}));
  EXPECT_EQ(plan.cores_used, 4);
}

}  // namespace
}  // namespace conveyor::plan
