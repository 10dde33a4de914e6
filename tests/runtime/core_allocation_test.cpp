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

}  // namespace
}  // namespace conveyor
