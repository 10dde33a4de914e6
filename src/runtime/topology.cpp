#include "conveyor/runtime/topology.hpp"

#include <hwloc.h>
#include <sched.h>

#include <algorithm>
#include <fstream>
#include <stdexcept>

namespace conveyor {
namespace {

std::string read_cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) == 0) {
      const auto colon = line.find(':');
      if (colon != std::string::npos) return line.substr(line.find_first_not_of(' ', colon + 1));
    }
  }
  return "unknown cpu";
}

std::vector<int> hwloc_allowed_cpus() {
  hwloc_topology_t topology;
  if (hwloc_topology_init(&topology) != 0 || hwloc_topology_load(topology) != 0)
    throw std::runtime_error("hwloc could not load the machine topology");
  cpu_set_t affinity;
  CPU_ZERO(&affinity);
  const bool have_affinity = sched_getaffinity(0, sizeof(affinity), &affinity) == 0;
  hwloc_const_cpuset_t allowed = hwloc_topology_get_allowed_cpuset(topology);
  std::vector<int> cpus;
  // hwloc enumerates PUs in topology order: package, core, then hyperthread siblings.
  const int count = hwloc_get_nbobjs_by_type(topology, HWLOC_OBJ_PU);
  for (int i = 0; i < count; ++i) {
    hwloc_obj_t pu = hwloc_get_obj_by_type(topology, HWLOC_OBJ_PU, static_cast<unsigned>(i));
    const int os = static_cast<int>(pu->os_index);
    if (!hwloc_bitmap_isset(allowed, pu->os_index)) continue;
    if (have_affinity && (os >= CPU_SETSIZE || !CPU_ISSET(os, &affinity))) continue;
    cpus.push_back(os);
  }
  hwloc_topology_destroy(topology);
  if (cpus.empty()) throw std::runtime_error("hwloc found no usable cpu");
  return cpus;
}

}  // namespace

const Topology& Topology::detect() {
  static const Topology machine = [] {
    Topology t;
    t.cpus_ = hwloc_allowed_cpus();
    t.cpu_model_ = read_cpu_model();
    return t;
  }();
  return machine;
}

Topology Topology::from_cpus(std::vector<int> cpus, std::string model) {
  Topology t;
  t.cpus_ = std::move(cpus);
  t.cpu_model_ = std::move(model);
  return t;
}

bool Topology::contains(int cpu) const { return std::find(cpus_.begin(), cpus_.end(), cpu) != cpus_.end(); }

std::string Topology::describe() const {
  return std::to_string(cpus_.size()) + " cpus [" + format_cpu_list(cpus_) + "], " + cpu_model_;
}

std::string format_cpu_list(const std::vector<int>& unsorted) {
  std::vector<int> cpus = unsorted;
  std::sort(cpus.begin(), cpus.end());
  std::string out;
  for (std::size_t i = 0; i < cpus.size();) {
    std::size_t j = i;
    while (j + 1 < cpus.size() && cpus[j + 1] == cpus[j] + 1) ++j;
    if (!out.empty()) out += ',';
    out += std::to_string(cpus[i]);
    if (j > i) out += '-' + std::to_string(cpus[j]);
    i = j + 1;
  }
  return out;
}

}  // namespace conveyor
