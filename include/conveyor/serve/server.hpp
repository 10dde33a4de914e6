#pragma once
// conveyor serve: pipelines as network services speaking the KServe v2 / Open Inference Protocol over
// HTTP/REST (with the binary tensor data extension) and gRPC, plus /metrics for Prometheus.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "conveyor/api/runtime.hpp"

namespace conveyor {

struct ServerOptions {
  // Pipeline files (one model each, named by its `name:`) and repository directories (one pipeline file per
  // model: *.yaml, *.yml).
  std::vector<std::filesystem::path> models;
  std::string host = "127.0.0.1";
  int http_port = 8000;  // 0: any free port (Server::http_port() says which); -1: no HTTP
  int grpc_port = 8001;  // the same for gRPC
  // Front-end threads, each with its own event loop; 0: as many as the plan of a `plan: auto` model gives the
  // front end (it is planned as the pipeline's first stage), else 1.
  int http_threads = 0;
  int grpc_threads = 0;

  std::size_t max_connections = 1024;                  // HTTP connections open at once; more are refused
  std::size_t max_header_bytes = 16 << 10;             // HTTP request line and headers
  std::size_t max_body_bytes = 256 << 20;              // an HTTP body or a gRPC message
  int64_t max_tensor_elements = int64_t{64} << 20;     // per request tensor
  std::chrono::milliseconds header_timeout{10000};     // a client must send its headers within this
  std::chrono::milliseconds body_timeout{60000};       // ... and its body within this
  std::chrono::milliseconds idle_timeout{60000};       // a keep-alive connection with no request is closed
  std::chrono::milliseconds max_request_time{300000};  // a request's own timeout is clamped to this
  std::chrono::milliseconds grace{30000};              // shutdown: how long admitted requests get to finish
  // How often each model's history (its stages' service times, the requests' arrival times: real demand)
  // goes to the profile store, as it does when the server stops; 0: only then.
  std::chrono::milliseconds history_interval{60000};

  // Lines the server says on its own (loads, reloads, shutdown). Default: nothing is said.
  std::function<void(const std::string&)> on_note;
};

// A running server: constructing it loads every model and starts listening; requests are served on the
// front ends' threads until stop().
class Server {
 public:
  // Throws ConfigError and friends for a model that does not start, std::runtime_error for a port it
  // cannot listen on.
  Server(Runtime& runtime, ServerOptions options);
  ~Server();  // stop()
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  int http_port() const;  // the port bound; -1 without HTTP
  int grpc_port() const;

  // Re-reads the repository (what SIGHUP does): starts new and changed models beside the old ones, stops
  // those whose file is gone. Returns once done; what it did goes to on_note. Thread-safe.
  void reload();
  // Stops accepting, lets every admitted request finish within the grace period (the rest are answered
  // 503), answers requests that arrive meanwhile with 503, then closes every connection. Idempotent.
  void stop();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace conveyor
