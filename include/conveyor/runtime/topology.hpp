#pragma once
#include <string>
#include <vector>

namespace conveyor {

// The logical CPUs this process may run on (hwloc's allowed set intersected with the process affinity),
// ordered so that consecutive ids share a package and core: handing out consecutive runs keeps a worker's
// cores close together.
class Topology {
 public:
  static const Topology& detect();  // read once per process
  static Topology from_cpus(std::vector<int> cpus, std::string model = "test");  // for tests / what-ifs

  const std::vector<int>& cpus() const { return cpus_; }
  int size() const { return static_cast<int>(cpus_.size()); }
  bool contains(int cpu) const;
  const std::string& cpu_model() const { return cpu_model_; }
  std::string describe() const;  // "2 cpus [0-1], AMD EPYC ..."

 private:
  std::vector<int> cpus_;
  std::string cpu_model_;
};

std::string format_cpu_list(const std::vector<int>& cpus);  // "0-3,6"

// "0-3,6" -> {0, 1, 2, 3, 6}, in the order written. Throws std::invalid_argument for an empty entry
// ("0,,1", "5,"), a part that is not an id or a range, a reversed range, an id >= 4096, or an id given
// twice.
std::vector<int> parse_cpu_list(const std::string& text);

}  // namespace conveyor
