#pragma once
#include <optional>
#include <string>
#include <vector>

#include "conveyor/api/running_pipeline.hpp"

namespace conveyor::cli {

// The tensors and texts each result line holds. `asked` (--outputs) names them, each one the stages write
// or a request tensor (`given`), else an error listing what the pipeline makes; without it, what the last
// stage writes (the pipeline signature's outputs). nullopt when the operators do not say what they write:
// then a line holds every tensor but the request's and every text.
std::optional<std::vector<std::string>> chosen_outputs(const std::vector<std::string>& asked,
                                                       const std::vector<std::string>& given,
                                                       const RunningPipeline& running);

}  // namespace conveyor::cli
