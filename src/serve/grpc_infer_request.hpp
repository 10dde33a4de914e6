#pragma once
// The client's side of a KServe v2 gRPC inference: a ModelInferRequest with every input in
// raw_input_contents (BYTES elements length-prefixed), as Triton's clients send them.
#include <string>
#include <vector>

#include "grpc_service.pb.h"
#include "serve/inference.hpp"

namespace conveyor::serve {

inference::ModelInferRequest encode_grpc_infer_request(const std::string& model, const std::string& version,
                                                       const std::vector<NamedTensor>& inputs);

}  // namespace conveyor::serve
