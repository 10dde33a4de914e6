#pragma once
#include "conveyor/plan/planner.hpp"

namespace conveyor::plan {

// Sets the batching of each planned stage that may batch (StageProfile::batch, choose_batch): as written,
// or the max_size, sizes and max_delay that simulate best under the plan's load and SLO (no batching unless
// it gains over 1%); then the plan's predictions are the simulation's with that batching, and its notes say
// what was chosen and what it gained. A stage merged with others does not batch.
void choose_batching(Plan& plan, const PlanRequest& request);

// Whether plan `a`, batching included, simulates better than `b` by over 1% (SLO met, keeping up, then
// throughput in closed loop, p99 otherwise).
bool batches_better(const Plan& a, const Plan& b, const PlanRequest& request);

}  // namespace conveyor::plan
