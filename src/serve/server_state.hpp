#pragma once
#include <atomic>
#include <string>

#include "conveyor/serve/server.hpp"
#include "serve/control_thread.hpp"
#include "serve/model_repository.hpp"

namespace conveyor::serve {

inline constexpr const char* kServerName = "conveyor";
inline const std::vector<std::string> kExtensions = {"binary_tensor_data", "model_repository", "metrics"};

// What both front ends share: the models, the caps, and whether the server is shutting down.
struct ServerState {
  ServerState(Runtime& runtime, ServerOptions server_options)
      : options(std::move(server_options)),
        limits{options.max_tensor_elements,
               std::chrono::duration_cast<std::chrono::microseconds>(options.max_request_time)},
        repository(runtime, options.models, limits) {}

  void note(const std::string& line) const {
    if (options.on_note) options.on_note(line);
  }
  bool ready() const { return !draining.load() && !repository.models().empty(); }

  ServerOptions options;
  RequestLimits limits;
  ModelRepository repository;
  ControlThread control;
  std::atomic<bool> draining{false};     // stop() began: new requests get 503
  std::atomic<int64_t> unanswered{0};  // admitted requests whose reply has not been written yet
};

}  // namespace conveyor::serve
