#pragma once
// The KServe v2 REST bodies: infer requests and responses as JSON, with the binary tensor data extension
// (tensor bytes after the JSON, whose length the Inference-Header-Content-Length header gives), and the
// metadata, error and repository bodies.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "serve/inference.hpp"
#include "serve/served_model.hpp"

namespace conveyor::serve {

// `body` is JSON alone, or, with `json_length`, JSON of that many bytes followed by binary tensor data.
// Throws ServeError(kBadRequest) naming what is wrong and where (input, field, byte counts).
InferRequest decode_infer_request(std::string_view body, std::optional<std::size_t> json_length,
                                  const RequestLimits& limits);

struct EncodedBody {
  std::string bytes;
  std::optional<std::size_t> json_length;  // set when binary tensor data follows the JSON
};
EncodedBody encode_infer_response(const InferResponse& response);

std::string error_json(const std::string& message);
std::string model_metadata_json(const ModelMetadata& metadata);
std::string server_metadata_json(const std::string& name, const std::string& version,
                                 const std::vector<std::string>& extensions);

}  // namespace conveyor::serve
