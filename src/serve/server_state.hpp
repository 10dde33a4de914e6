#pragma once
#include <atomic>
#include <string>

#include "conveyor/serve/server.hpp"
#include "serve/control_thread.hpp"
#include "serve/front_end_meter.hpp"
#include "serve/front_end_profile.hpp"
#include "serve/model_repository.hpp"

namespace conveyor::serve {

inline constexpr const char* kServerName = "conveyor";
inline const std::vector<std::string> kExtensions = {"binary_tensor_data", "model_repository", "metrics"};

// What both front ends share: the models, the caps, and whether the server is shutting down.
struct ServerState {
  ServerState(Runtime& runtime, ServerOptions server_options)
      : runtime(runtime),
        options(std::move(server_options)),
        limits{options.max_tensor_elements,
               std::chrono::duration_cast<std::chrono::microseconds>(options.max_request_time)},
        front_end(front_end_profile(runtime)),
        repository(runtime, options.models, limits, start_options(front_end)) {}

  static StartOptions start_options(const FrontEndProfile& front_end) {
    StartOptions start;
    start.front_end = front_end.profile;
    return start;
  }

  void note(const std::string& line) const {
    if (options.on_note) options.on_note(line);
  }
  bool ready() const { return !draining.load() && !repository.models().empty(); }

  Runtime& runtime;
  ServerOptions options;
  RequestLimits limits;
  FrontEndProfile front_end;  // what plan: auto models plan their front end with
  FrontEndMeter meter;        // what the front end costs while serving
  ModelRepository repository;
  ControlThread control;
  std::atomic<bool> draining{false};   // stop() began: new requests get 503
  std::atomic<int64_t> unanswered{0};  // admitted requests whose reply has not been written yet
};

}  // namespace conveyor::serve
