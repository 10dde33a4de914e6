#pragma once
#include <string>
#include <vector>

namespace conveyor {

// One physical core: the hardware threads (SMT siblings, hwloc's PUs) it runs, by OS id, and where it sits.
// A core is named by its first hardware thread's OS id, so on a machine without SMT its id is the cpu id.
struct PhysicalCore {
  std::vector<int> hardware_threads;  // OS ids, in topology order; never empty
  int package = 0;                    // hwloc logical index of its package (socket)
  int numa_node = 0;                  // hwloc logical index of its NUMA node
  int id() const { return hardware_threads.front(); }
};

// The physical cores this process may run on (hwloc's allowed set intersected with the process affinity),
// in topology order (package, then core), so that handing out consecutive runs keeps a worker's cores
// close together. Only the usable hardware threads of a core are listed.
class Topology {
 public:
  static const Topology& detect();  // read once per process
  // One hardware thread per core, the cores in the order given: for tests and what-ifs.
  static Topology from_cpus(std::vector<int> cpus, std::string model = "test");
  // From a synthetic hwloc description such as "package:2 core:8 pu:2" or "package:1 numa:2 core:4 pu:2"
  // (hwloc numbers the PUs 0.. in topology order). Throws std::invalid_argument for a bad description.
  static Topology synthetic(const std::string& description, std::string model = "synthetic");

  const std::vector<PhysicalCore>& cores() const { return cores_; }
  const std::vector<int>& cpus() const { return cpus_; }  // every hardware thread, in topology order
  int core_count() const { return static_cast<int>(cores_.size()); }
  int thread_count() const { return static_cast<int>(cpus_.size()); }
  int threads_per_core() const;  // the most hardware threads any core has (1 without SMT)
  bool contains(int cpu) const;
  // Index in cores() of the core running hardware thread `cpu`, or -1 when it is not in the topology.
  int core_index(int cpu) const;
  // The physical cores that hardware threads `cpus` name, whole, in the order first named; an id not in the
  // topology is a core of one thread (for what-if budgets beyond this machine).
  std::vector<PhysicalCore> cores_of(const std::vector<int>& cpus) const;
  const std::string& cpu_model() const { return cpu_model_; }
  std::string describe()
      const;  // "2 cpus [0-1], AMD EPYC ..."; with SMT "8 cores, 16 hardware threads [0-15], ..."

 private:
  void index_cores();

  std::vector<PhysicalCore> cores_;
  std::vector<int> cpus_;
  std::vector<int> core_of_cpu_;  // by OS id: index into cores_, or -1
  std::string cpu_model_;
};

std::string format_cpu_list(const std::vector<int>& cpus);  // "0-3,6"

// "0-3,6" -> {0, 1, 2, 3, 6}, in the order written. Throws std::invalid_argument for an empty entry
// ("0,,1", "5,"), a part that is not an id or a range, a reversed range, an id >= 4096, or an id given
// twice.
std::vector<int> parse_cpu_list(const std::string& text);

}  // namespace conveyor
