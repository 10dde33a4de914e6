#pragma once
// GET /metrics: the served models' counters, gauges and histograms in the Prometheus text exposition
// format 0.0.4, per model and per pipeline stage, and the front end's CPU time, requests and threads.
#include <memory>
#include <string>
#include <vector>

#include "serve/front_end_meter.hpp"
#include "serve/served_model.hpp"

namespace conveyor::serve {

std::string prometheus_text(const std::vector<std::shared_ptr<ServedModel>>& models,
                            const FrontEndMeter& front_end);

}  // namespace conveyor::serve
