#include "conveyor/runtime/core_allocation.hpp"

#include <gtest/gtest.h>

namespace conveyor {
namespace {

StageSpec counted(std::string name, int workers, int per_worker, bool shared = false) {
  StageSpec s;
  s.name = std::move(name);
  s.workers = workers;
  s.cores.per_worker = per_worker;
  s.cores.shared = shared;
  return s;
}

StageSpec with_ids(std::string name, std::vector<int> ids, int workers = 1) {
  StageSpec s;
  s.name = std::move(name);
  s.workers = workers;
  s.cores.kind = CoreSpec::Kind::kIds;
  s.cores.ids = std::move(ids);
  return s;
}

const Topology kFourCpus = Topology::from_cpus({0, 1, 2, 3});

TEST(CoreAllocation, CountedStagesGetDisjointCores) {
  auto p = allocate_cores({counted("a", 1, 1), counted("b", 1, 2), counted("c", 1, 1)}, kFourCpus);
  EXPECT_EQ(p[0][0].cores, (std::vector<int>{0}));
  EXPECT_EQ(p[1][0].cores, (std::vector<int>{1, 2}));
  EXPECT_EQ(p[1][0].threads, 2);
  EXPECT_EQ(p[2][0].cores, (std::vector<int>{3}));
}

TEST(CoreAllocation, ExplicitIdsAreSplitAmongWorkersAndPlacedFirst) {
  auto p = allocate_cores({counted("a", 2, 1), with_ids("b", {0, 1}, 2)}, kFourCpus);
  EXPECT_EQ(p[1][0].cores, (std::vector<int>{0}));
  EXPECT_EQ(p[1][1].cores, (std::vector<int>{1}));
  EXPECT_EQ(p[0][0].cores, (std::vector<int>{2}));
  EXPECT_EQ(p[0][1].cores, (std::vector<int>{3}));
}

TEST(CoreAllocation, TooManyCoresIsAnErrorNamingTheStage) {
  try {
    allocate_cores({counted("decode", 1, 2), counted("model", 2, 2)}, kFourCpus);
    FAIL();
  } catch (const ResourceError& e) {
    EXPECT_NE(std::string(e.what()).find("stage 'model': needs 4 cores"), std::string::npos) << e.what();
  }
  EXPECT_THROW(allocate_cores({counted("big", 1, 5)}, kFourCpus), ResourceError);
}

TEST(CoreAllocation, NonexistentCoreIsAnError) {
  try {
    allocate_cores({with_ids("model", {1, 9})}, kFourCpus);
    FAIL();
  } catch (const ResourceError& e) {
    EXPECT_NE(std::string(e.what()).find("core 9 does not exist"), std::string::npos) << e.what();
  }
}

TEST(CoreAllocation, OverlappingIdsNeedSharing) {
  EXPECT_THROW(allocate_cores({with_ids("a", {0, 1}), with_ids("b", {1})}, kFourCpus), ResourceError);
  StageSpec b = with_ids("b", {1});
  b.cores.shared = true;
  EXPECT_NO_THROW(allocate_cores({with_ids("a", {0, 1}), b}, kFourCpus));
}

TEST(CoreAllocation, UnevenSplitAndDuplicatesAreErrors) {
  EXPECT_THROW(allocate_cores({with_ids("a", {0, 1, 2}, 2)}, kFourCpus), ResourceError);
  EXPECT_THROW(allocate_cores({with_ids("a", {1, 1})}, kFourCpus), ResourceError);
  EXPECT_THROW(allocate_cores({counted("a", 0, 1)}, kFourCpus), ResourceError);
}

TEST(CoreAllocation, SharedStagesUseTheLeastUsedCores) {
  auto p = allocate_cores({counted("a", 1, 3), counted("tail", 2, 1, true)}, kFourCpus);
  EXPECT_EQ(p[1][0].cores, (std::vector<int>{3}));  // the free one first
  EXPECT_EQ(p[1][1].cores, (std::vector<int>{0}));
}

TEST(CoreAllocation, UnpinnedStagesGetNoCoresAndOneThread) {
  StageSpec s = counted("free", 2, 1);
  s.cores.kind = CoreSpec::Kind::kUnpinned;
  auto p = allocate_cores({counted("a", 1, 4), s}, kFourCpus);
  ASSERT_EQ(p[1].size(), 2u);
  EXPECT_TRUE(p[1][0].cores.empty());
  EXPECT_EQ(p[1][0].threads, 1);
}

// Two packages of 8 cores, 2 hardware threads each: core c runs threads 2c and 2c+1 (hwloc's numbering).
const Topology kSmt = Topology::synthetic("package:2 core:8 pu:2");

TEST(CoreAllocationSmt, CountedCoresAreWholePhysicalCoresWithAllTheirThreads) {
  auto p = allocate_cores({counted("a", 1, 1), counted("b", 2, 2)}, kSmt);
  EXPECT_EQ(p[0][0].cores, (std::vector<int>{0}));
  EXPECT_EQ(p[0][0].hardware_threads, (std::vector<int>{0, 1}));
  EXPECT_EQ(p[0][0].threads, 2);
  EXPECT_EQ(p[1][0].cores, (std::vector<int>{2, 4}));
  EXPECT_EQ(p[1][0].hardware_threads, (std::vector<int>{2, 3, 4, 5}));
  EXPECT_EQ(p[1][1].hardware_threads, (std::vector<int>{6, 7, 8, 9}));
  EXPECT_EQ(p[1][1].threads, 4);
}

TEST(CoreAllocationSmt, SmtOffGivesOneThreadPerCore) {
  StageSpec s = counted("a", 1, 3);
  s.cores.smt = false;
  auto p = allocate_cores({s}, kSmt);
  EXPECT_EQ(p[0][0].cores, (std::vector<int>{0, 2, 4}));
  EXPECT_EQ(p[0][0].hardware_threads, (std::vector<int>{0, 2, 4}));
  EXPECT_EQ(p[0][0].threads, 3);
}

TEST(CoreAllocationSmt, NamingOneThreadOwnsTheWholeCore) {
  auto p = allocate_cores({with_ids("a", {3}), counted("b", 1, 1)}, kSmt);
  EXPECT_EQ(p[0][0].cores, (std::vector<int>{2}));
  EXPECT_EQ(p[0][0].hardware_threads, (std::vector<int>{2, 3}));
  EXPECT_EQ(p[0][0].threads, 2);
  EXPECT_EQ(p[1][0].cores, (std::vector<int>{0}));  // core 2 is taken whole, so b does not get thread 2
  StageSpec off = with_ids("c", {3});
  off.cores.smt = false;
  EXPECT_EQ(allocate_cores({off}, kSmt)[0][0].hardware_threads, (std::vector<int>{3}));
}

TEST(CoreAllocationSmt, SiblingsOfOneCoreInTwoStagesAreAnErrorNamingBothAndTheCore) {
  try {
    allocate_cores({with_ids("decode", {0, 2}), with_ids("model", {3})}, kSmt);
    FAIL();
  } catch (const ResourceError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("stage 'model'"), std::string::npos) << what;
    EXPECT_NE(what.find("stage 'decode'"), std::string::npos) << what;
    EXPECT_NE(what.find("core 2 (hardware threads 2-3)"), std::string::npos) << what;
  }
  StageSpec shared = with_ids("model", {3});
  shared.cores.shared = true;
  EXPECT_NO_THROW(allocate_cores({with_ids("decode", {0, 2}), shared}, kSmt));
}

TEST(CoreAllocationSmt, SiblingsSplitBetweenWorkersOfOneStageAreAnError) {
  EXPECT_THROW(allocate_cores({with_ids("a", {0, 1}, 2)}, kSmt), ResourceError);
  auto p = allocate_cores({with_ids("a", {0, 1, 2, 3}, 2)}, kSmt);  // each worker one whole core
  EXPECT_EQ(p[0][0].hardware_threads, (std::vector<int>{0, 1}));
  EXPECT_EQ(p[0][1].hardware_threads, (std::vector<int>{2, 3}));
}

TEST(CoreAllocationSmt, WorkersOfOneStageGetAsManyCoresEach) {
  try {
    allocate_cores({with_ids("a", {20, 22, 24, 25}, 2)}, kSmt);  // 24 and 25 are one core
    FAIL();
  } catch (const ResourceError& e) {
    EXPECT_NE(std::string(e.what()).find("worker 1"), std::string::npos) << e.what();
  }
}

TEST(CoreAllocationSmt, CountsAreCheckedAgainstPhysicalCores) {
  EXPECT_NO_THROW(allocate_cores({counted("a", 1, 16)}, kSmt));
  EXPECT_THROW(allocate_cores({counted("a", 1, 17)}, kSmt), ResourceError);
  EXPECT_THROW(allocate_cores({counted("a", 1, 10), counted("b", 1, 7)}, kSmt), ResourceError);
}

TEST(CoreAllocationSmt, TwoNumaNodesKeepAWorkerOnNeighbouringCores) {
  const Topology numa = Topology::synthetic("package:1 numa:2 core:2 pu:2");
  auto p = allocate_cores({counted("a", 2, 2)}, numa);
  EXPECT_EQ(p[0][0].hardware_threads, (std::vector<int>{0, 1, 2, 3}));
  EXPECT_EQ(p[0][1].hardware_threads, (std::vector<int>{4, 5, 6, 7}));
  EXPECT_EQ(numa.cores()[static_cast<std::size_t>(numa.core_index(p[0][1].cores[0]))].numa_node, 1);
}

TEST(ThreadsPerWorker, AListOfFourCoresForOneWorkerIsFourThreads) {
  // The case that used to differ: split costs measured at 1 thread while the worker ran 4.
  const StageSpec s = with_ids("model", {0, 1, 2, 3});
  EXPECT_EQ(threads_per_worker(s, kFourCpus), 4);
  EXPECT_EQ(allocate_cores({s}, kFourCpus)[0][0].threads, 4);
  EXPECT_EQ(cores_claimed(s, kFourCpus), 4);
}

TEST(ThreadsPerWorker, AgreesWithTheAllocationOnEveryKindOfStage) {
  StageSpec off = counted("off", 1, 2);
  off.cores.smt = false;
  StageSpec explicit_threads = counted("explicit", 2, 1);
  explicit_threads.threads = 3;
  StageSpec unpinned = counted("free", 1, 1);
  unpinned.cores.kind = CoreSpec::Kind::kUnpinned;
  const std::vector<StageSpec> stages = {counted("count", 2, 2), with_ids("ids", {20, 22, 24, 26}, 2), off,
                                         explicit_threads, unpinned};
  const auto p = allocate_cores(stages, kSmt);
  const int expected[] = {4, 4, 2, 3, 1};
  for (std::size_t s = 0; s < stages.size(); ++s) {
    EXPECT_EQ(threads_per_worker(stages[s], kSmt), expected[s]) << stages[s].name;
    for (const auto& worker : p[s]) EXPECT_EQ(worker.threads, expected[s]) << stages[s].name;
  }
}

TEST(CoresClaimed, CountsPhysicalCoresAndNothingForSharedOrUnpinned) {
  EXPECT_EQ(cores_claimed(with_ids("a", {0, 1, 2}), kSmt), 2);  // threads 0, 1 are one core
  EXPECT_EQ(cores_claimed(counted("b", 3, 2), kSmt), 6);
  EXPECT_EQ(cores_claimed(counted("c", 3, 2, true), kSmt), 0);
  StageSpec unpinned = counted("d", 2, 1);
  unpinned.cores.kind = CoreSpec::Kind::kUnpinned;
  EXPECT_EQ(cores_claimed(unpinned, kSmt), 0);
  EXPECT_EQ(cores_claimed(with_ids("e", {0, 9}), kFourCpus), 2);  // an id beyond the machine counts as one
}

}  // namespace
}  // namespace conveyor
