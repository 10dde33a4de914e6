// conveyor serve: pipelines as KServe v2 services over HTTP and gRPC until SIGINT / SIGTERM; SIGHUP
// re-reads the model repository.
#include <csignal>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "cli/cli_runtime.hpp"
#include "cli/commands.hpp"
#include "cli/option_checks.hpp"
#include "conveyor/serve/server.hpp"

namespace conveyor::cli {
namespace {

struct ServeCommand {
  std::vector<std::string> models;
  ServerOptions options;
  int64_t grace_s = 30;
  int64_t history_interval_s = 60;
  int64_t header_timeout_s = 10, body_timeout_s = 60, idle_timeout_s = 60, max_request_time_s = 300;
  std::size_t max_body_mib = 256;
};

void say(const std::string& line) {
  std::printf("conveyor serve: %s\n", line.c_str());
  std::fflush(stdout);
}

void serve(ServeCommand& o) {
  // Every thread the server starts inherits this mask: the signals reach only the sigwait below.
  sigset_t signals;
  sigemptyset(&signals);
  for (const int s : {SIGINT, SIGTERM, SIGHUP}) sigaddset(&signals, s);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  ServerOptions options = o.options;
  options.models.assign(o.models.begin(), o.models.end());
  options.grace = std::chrono::seconds(o.grace_s);
  options.history_interval = std::chrono::seconds(o.history_interval_s);
  options.header_timeout = std::chrono::seconds(o.header_timeout_s);
  options.body_timeout = std::chrono::seconds(o.body_timeout_s);
  options.idle_timeout = std::chrono::seconds(o.idle_timeout_s);
  options.max_request_time = std::chrono::seconds(o.max_request_time_s);
  options.max_body_bytes = o.max_body_mib << 20;
  options.on_note = say;
  Server server(cli_runtime(), std::move(options));
  if (server.http_port() >= 0)
    say("HTTP on http://" + o.options.host + ":" + std::to_string(server.http_port()));
  if (server.grpc_port() >= 0) say("gRPC on " + o.options.host + ":" + std::to_string(server.grpc_port()));
  say("ready; Ctrl-C (SIGINT) or SIGTERM stops, SIGHUP reloads the models");
  while (true) {
    int received = 0;
    if (sigwait(&signals, &received) != 0) continue;
    if (received == SIGHUP) {
      say("SIGHUP: reloading the models");
      server.reload();
      continue;
    }
    say(std::string(received == SIGINT ? "SIGINT" : "SIGTERM") + ": stopping");
    server.stop();
    return;
  }
}

}  // namespace

void add_serve_command(CLI::App& app) {
  auto o = std::make_shared<ServeCommand>();
  CLI::App* cmd = app.add_subcommand("serve", "Serve pipelines over KServe v2 HTTP and gRPC (with /metrics)");
  cmd->add_option("models", o->models,
                  "Pipeline files (one model each, named by its name:) and repository "
                  "directories (one pipeline file per model)")
      ->required()
      ->check(CLI::ExistingPath);
  cmd->add_option("--host", o->options.host, "Address to listen on (0.0.0.0: every interface)")
      ->capture_default_str();
  cmd->add_option("--http-port", o->options.http_port, "HTTP port (0: any free one, -1: no HTTP)")
      ->capture_default_str()
      ->check(CLI::Range(-1, 65535));
  cmd->add_option("--grpc-port", o->options.grpc_port, "gRPC port (0: any free one, -1: no gRPC)")
      ->capture_default_str()
      ->check(CLI::Range(-1, 65535));
  cmd->add_option(
         "--http-threads", o->options.http_threads,
         "HTTP front-end threads (0: as many as a plan: auto model's plan gives the front end, else 1)")
      ->capture_default_str()
      ->check(whole_number(0, 256));
  cmd->add_option("--grpc-threads", o->options.grpc_threads,
                  "gRPC front-end threads (0: as for --http-threads)")
      ->capture_default_str()
      ->check(whole_number(0, 256));
  cmd->add_option("--max-connections", o->options.max_connections, "HTTP connections open at once")
      ->capture_default_str()
      ->check(whole_number(1, 1 << 20));
  cmd->add_option("--max-header-bytes", o->options.max_header_bytes, "HTTP request line and headers")
      ->capture_default_str()
      ->check(whole_number(256, 1 << 24));
  cmd->add_option("--max-body-mib", o->max_body_mib, "HTTP body or gRPC message, MiB")
      ->capture_default_str()
      ->check(whole_number(1, 2047));
  cmd->add_option("--max-tensor-elements", o->options.max_tensor_elements, "Elements of one request tensor")
      ->capture_default_str()
      ->check(whole_number(1, int64_t{1} << 40));
  cmd->add_option("--header-timeout", o->header_timeout_s, "Seconds a client has to send its headers")
      ->capture_default_str()
      ->check(whole_number(1, 3600));
  cmd->add_option("--body-timeout", o->body_timeout_s, "Seconds a client has to send its body")
      ->capture_default_str()
      ->check(whole_number(1, 3600));
  cmd->add_option("--idle-timeout", o->idle_timeout_s,
                  "Seconds a keep-alive connection may wait for a request")
      ->capture_default_str()
      ->check(whole_number(1, 86400));
  cmd->add_option("--max-request-time", o->max_request_time_s,
                  "Seconds: the longest timeout a request may ask")
      ->capture_default_str()
      ->check(whole_number(1, 86400));
  cmd->add_option("--grace", o->grace_s, "Seconds admitted requests get to finish on SIGINT / SIGTERM")
      ->capture_default_str()
      ->check(whole_number(0, 3600));
  cmd->add_option("--history-interval", o->history_interval_s,
                  "Seconds between saves of what the models served (service times, arrivals) to the profile "
                  "history; 0: only when the server stops")
      ->capture_default_str()
      ->check(whole_number(0, 86400));
  cmd->footer(
      "Examples:\n  conveyor serve examples/image_classify.yaml\n"
      "  curl -s localhost:8000/v2/models/image-classify\n"
      "  conveyor serve models/ --http-port 9000 --grpc-port -1   (a repository directory; SIGHUP reloads "
      "it)");
  cmd->callback([o] { serve(*o); });
}

}  // namespace conveyor::cli
