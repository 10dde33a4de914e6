#pragma once
// A served model's per-stage counters read back from a server's /metrics (Prometheus text, as
// prometheus_text writes it), and what the stages did between two such scrapes.
#include <string>
#include <string_view>
#include <vector>

#include "conveyor/runtime/metrics.hpp"

namespace conveyor::serve {

struct StageCounters {
  std::string name;
  int workers = 0;
  int threads_per_worker = 1;
  double items = 0, errors = 0, busy_seconds = 0;
  double service_seconds = 0, service_count = 0;  // the service-time histogram's _sum and _count
  double queue_seconds = 0, queue_count = 0;
};

// The stages of `model`, in the order the text lists them, after the server's front end (a stage named
// kFrontEndStage: its requests as items, its threads' CPU time as busy and service time) when the text
// has its counters; empty when it lists no stage.
std::vector<StageCounters> scrape_stages(std::string_view prometheus_text, const std::string& model);

// The stages' items, errors, utilisation and mean service and queue times between two scrapes `seconds`
// apart (no cores or percentiles: /metrics has none). Empty when the two do not hold the same stages or a
// counter went back (the model was reloaded in between).
std::vector<StageMetrics> stage_metrics_between(const std::vector<StageCounters>& before,
                                                const std::vector<StageCounters>& after, double seconds);

}  // namespace conveyor::serve
