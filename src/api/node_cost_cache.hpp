#pragma once
// The per-node costs a split balances, measured once per model and kept on disk so that later expansions
// of the same file cut the same places.
#include <filesystem>
#include <string>
#include <vector>

#include "conveyor/graph/graph.hpp"

namespace conveyor {

// The cost in ms of each node of `graph` (same indices) on `threads` intra-op threads: read from
// `<cache_dir>/<key>-costs.json` when that file holds `runs`-run medians for as many nodes, else timed in
// the compiled executor on the calling thread (median of `runs`) and written there (a cache: failing to
// write it only means measuring again). `key` names the model version and what shapes its costs. Throws
// what timing throws (EngineError).
std::vector<double> cached_node_cost_ms(const Graph& graph, const std::string& key, int threads, int runs,
                                        const std::filesystem::path& cache_dir);

}  // namespace conveyor
