#pragma once
// One inference request and its answer as both front ends (HTTP/JSON and gRPC) hand them to a served
// model, free of either protocol.
#include <chrono>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "conveyor/tensor/tensor.hpp"

namespace conveyor::serve {

// Why a request got no outputs; each front end maps it to its own status (HTTP code, gRPC code).
enum class Failure {
  kBadRequest,   // the request itself is wrong: 400 / INVALID_ARGUMENT
  kNotFound,     // no such model: 404 / NOT_FOUND
  kOverloaded,   // max_in_flight reached: 429 with Retry-After / RESOURCE_EXHAUSTED
  kUnavailable,  // shutting down, model not ready: 503 / UNAVAILABLE
  kTimeout,      // its timeout passed before a stage could start: 504 / DEADLINE_EXCEEDED
  kInternal,     // a stage failed on valid input: 500 / INTERNAL
};

class ServeError : public std::runtime_error {
 public:
  ServeError(Failure failure, const std::string& message) : std::runtime_error(message), failure_(failure) {}
  Failure failure() const { return failure_; }

 private:
  Failure failure_;
};

int http_status(Failure failure);

// A named tensor of a request or response: numbers in `tensor`, or, for datatype BYTES, one string per
// element in `strings` (row-major, `shape` gives their layout).
struct NamedTensor {
  std::string name;
  std::string datatype;  // KServe name: FP32, INT64, UINT8, BYTES, ...
  std::vector<int64_t> shape;
  Tensor tensor;
  std::vector<std::string> strings;
  bool binary = false;  // send in the binary tensor data extension (HTTP) / raw_output_contents (gRPC)
};

struct RequestedOutput {
  std::string name;
  std::optional<bool> binary;  // HTTP binary_data parameter; unset: the request's default
};

struct InferRequest {
  std::string model;
  std::string version;  // empty: the served one
  std::string id;
  std::vector<NamedTensor> inputs;
  std::vector<RequestedOutput> outputs;  // empty: every output of the last stage
  bool binary_outputs = false;           // HTTP binary_data_output parameter
  int priority = 0;                      // higher is served first
  std::optional<std::chrono::microseconds> timeout;
};

struct InferResponse {
  std::string model;
  std::string version;
  std::string id;
  std::vector<NamedTensor> outputs;
};

// Caps on what a request may hold; the server's options set them.
struct RequestLimits {
  int64_t max_tensor_elements = int64_t{64} << 20;     // per tensor
  std::chrono::microseconds max_timeout = std::chrono::seconds(300);  // a longer timeout is clamped
};

// The elements of a request tensor of `shape`; throws ServeError(kBadRequest) naming `context` for a
// negative size or more than limits.max_tensor_elements.
int64_t checked_elements(const std::vector<int64_t>& shape, const std::string& context, const RequestLimits& limits);

}  // namespace conveyor::serve
