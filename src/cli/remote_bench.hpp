#pragma once
// conveyor bench --url: the same load and report as the in-process bench, against a running KServe v2
// server over HTTP or gRPC.
#include <optional>
#include <string>
#include <vector>

#include "cli/bench_driver.hpp"

namespace conveyor::cli {

struct RemoteBenchOptions {
  std::string url;          // http://HOST:PORT/MODEL or grpc://HOST:PORT/MODEL
  std::string metrics_url;  // empty: the http:// URL's host and port; for grpc://, no stage table
  std::vector<std::string> inputs;
  std::optional<std::string> input_tensor;  // empty: the model's first input
  BenchOptions bench;
};

// Returns the exit status: 0, or 3 when some measured requests failed.
int run_remote_bench(const RemoteBenchOptions& options);

}  // namespace conveyor::cli
