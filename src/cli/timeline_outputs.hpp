#pragma once
// What `run` and `bench` write from their timeline: --trace FILE.json (Chrome trace events, for Perfetto or
// chrome://tracing) and, for bench, --plot FILE.svg|.png (charts drawn by gnuplot).
#include <CLI/CLI.hpp>
#include <optional>
#include <string>

#include "conveyor/api/predictions.hpp"
#include "conveyor/api/running_pipeline.hpp"

namespace conveyor::cli {

struct TimelineOutputs {
  std::string trace;
  std::string plot;
  std::size_t max_requests = TimelineRecorder::kDefaultMaxRequests;

  // What StartOptions::timeline_requests should be: 0 when neither output is asked for.
  std::size_t timeline_requests() const { return trace.empty() && plot.empty() ? 0 : max_requests; }
};

// --trace and --trace-limit; returns --trace.
CLI::Option* add_trace_options(CLI::App& command, TimelineOutputs& outputs);
CLI::Option* add_plot_option(CLI::App& command, TimelineOutputs& outputs);

// Throws for what writing them later would fail on (no such folder, a plot that is not .svg/.png, no
// gnuplot), so a long run is not wasted.
void check_timeline_outputs(const TimelineOutputs& outputs);

// Writes what was asked for from `running`'s timeline (`predicted` goes on the plot), saying on stderr
// where it went and how many requests were kept, unless `quiet`.
void write_timeline_outputs(const RunningPipeline& running, const TimelineOutputs& outputs,
                            const std::optional<Predictions>& predicted, bool quiet);

}  // namespace conveyor::cli
