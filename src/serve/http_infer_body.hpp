#pragma once
// The client's side of a KServe v2 REST inference: a request body in the binary tensor data extension
// (JSON header, then each input's bytes; the header's length goes in Inference-Header-Content-Length) and
// the message of an error response.
#include <string>
#include <string_view>
#include <vector>

#include "serve/inference.hpp"
#include "serve/kserve_json.hpp"

namespace conveyor::serve {

// Every input goes as binary data (BYTES elements length-prefixed); `binary_outputs` asks for the
// outputs the same way (binary_data_output), which spares both sides printing and parsing numbers.
EncodedBody encode_binary_infer_request(const std::vector<NamedTensor>& inputs, bool binary_outputs);

// The "error" of a KServe error body, or the body itself (shortened) when it is not one.
std::string error_message(std::string_view body);

}  // namespace conveyor::serve
