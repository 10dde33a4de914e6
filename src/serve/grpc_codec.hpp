#pragma once
// KServe v2 gRPC messages <-> the protocol-free request and response: typed `contents` or
// `raw_input_contents` in, `raw_output_contents` out (as Triton answers).
#include "grpc_service.pb.h"
#include "serve/inference.hpp"

namespace conveyor::serve {

// Throws ServeError(kBadRequest) naming the input and what is wrong.
InferRequest decode_infer_request(const inference::ModelInferRequest& message, const RequestLimits& limits);
void encode_infer_response(const InferResponse& response, inference::ModelInferResponse& message);

}  // namespace conveyor::serve
