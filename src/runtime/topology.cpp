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

// Logical index of the object of `type` above `obj`, or 0 when there is none.
int ancestor_index(hwloc_topology_t topology, hwloc_obj_type_t type, hwloc_obj_t obj) {
  const hwloc_obj_t above = hwloc_get_ancestor_obj_by_type(topology, type, obj);
  return above ? static_cast<int>(above->logical_index) : 0;
}

// The NUMA node whose cpus include `obj`'s (hwloc 2 hangs NUMA nodes off the tree as memory children).
int numa_index(hwloc_topology_t topology, hwloc_obj_t obj) {
  hwloc_obj_t node = nullptr;
  while ((node = hwloc_get_next_obj_by_type(topology, HWLOC_OBJ_NUMANODE, node)) != nullptr)
    if (node->cpuset && hwloc_bitmap_isincluded(obj->cpuset, node->cpuset))
      return static_cast<int>(node->logical_index);
  return 0;
}

// Loads a topology (the machine's, or a synthetic one) and lists its usable physical cores. `restrict`:
// keep only the hardware threads hwloc allows and the process affinity includes (the real machine).
std::vector<PhysicalCore> load_cores(const char* synthetic, bool restrict) {
  hwloc_topology_t topology;
  if (hwloc_topology_init(&topology) != 0) throw std::runtime_error("hwloc could not start");
  struct Destroy {
    hwloc_topology_t t;
    ~Destroy() { hwloc_topology_destroy(t); }
  } destroy{topology};
  if (synthetic && hwloc_topology_set_synthetic(topology, synthetic) != 0)
    throw std::invalid_argument(std::string("'") + synthetic + "' is not a synthetic hwloc topology (like " +
                                "\"package:2 core:8 pu:2\")");
  if (hwloc_topology_load(topology) != 0)
    throw std::runtime_error("hwloc could not load the machine topology");
  cpu_set_t affinity;
  CPU_ZERO(&affinity);
  const bool have_affinity = restrict && sched_getaffinity(0, sizeof(affinity), &affinity) == 0;
  hwloc_const_cpuset_t allowed = hwloc_topology_get_allowed_cpuset(topology);
  std::vector<PhysicalCore> cores;
  hwloc_obj_t last_core = nullptr;
  // hwloc enumerates PUs in topology order: package, core, then hyperthread siblings. A PU without a core
  // above it (hwloc saw no core level) is a core of its own.
  const int count = hwloc_get_nbobjs_by_type(topology, HWLOC_OBJ_PU);
  for (int i = 0; i < count; ++i) {
    hwloc_obj_t pu = hwloc_get_obj_by_type(topology, HWLOC_OBJ_PU, static_cast<unsigned>(i));
    if (pu == nullptr) continue;
    const int os = static_cast<int>(pu->os_index);
    if (restrict && !hwloc_bitmap_isset(allowed, pu->os_index)) continue;
    if (have_affinity && (os >= CPU_SETSIZE || !CPU_ISSET(os, &affinity))) continue;
    const hwloc_obj_t core = hwloc_get_ancestor_obj_by_type(topology, HWLOC_OBJ_CORE, pu);
    if (core == nullptr || core != last_core) {
      const hwloc_obj_t where = core ? core : pu;
      cores.push_back({{}, ancestor_index(topology, HWLOC_OBJ_PACKAGE, where), numa_index(topology, where)});
    }
    last_core = core;
    cores.back().hardware_threads.push_back(os);
  }
  if (cores.empty()) throw std::runtime_error("hwloc found no usable cpu");
  return cores;
}

}  // namespace

const Topology& Topology::detect() {
  static const Topology machine = [] {
    Topology t;
    t.cores_ = load_cores(nullptr, true);
    t.cpu_model_ = read_cpu_model();
    t.index_cores();
    return t;
  }();
  return machine;
}

Topology Topology::from_cpus(std::vector<int> cpus, std::string model) {
  Topology t;
  for (int cpu : cpus) t.cores_.push_back({{cpu}, 0, 0});
  t.cpu_model_ = std::move(model);
  t.index_cores();
  return t;
}

Topology Topology::synthetic(const std::string& description, std::string model) {
  Topology t;
  t.cores_ = load_cores(description.c_str(), false);
  t.cpu_model_ = std::move(model);
  t.index_cores();
  return t;
}

void Topology::index_cores() {
  cpus_.clear();
  core_of_cpu_.clear();
  for (std::size_t c = 0; c < cores_.size(); ++c) {
    for (int cpu : cores_[c].hardware_threads) {
      cpus_.push_back(cpu);
      if (cpu < 0) continue;
      if (static_cast<std::size_t>(cpu) >= core_of_cpu_.size())
        core_of_cpu_.resize(static_cast<std::size_t>(cpu) + 1, -1);
      core_of_cpu_[static_cast<std::size_t>(cpu)] = static_cast<int>(c);
    }
  }
}

int Topology::threads_per_core() const {
  std::size_t most = 1;
  for (const auto& core : cores_) most = std::max(most, core.hardware_threads.size());
  return static_cast<int>(most);
}

int Topology::core_index(int cpu) const {
  if (cpu < 0 || static_cast<std::size_t>(cpu) >= core_of_cpu_.size()) return -1;
  return core_of_cpu_[static_cast<std::size_t>(cpu)];
}

std::vector<PhysicalCore> Topology::cores_of(const std::vector<int>& cpus) const {
  std::vector<PhysicalCore> named;
  std::vector<int> seen;
  for (int cpu : cpus) {
    const int c = core_index(cpu);
    if (c < 0) {
      named.push_back({{cpu}, 0, 0});
    } else if (std::find(seen.begin(), seen.end(), c) == seen.end()) {
      seen.push_back(c);
      named.push_back(cores_[static_cast<std::size_t>(c)]);
    }
  }
  return named;
}

bool Topology::contains(int cpu) const {
  return core_index(cpu) >= 0;
}

std::string Topology::describe() const {
  const std::string list = " [" + format_cpu_list(cpus_) + "], " + cpu_model_;
  if (thread_count() == core_count()) return std::to_string(cpus_.size()) + " cpus" + list;
  return std::to_string(cores_.size()) + " cores, " + std::to_string(cpus_.size()) + " hardware threads" +
         list;
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
