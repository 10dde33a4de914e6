#pragma once
#include <string>
#include <vector>

#include "conveyor/runtime/pipeline_spec.hpp"

namespace conveyor {

// One stage that runs every given stage's operator in order on the same worker: the "one request at a
// time, all cores on it" baseline that pipelining is measured against, and fused runs of stages. Each
// operator's time goes into sample.member_seconds[name], so a fused stage's members can still be profiled.
StageSpec fuse_stages(const std::vector<StageSpec>& stages, std::string name);

}  // namespace conveyor
