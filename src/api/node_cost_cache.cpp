#include "api/node_cost_cache.hpp"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "conveyor/engine/node_timing.hpp"

namespace conveyor {

namespace fs = std::filesystem;

std::vector<double> cached_node_cost_ms(const Graph& graph, const std::string& key, int threads, int runs,
                                        const fs::path& cache_dir) {
  const fs::path file = cache_dir / (key + "-costs.json");
  std::error_code error;
  if (fs::exists(file, error)) {
    try {
      std::ifstream in(file);
      const nlohmann::json stored = nlohmann::json::parse(in);
      auto costs = stored.at("node_cost_ms").get<std::vector<double>>();
      const bool valid =
          std::all_of(costs.begin(), costs.end(), [](double ms) { return std::isfinite(ms) && ms >= 0; });
      if (valid && costs.size() == graph.nodes.size() && stored.at("runs").get<int>() == runs) return costs;
    } catch (const std::exception&) {
      // unreadable or stale: measure again and overwrite it
    }
  }
  std::vector<double> costs = measure_node_cost_ms(graph, threads, runs);
  fs::create_directories(cache_dir, error);
  const nlohmann::json stored{{"threads", threads}, {"runs", runs}, {"node_cost_ms", costs}};
  static std::atomic<unsigned> writes{0};  // threads of one process expanding the same model write apart
  const fs::path temporary =
      file.string() + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(writes.fetch_add(1));
  {
    std::ofstream out(temporary, std::ios::trunc);
    out << stored.dump();
  }
  fs::rename(temporary, file, error);
  if (error) fs::remove(temporary, error);
  return costs;
}

}  // namespace conveyor
