#include "conveyor/runtime/topology.hpp"

#include <hwloc.h>
#include <sched.h>

#include <algorithm>
#include <fstream>
#include <set>
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

namespace {

// A whole non-negative decimal number, or -1.
int parse_id(const std::string& text) {
  if (text.empty() || text.size() > 9 || text.find_first_not_of("0123456789") != std::string::npos) return -1;
  return std::stoi(text);
}

}  // namespace

std::vector<int> parse_cpu_list(const std::string& text) {
  std::vector<int> ids;
  std::set<int> seen;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t comma = std::min(text.find(',', start), text.size());
    const std::string part = text.substr(start, comma - start);
    start = comma + 1;
    if (part.empty()) throw std::invalid_argument("empty entry in '" + text + "'");
    const std::size_t dash = part.find('-');
    const int first = parse_id(part.substr(0, dash));
    const int last = dash == std::string::npos ? first : parse_id(part.substr(dash + 1));
    if (first < 0 || last < 0) throw std::invalid_argument("'" + part + "' is not a core id or a range like 0-7");
    if (last < first) throw std::invalid_argument("bad range '" + part + "'");
    if (last >= 4096)
      throw std::invalid_argument("core " + std::to_string(last) + " is beyond what the planner handles (ids < 4096)");
    for (int id = first; id <= last; ++id) {
      if (!seen.insert(id).second) throw std::invalid_argument("core " + std::to_string(id) + " is listed twice");
      ids.push_back(id);
    }
  }
  if (ids.empty()) throw std::invalid_argument("no core ids in '" + text + "'");
  return ids;
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
