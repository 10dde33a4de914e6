#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "conveyor/graph/partition.hpp"

namespace conveyor {
namespace {

void check_costs(const std::vector<double>& values, const char* what) {
  for (std::size_t i = 0; i < values.size(); ++i)
    if (!std::isfinite(values[i]) || values[i] < 0)
      throw GraphError(std::string("split_chain: ") + what + "[" + std::to_string(i) +
                       "] = " + std::to_string(values[i]) + " is not a finite non-negative cost");
}

}  // namespace

ChainSplit split_chain(const std::vector<double>& cost, const std::vector<double>& entry_cost, int stages,
                       const std::vector<int>& required_cuts, const std::vector<int>& forbidden_cuts) {
  const int n = static_cast<int>(cost.size());
  if (n == 0) throw GraphError("split_chain: nothing to split (no nodes)");
  if (stages < 1) throw GraphError("split_chain: stages must be >= 1, got " + std::to_string(stages));
  if (stages > n)
    throw GraphError("split_chain: " + std::to_string(stages) + " stages asked for only " +
                     std::to_string(n) + " nodes (every stage needs at least one node)");
  if (entry_cost.size() != cost.size())
    throw GraphError("split_chain: " + std::to_string(entry_cost.size()) + " entry costs for " +
                     std::to_string(n) + " positions");
  check_costs(cost, "cost");
  check_costs(entry_cost, "entry_cost");

  std::vector<int> pins = required_cuts;
  std::sort(pins.begin(), pins.end());
  pins.erase(std::unique(pins.begin(), pins.end()), pins.end());
  for (int p : pins)
    if (p < 1 || p > n - 1)
      throw GraphError("split_chain: required cut at position " + std::to_string(p) + " is outside 1.." +
                       std::to_string(n - 1));
  if (static_cast<int>(pins.size()) > stages - 1)
    throw GraphError("split_chain: " + std::to_string(pins.size()) + " pinned cuts need at least " +
                     std::to_string(pins.size() + 1) + " stages, only " + std::to_string(stages) + " given");

  std::vector<int> may_begin(static_cast<std::size_t>(n) + 1, 1);  // may a stage begin at a position?
  for (int p : forbidden_cuts)
    if (p >= 1 && p < n) may_begin[static_cast<std::size_t>(p)] = 0;
  for (int p : pins) may_begin[static_cast<std::size_t>(p)] = 1;

  std::vector<double> prefix(static_cast<std::size_t>(n) + 1, 0.0);
  for (int i = 0; i < n; ++i)
    prefix[static_cast<std::size_t>(i) + 1] =
        prefix[static_cast<std::size_t>(i)] + cost[static_cast<std::size_t>(i)];
  // A stage starting at i may end no later than the first pinned cut after i.
  std::vector<int> limit(static_cast<std::size_t>(n), n);
  for (int i = 0, k = 0; i < n; ++i) {
    while (k < static_cast<int>(pins.size()) && pins[static_cast<std::size_t>(k)] <= i) ++k;
    if (k < static_cast<int>(pins.size()))
      limit[static_cast<std::size_t>(i)] = pins[static_cast<std::size_t>(k)];
  }
  auto stage_cost = [&](int b, int e) {
    return prefix[static_cast<std::size_t>(e)] - prefix[static_cast<std::size_t>(b)] +
           (b > 0 ? entry_cost[static_cast<std::size_t>(b)] : 0.0);
  };

  constexpr double kInf = std::numeric_limits<double>::infinity();
  const auto width = static_cast<std::size_t>(n) + 1;
  // best[k][j]: smallest bottleneck of the first j positions in k stages; from[k][j]: where stage k begins.
  std::vector<double> best(static_cast<std::size_t>(stages + 1) * width, kInf);
  std::vector<int> from(static_cast<std::size_t>(stages + 1) * width, -1);
  auto at = [width](int k, int j) {
    return static_cast<std::size_t>(k) * width + static_cast<std::size_t>(j);
  };
  best[at(0, 0)] = 0;
  for (int k = 1; k <= stages; ++k)
    for (int j = k; j <= n - (stages - k); ++j)
      for (int i = k - 1; i < j; ++i) {
        const double before = best[at(k - 1, i)];
        if (before == kInf || !may_begin[static_cast<std::size_t>(i)] || (i < n && j > limit[static_cast<std::size_t>(i)]))
          continue;
        const double candidate = std::max(before, stage_cost(i, j));
        if (candidate < best[at(k, j)]) {
          best[at(k, j)] = candidate;
          from[at(k, j)] = i;
        }
      }
  if (best[at(stages, n)] == kInf)
    throw GraphError("split_chain: no partition into " + std::to_string(stages) +
                     " stages honours the pinned cuts and the groups kept together");
  const double bottleneck = best[at(stages, n)];

  // Many partitions usually share the optimal bottleneck (only the slowest stage is tight). Among them, take
  // the one copying the fewest bytes across its cuts: a second pass minimising the summed entry costs with
  // every stage held at or below the bottleneck.
  const double cap = bottleneck * (1 + 1e-12) + 1e-15;
  std::vector<double> moved(best.size(), kInf);
  moved[at(0, 0)] = 0;
  for (int k = 1; k <= stages; ++k)
    for (int j = k; j <= n - (stages - k); ++j)
      for (int i = k - 1; i < j; ++i) {
        const double before = moved[at(k - 1, i)];
        if (before == kInf || !may_begin[static_cast<std::size_t>(i)] ||
            (i < n && j > limit[static_cast<std::size_t>(i)]) || stage_cost(i, j) > cap)
          continue;
        const double candidate = before + (i > 0 ? entry_cost[static_cast<std::size_t>(i)] : 0.0);
        if (candidate < moved[at(k, j)]) {
          moved[at(k, j)] = candidate;
          from[at(k, j)] = i;
        }
      }

  ChainSplit result;
  result.transfer = moved[at(stages, n)];
  result.stage_begin.assign(static_cast<std::size_t>(stages), 0);
  for (int k = stages, j = n; k >= 1; --k) {
    j = from[at(k, j)];
    result.stage_begin[static_cast<std::size_t>(k - 1)] = j;
  }
  result.bottleneck = 0;
  for (int k = 0; k < stages; ++k) {
    const int b = result.stage_begin[static_cast<std::size_t>(k)];
    const int e = k + 1 < stages ? result.stage_begin[static_cast<std::size_t>(k) + 1] : n;
    result.bottleneck = std::max(result.bottleneck, stage_cost(b, e));
  }
  return result;
}

}  // namespace conveyor
