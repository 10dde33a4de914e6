#include "conveyor/serve/server.hpp"

#include <future>
#include <mutex>
#include <thread>

#include "serve/front_end_cpus.hpp"
#include "serve/grpc_front_end.hpp"
#include "serve/http_front_end.hpp"
#include "serve/server_state.hpp"

namespace conveyor {
namespace {

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
  std::mutex stop_mutex;
  bool stopped = false;
};

Server::Server(Runtime& runtime, ServerOptions options) : state_(std::make_unique<State>(runtime, std::move(options))) {
  serve::ServerState& shared = state_->shared;
  shared.repository.load_all();
  for (const auto& model : shared.repository.models())
    shared.note("model '" + model->name() + "' ready (" + std::to_string(model->running().pipeline().metrics().stages.size()) +
                " stages)");
  const ServerOptions& o = shared.options;
  const std::vector<int> cpus = serve::front_end_cpus(shared.repository.models(), runtime.topology());
  if (o.http_port >= 0)
    state_->http = std::make_unique<serve::HttpFrontEnd>(shared, o.host, o.http_port, o.http_threads, cpus);
  if (o.grpc_port >= 0)
    state_->grpc = std::make_unique<serve::GrpcFrontEnd>(shared, o.host, o.grpc_port, o.grpc_threads, cpus);
  shared.note("front ends (" + std::to_string(o.http_port >= 0 ? o.http_threads : 0) + " HTTP, " +
              std::to_string(o.grpc_port >= 0 ? o.grpc_threads : 0) + " gRPC threads) on cpus " +
              (cpus.empty() ? "unpinned (the stages own every core)" : format_cpu_list(cpus) + " (no pinned stage owns them)"));
}

Server::~Server() { stop(); }

int Server::http_port() const { return state_->http ? state_->http->port() : -1; }
int Server::grpc_port() const { return state_->grpc ? state_->grpc->port() : -1; }

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
  if (state_->http) state_->http->stop_accepting();
  shared.control.finish();  // a load in progress completes; later ones are refused
  const int64_t admitted = shared.unanswered.load();
  if (admitted > 0) shared.note("stopping: " + std::to_string(admitted) + " requests in flight");
  if (!wait_answered(shared, shared.options.grace)) {
    shared.note("stopping: the grace period passed; " + std::to_string(shared.unanswered.load()) +
                " requests still in flight are answered 503");
    for (const auto& model : shared.repository.models()) model->running().pipeline().shutdown(ShutdownMode::kCancel);
    wait_answered(shared, std::chrono::seconds(5));
  }
  if (state_->http) state_->http->stop();
  if (state_->grpc) state_->grpc->stop();
  shared.note("stopped");
}

}  // namespace conveyor
