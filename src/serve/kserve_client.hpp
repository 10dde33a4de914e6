#pragma once
// A KServe v2 inference client of a running server, over HTTP/1.1 (binary tensor data extension,
// keep-alive connections) or gRPC (raw_input_contents): what `conveyor bench --url` and the serve
// benchmarks drive a server with. Requests are encoded once (prepare) and sent any number of times; replies
// come back asynchronously on the client's own thread, so one thread keeps many requests in flight.
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "serve/inference.hpp"
#include "serve/kserve_url.hpp"
#include "serve/served_model.hpp"

namespace conveyor::serve {

// How a request ended: answered with outputs, refused by admission (HTTP 429, gRPC RESOURCE_EXHAUSTED:
// the model had max_in_flight requests), or anything else (another status, a broken connection, a timeout).
struct ClientReply {
  enum class Kind { kOk, kRejected, kError };
  Kind kind = Kind::kOk;
  std::string message;  // kRejected, kError: the server's message or the transport's, with its status
};
using ReplyCallback = std::function<void(ClientReply&&)>;

// A request encoded for one client's protocol; immutable, shared by every send of it.
class PreparedRequest {
 public:
  virtual ~PreparedRequest() = default;
};
using PreparedHandle = std::shared_ptr<const PreparedRequest>;

struct ClientOptions {
  std::chrono::milliseconds timeout{60000};  // per request, connection included
  std::size_t max_connections = 1024;        // HTTP: open at once; more requests wait for a free one
  bool binary_outputs = true;                // HTTP: ask for binary output tensors
};

class KServeClient {
 public:
  virtual ~KServeClient() = default;  // requests still in flight are abandoned: their callbacks never run

  // The model's metadata (GET /v2/models/MODEL or ModelMetadata), blocking; throws std::runtime_error
  // with the server's answer.
  virtual ModelMetadata metadata() = 0;
  // Encodes an inference request of the URL's model with these inputs, once.
  virtual PreparedHandle prepare(const std::vector<NamedTensor>& inputs) = 0;
  // Sends it; `done` runs exactly once, on the client's thread (keep it short; it may call infer again,
  // which then starts the request at once). Thread-safe.
  virtual void infer(const PreparedHandle& request, ReplyCallback done) = 0;
  // How it talks, in words: "HTTP/1.1, keep-alive connections on one event-loop thread".
  virtual std::string describe() const = 0;
};

std::unique_ptr<KServeClient> make_kserve_client(const KServeUrl& url, const ClientOptions& options = {});

}  // namespace conveyor::serve
