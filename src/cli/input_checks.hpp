#pragma once
#include "cli/inputs.hpp"
#include "conveyor/runtime/operator.hpp"

namespace conveyor::cli {

// Checks every request against what the pipeline reads (RunningPipeline::signature().inputs) before
// anything runs: a tensor it does not read, one it reads that no --input gives, or a file whose dtype or
// shape it does not take is an error naming the file, the tensor, what it takes and what the file holds.
// Nothing is checked when the operators do not say what they read.
void check_inputs(const InputSet& set, const OperatorSignature& signature);

}  // namespace conveyor::cli
