#pragma once
// The zoo's models as ONNX protobufs, for the graph layer and tests; the public API (conveyor/graph/zoo.hpp)
// hands out serialized bytes only, so no public header includes onnx.
#include <onnx/onnx_pb.h>

#include <string>

#include "conveyor/graph/zoo.hpp"

namespace conveyor::zoo {

// Builds the model. Throws std::invalid_argument for an unknown name (the message lists the known ones)
// or options the architecture cannot take.
onnx::ModelProto build(const std::string& name, const ZooOptions& options = {});

// Throws std::runtime_error naming the model when onnx::checker or strict shape inference rejects it.
void check(const onnx::ModelProto& model);

}  // namespace conveyor::zoo
