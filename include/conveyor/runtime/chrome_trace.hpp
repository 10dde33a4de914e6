#pragma once
// A Timeline as Chrome trace-event JSON (the JSON Object Format), which Perfetto (ui.perfetto.dev) and
// chrome://tracing open: the pipeline is one process, each stage worker one thread ("decode #0"); a
// complete event per request and stage it was served at (args: request id, input, queue wait, error); a
// flow linking each request's stages; counters for each stage's queue depth and the requests in flight.
// Times are microseconds from the first recorded submit.
#include <filesystem>
#include <string>

#include "conveyor/runtime/timeline.hpp"

namespace conveyor {

std::string chrome_trace_json(const Timeline& timeline);

// Writes chrome_trace_json(timeline) to `file`; throws std::runtime_error naming the file when it cannot.
void write_chrome_trace(const Timeline& timeline, const std::filesystem::path& file);

}  // namespace conveyor
