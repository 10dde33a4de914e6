#include "conveyor/runtime/topology.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

namespace conveyor {
namespace {

TEST(Topology, SyntheticSmtMachineListsPhysicalCoresWithTheirSiblings) {
  const Topology t = Topology::synthetic("package:2 core:8 pu:2");
  ASSERT_EQ(t.core_count(), 16);
  EXPECT_EQ(t.thread_count(), 32);
  EXPECT_EQ(t.threads_per_core(), 2);
  EXPECT_EQ(t.cores()[0].hardware_threads, (std::vector<int>{0, 1}));
  EXPECT_EQ(t.cores()[0].id(), 0);
  EXPECT_EQ(t.cores()[8].package, 1);
  EXPECT_EQ(t.cores()[7].package, 0);
  EXPECT_EQ(t.core_index(1), 0);
  EXPECT_EQ(t.core_index(17), 8);
  EXPECT_EQ(t.core_index(32), -1);
  EXPECT_EQ(t.describe(), "16 cores, 32 hardware threads [0-31], synthetic");
}

TEST(Topology, SyntheticNumaNodesAreRecorded) {
  const Topology t = Topology::synthetic("package:1 numa:2 core:4 pu:2");
  ASSERT_EQ(t.core_count(), 8);
  EXPECT_EQ(t.cores()[3].numa_node, 0);
  EXPECT_EQ(t.cores()[4].numa_node, 1);
  EXPECT_EQ(t.cores()[4].hardware_threads, (std::vector<int>{8, 9}));
}

TEST(Topology, BadSyntheticDescriptionIsAnError) {
  EXPECT_THROW(Topology::synthetic("core:lots"), std::invalid_argument);
}

TEST(Topology, FromCpusIsOneThreadPerCore) {
  const Topology t = Topology::from_cpus({4, 5, 7});
  EXPECT_EQ(t.core_count(), 3);
  EXPECT_EQ(t.thread_count(), 3);
  EXPECT_EQ(t.threads_per_core(), 1);
  EXPECT_EQ(t.cores()[2].hardware_threads, (std::vector<int>{7}));
  EXPECT_FALSE(t.contains(6));
  EXPECT_EQ(t.describe(), "3 cpus [4-5,7], test");
}

TEST(Topology, CoresOfNamesWholeCoresOnceInOrder) {
  const Topology t = Topology::synthetic("package:1 core:4 pu:2");
  const auto cores = t.cores_of({5, 0, 4, 1, 40});
  ASSERT_EQ(cores.size(), 3u);
  EXPECT_EQ(cores[0].hardware_threads, (std::vector<int>{4, 5}));
  EXPECT_EQ(cores[1].hardware_threads, (std::vector<int>{0, 1}));
  EXPECT_EQ(cores[2].hardware_threads, (std::vector<int>{40}));  // beyond the machine: a core of its own
}

TEST(Topology, ThisMachineHasAtLeastOneCoreAndEveryThreadInOne) {
  const Topology& t = Topology::detect();
  ASSERT_GE(t.core_count(), 1);
  int threads = 0;
  for (const auto& core : t.cores()) threads += static_cast<int>(core.hardware_threads.size());
  EXPECT_EQ(threads, t.thread_count());
  for (int cpu : t.cpus()) EXPECT_GE(t.core_index(cpu), 0);
}

}  // namespace
}  // namespace conveyor
