#pragma once
#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "conveyor/api/running_pipeline.hpp"
#include "conveyor/runtime/latency_histogram.hpp"
#include "serve/inference.hpp"

namespace conveyor::serve {

struct TensorMetadata {
  std::string name;
  std::string datatype;
  std::vector<int64_t> shape;  // -1: varies per request
};

struct ModelMetadata {
  std::string name;
  std::string version;
  std::string platform = "conveyor";
  std::vector<TensorMetadata> inputs, outputs;
};

// What the server counted of one model's requests (the pipeline counts its stages).
struct ServedCounts {
  std::atomic<uint64_t> received{0};   // requests that reached the model (decoded)
  std::atomic<uint64_t> succeeded{0};  // answered with outputs
  std::atomic<uint64_t> failed{0};     // admitted, answered with an error
  std::atomic<uint64_t> rejected{0};   // not admitted: invalid, overloaded or shutting down
  std::atomic<uint64_t> overloaded{0};  // of the rejected: max_in_flight reached
  LatencyHistogram latency;            // admission -> reply, every admitted request
};

using InferOutcome = std::variant<InferResponse, ServeError>;
using InferReply = std::function<void(InferOutcome&&)>;

// A running pipeline served as a model: its metadata, requests made into samples and results into
// responses. Destroying it drains what it admitted.
class ServedModel {
 public:
  ServedModel(std::string version, std::unique_ptr<RunningPipeline> running, RequestLimits limits);
  ~ServedModel();
  ServedModel(const ServedModel&) = delete;
  ServedModel& operator=(const ServedModel&) = delete;

  const std::string& name() const { return metadata_.name; }
  const std::string& version() const { return metadata_.version; }
  const ModelMetadata& metadata() const { return metadata_; }
  RunningPipeline& running() { return *running_; }
  const RunningPipeline& running() const { return *running_; }
  const ServedCounts& counts() const { return counts_; }

  // Checks the request against the model's inputs and admits it, or throws ServeError (kBadRequest,
  // kOverloaded, kUnavailable) without calling `reply`. Once admitted, `reply` is called exactly once, on a
  // pipeline thread: keep it short (hand the outcome to the front end's own thread).
  void infer(InferRequest request, InferReply reply);

 private:
  Sample to_sample(InferRequest& request) const;
  InferOutcome to_outcome(Result&& result, const InferRequest& request) const;

  ModelMetadata metadata_;
  OperatorSignature signature_;
  std::size_t max_in_flight_ = 0;
  RequestLimits limits_;
  ServedCounts counts_;
  std::atomic<uint64_t> next_id_{1};
  std::unique_ptr<RunningPipeline> running_;  // drained by the destructor: replies use the members above
};

}  // namespace conveyor::serve
