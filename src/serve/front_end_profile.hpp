#pragma once
// The front end as a stage the planner places: its profile is the history of its CPU time per request on
// this CPU model (FrontEndMeter's samples, stored when a server stops), or a guess until there is one.
#include <string>
#include <vector>

#include "conveyor/api/runtime.hpp"
#include "conveyor/plan/planner.hpp"

namespace conveyor::serve {

inline constexpr double kGuessedFrontEndSeconds = 50e-6;  // per request; serve_overhead_bench's order here

struct FrontEndProfile {
  plan::StageProfile profile;  // one thread (its threads do not share a request)
  bool guessed = false;
  std::string summary;  // "front end: 38.2 µs CPU per request (412 samples, 3 min old)" or the guess
};

FrontEndProfile front_end_profile(const Runtime& runtime);
// Adds what a server measured to the history; nothing when there are no samples.
void record_front_end(Runtime& runtime, const std::vector<double>& samples);

}  // namespace conveyor::serve
