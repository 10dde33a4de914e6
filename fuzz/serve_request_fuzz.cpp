// libFuzzer target for the server's request decoding: any bytes, as a REST infer body (JSON alone, or JSON
// plus binary tensor data split where the first two bytes say) or as a gRPC ModelInferRequest, must decode
// or fail with ServeError — never crash, hang, leak, read out of bounds or throw anything else. A decoded
// request is encoded back as a response, as the server would answer with its tensors.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "serve/grpc_codec.hpp"
#include "serve/kserve_json.hpp"

namespace {

conveyor::serve::InferResponse echo(const conveyor::serve::InferRequest& request) {
  conveyor::serve::InferResponse response;
  response.outputs = request.inputs;
  for (auto& output : response.outputs) output.binary = !output.binary;
  return response;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 3) return 0;
  conveyor::serve::RequestLimits limits;
  limits.max_tensor_elements = 1 << 16;  // keep fuzzed shapes from allocating much
  const std::string_view body(reinterpret_cast<const char*>(data) + 3, size - 3);
  try {
    if (data[0] % 2 == 0) {
      std::optional<std::size_t> json_length;
      if (data[0] % 4 == 2) json_length = (std::size_t{data[1]} << 8 | data[2]) % (body.size() + 1);
      const auto request = conveyor::serve::decode_infer_request(body, json_length, limits);
      (void)conveyor::serve::encode_infer_response(echo(request));
    } else {
      inference::ModelInferRequest message;
      if (!message.ParseFromArray(body.data(), static_cast<int>(body.size()))) return 0;
      const auto request = conveyor::serve::decode_infer_request(message, limits);
      inference::ModelInferResponse response;
      conveyor::serve::encode_infer_response(echo(request), response);
    }
  } catch (const conveyor::serve::ServeError&) {
    // the expected outcome for malformed input
  }
  return 0;
}
