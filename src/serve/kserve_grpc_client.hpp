#pragma once
#include <memory>

#include "serve/kserve_client.hpp"

namespace conveyor::serve {

// KServe v2 over gRPC with the generated stub's asynchronous API: one channel (one HTTP/2 connection,
// requests multiplexed on it) and one completion-queue thread that receives every reply. A call costs an
// object, not a thread: an open loop may keep any number in flight, and, as with HTTP, the client's own
// work stays on one core. Each prepared request is a ModelInferRequest with raw_input_contents, built
// once; the stub serializes it per call (its API takes a message).
class KServeGrpcClient final : public KServeClient {
 public:
  KServeGrpcClient(const KServeUrl& url, const ClientOptions& options);
  ~KServeGrpcClient() override;

  ModelMetadata metadata() override;
  PreparedHandle prepare(const std::vector<NamedTensor>& inputs) override;
  void infer(const PreparedHandle& request, ReplyCallback done) override;
  std::string describe() const override;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace conveyor::serve
