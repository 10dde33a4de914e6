#include "conveyor/serve/server.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <future>
#include <mutex>
#include <thread>

#include "serve/front_end_cpus.hpp"
#include "serve/grpc_front_end.hpp"
#include "serve/periodic_task.hpp"
#include "serve/http_front_end.hpp"
#include "serve/server_state.hpp"

namespace conveyor {
namespace {

// Adds what each model served since the last save to the profile history; tells `note` what was added when
// `say` is set, and what could not be, always.
void save_histories(const serve::ServerState& state, bool say) {
  for (const auto& model : state.repository.models()) {
    const std::string summary = model->running().save_history();
    if (say || summary.rfind("warning", 0) == 0) state.note("model '" + model->name() + "': " + summary);
  }
}

// Waits until every admitted request was answered, or `limit` passed; true when all were.
bool wait_answered(const serve::ServerState& state, std::chrono::milliseconds limit) {
  const auto give_up = std::chrono::steady_clock::now() + limit;
  while (state.unanswered.load() > 0) {
    if (std::chrono::steady_clock::now() >= give_up) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return true;
}

}  // namespace

struct Server::State {
  State(Runtime& runtime, ServerOptions options) : shared(runtime, std::move(options)) {}
  serve::ServerState shared;
  std::unique_ptr<serve::HttpFrontEnd> http;  // after `shared`: destroyed first
  std::unique_ptr<serve::GrpcFrontEnd> grpc;
  std::unique_ptr<serve::PeriodicTask> history_saver;  // last: stopped first
  std::mutex stop_mutex;
  bool stopped = false;
};

Server::Server(Runtime& runtime, ServerOptions options)
    : state_(std::make_unique<State>(runtime, std::move(options))) {
  serve::ServerState& shared = state_->shared;
  shared.repository.load_all();
  for (const auto& model : shared.repository.models())
    shared.note("model '" + model->name() + "' ready (" +
                std::to_string(model->running().pipeline().metrics().stages.size()) + " stages)");
  const ServerOptions& o = shared.options;
  const serve::FrontEndPlacement placement =
      serve::place_front_end(shared.repository.models(), runtime.topology());
  const int planned_threads = std::max(placement.workers, 1);
  const int http_threads = o.http_port < 0 ? 0 : o.http_threads > 0 ? o.http_threads : planned_threads;
  const int grpc_threads = o.grpc_port < 0 ? 0 : o.grpc_threads > 0 ? o.grpc_threads : planned_threads;
  if (http_threads > 0)
    state_->http =
        std::make_unique<serve::HttpFrontEnd>(shared, o.host, o.http_port, http_threads, placement.cpus);
  if (grpc_threads > 0)
    state_->grpc =
        std::make_unique<serve::GrpcFrontEnd>(shared, o.host, o.grpc_port, grpc_threads, placement.cpus);
  const std::string where = placement.cpus.empty() ? "unpinned (the stages own every core)"
                            : placement.workers > 0
                                ? format_cpu_list(placement.cpus) + " (as planned)"
                                : format_cpu_list(placement.cpus) + " (no pinned stage owns them)";
  shared.note(
      fmt::format("front ends ({} HTTP, {} gRPC threads) on cpus {}", http_threads, grpc_threads, where));
  if (placement.workers > 0) shared.note(shared.front_end.summary);
  if (o.history_interval.count() > 0)
    state_->history_saver = std::make_unique<serve::PeriodicTask>(o.history_interval, [&shared] {
      shared.control.post([&shared] { save_histories(shared, false); });
    });
}

Server::~Server() {
  stop();
}

int Server::http_port() const {
  return state_->http ? state_->http->port() : -1;
}
int Server::grpc_port() const {
  return state_->grpc ? state_->grpc->port() : -1;
}

void Server::reload() {
  serve::ServerState& shared = state_->shared;
  auto done = std::make_shared<std::promise<void>>();
  const bool posted = shared.control.post([&shared, done] {
    if (!shared.draining.load())
      for (const auto& line : shared.repository.reload()) shared.note(line);
    done->set_value();
  });
  if (posted) done->get_future().wait();
}

void Server::stop() {
  std::lock_guard lock(state_->stop_mutex);
  if (state_->stopped) return;
  state_->stopped = true;
  serve::ServerState& shared = state_->shared;
  shared.draining = true;
  if (state_->history_saver) state_->history_saver->stop();
  if (state_->http) state_->http->stop_accepting();
  shared.control.finish();  // a load in progress completes; later ones are refused
  const int64_t admitted = shared.unanswered.load();
  if (admitted > 0) shared.note("stopping: " + std::to_string(admitted) + " requests in flight");
  if (!wait_answered(shared, shared.options.grace)) {
    shared.note("stopping: the grace period passed; " + std::to_string(shared.unanswered.load()) +
                " requests still in flight are answered 503");
    for (const auto& model : shared.repository.models())
      model->running().pipeline().shutdown(ShutdownMode::kCancel);
    wait_answered(shared, std::chrono::seconds(5));
  }
  shared.meter.stop();
  if (state_->http) state_->http->stop();
  if (state_->grpc) state_->grpc->stop();
  save_histories(shared, true);
  const std::vector<double> samples = shared.meter.samples();
  if (!samples.empty()) {
    try {
      serve::record_front_end(shared.runtime, samples);
      shared.note(fmt::format("front end: {:.1f} µs CPU per request over {} requests ({} samples stored)",
                              shared.meter.cpu_seconds() / static_cast<double>(shared.meter.requests()) * 1e6,
                              shared.meter.requests(), samples.size()));
    } catch (const std::exception& e) {
      shared.note(std::string("front end: its profile was not stored: ") + e.what());
    }
  }
  shared.note("stopped");
}

}  // namespace conveyor
