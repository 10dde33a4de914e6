#pragma once
#include <memory>

#include "serve/kserve_client.hpp"

namespace conveyor::serve {

// KServe v2 over HTTP/1.1 on Boost.Beast: each request is one prepared byte string (request line,
// headers, JSON header and binary tensor data), written as is. Keep-alive connections, one per request in
// flight (opened as needed up to ClientOptions::max_connections, then reused, most recent first), all on
// one event-loop thread: it never blocks, so it keeps any number of requests in flight without a thread
// each, and the client costs the machine at most one core.
class KServeHttpClient final : public KServeClient {
 public:
  // Resolves the host; connections are opened by the first requests. Throws std::runtime_error.
  KServeHttpClient(const KServeUrl& url, const ClientOptions& options);
  ~KServeHttpClient() override;

  ModelMetadata metadata() override;
  PreparedHandle prepare(const std::vector<NamedTensor>& inputs) override;
  void infer(const PreparedHandle& request, ReplyCallback done) override;
  std::string describe() const override;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace conveyor::serve
