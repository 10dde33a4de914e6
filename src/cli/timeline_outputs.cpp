#include "cli/timeline_outputs.hpp"

#include <cstdio>
#include <filesystem>

#include "cli/option_checks.hpp"
#include "conveyor/api/timeline_plot.hpp"
#include "conveyor/runtime/chrome_trace.hpp"

namespace conveyor::cli {
namespace {

constexpr int64_t kMaxTimelineRequests = 10'000'000;  // about a GB of trace: far above what a viewer opens

}  // namespace

CLI::Option* add_trace_options(CLI::App& command, TimelineOutputs& outputs) {
  CLI::Option* trace =
      command.add_option("--trace", outputs.trace,
                         "Write a timeline of the requests as Chrome trace-event JSON (open it in "
                         "https://ui.perfetto.dev or chrome://tracing)");
  command
      .add_option("--trace-limit", outputs.max_requests,
                  "Keep the timeline of at most this many requests (the first ones) for --trace / --plot")
      ->capture_default_str()
      ->check(whole_number(1, kMaxTimelineRequests));
  return trace;
}

CLI::Option* add_plot_option(CLI::App& command, TimelineOutputs& outputs) {
  return command.add_option(
      "--plot", outputs.plot,
      "Draw per-stage utilisation, queue depth, throughput over time and the latency "
      "distribution, with the predictions when there are some, into FILE.svg or FILE.png "
      "(needs gnuplot)");
}

void check_timeline_outputs(const TimelineOutputs& outputs) {
  if (!outputs.trace.empty()) {
    const auto folder = std::filesystem::absolute(outputs.trace).parent_path();
    std::error_code ec;
    if (!std::filesystem::is_directory(folder, ec))
      throw std::runtime_error("--trace '" + outputs.trace + "': no folder '" + folder.string() + "'");
  }
  if (!outputs.plot.empty()) {
    try {
      check_plot_file(outputs.plot);
    } catch (const std::exception& e) {
      throw std::runtime_error(std::string("--plot: ") + e.what());
    }
  }
}

void write_timeline_outputs(const RunningPipeline& running, const TimelineOutputs& outputs,
                            const std::optional<Predictions>& predicted, bool quiet) {
  if (outputs.trace.empty() && outputs.plot.empty()) return;
  const std::optional<Timeline> timeline = running.timeline();
  if (!timeline) throw std::logic_error("the pipeline was started without keeping a timeline");
  const std::size_t kept = timeline->requests.size();
  if (timeline->dropped > 0 && !quiet)
    std::fprintf(stderr, "timeline: kept the first %zu of %llu requests (--trace-limit)\n", kept,
                 static_cast<unsigned long long>(kept + timeline->dropped));
  if (!outputs.trace.empty()) {
    write_chrome_trace(*timeline, outputs.trace);
    if (!quiet)
      std::fprintf(stderr,
                   "trace: %zu requests -> %s (open it in https://ui.perfetto.dev or chrome://tracing)\n",
                   kept, outputs.trace.c_str());
  }
  if (!outputs.plot.empty()) {
    plot_timeline(*timeline, predicted, outputs.plot);
    if (!quiet)
      std::fprintf(stderr, "plot: utilisation, queue depth, throughput and latency of %zu requests%s -> %s\n",
                   kept, predicted ? ", with predictions" : "", outputs.plot.c_str());
  }
}

}  // namespace conveyor::cli
