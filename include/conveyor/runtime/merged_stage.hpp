#pragma once
#include <string>
#include <vector>

#include "conveyor/runtime/pipeline_spec.hpp"

namespace conveyor {

// One stage that runs every given stage's operator in order on the same worker: the "one request at a
// time, all cores on it" baseline that pipelining is measured against, and merged runs of stages. Each
// operator's time goes into sample.member_seconds[name], so a merged stage's members can still be profiled.
StageSpec merge_stages(const std::vector<StageSpec>& stages, std::string name);

// What stages run in order read and write together: the inputs that no earlier stage writes (first
// mention kept), and the last stage's outputs.
OperatorSignature chain_signature(const std::vector<StageSpec>& stages);

}  // namespace conveyor
