#pragma once
// Charts of a Timeline, drawn by gnuplot (Debian package gnuplot-nox): each stage's utilisation over time,
// each stage's queue depth and the requests in flight over time, throughput over time, and the latency
// distribution (CDF). With predictions, the predicted utilisation and throughput are dashed (simulator) and
// dotted (analytic model) lines, the predicted p50 / p99 markers on the CDF.
#include <filesystem>
#include <optional>

#include "conveyor/api/predictions.hpp"
#include "conveyor/runtime/timeline.hpp"

namespace conveyor {

// Throws std::invalid_argument unless `file` ends in .svg or .png and its folder exists, and
// std::runtime_error naming the package when gnuplot is missing: what plot_timeline would fail on, checked
// before a run long enough to be worth plotting.
void check_plot_file(const std::filesystem::path& file);

// Writes the charts to `file` (.svg or .png, by its extension). Throws what check_plot_file throws,
// std::invalid_argument for a timeline without requests, std::runtime_error when gnuplot fails.
void plot_timeline(const Timeline& timeline, const std::optional<Predictions>& predicted,
                   const std::filesystem::path& file);

}  // namespace conveyor
