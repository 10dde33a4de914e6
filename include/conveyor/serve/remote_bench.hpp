#pragma once
// What `conveyor bench --url` does, for any client of the library: a running KServe v2 server driven with
// bench's closed or open loop (remote_load), its stage table taken from /metrics before and after the
// measured requests.
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "conveyor/runtime/load_generator.hpp"

namespace conveyor::serve {

struct RemoteInput {
  std::string origin;  // where it came from (a file), for messages
  std::string bytes;   // the file: raw bytes for a BYTES or UINT8 input, or a .npy
};

struct RemoteBenchRequest {
  std::string url;          // http://HOST:PORT/MODEL or grpc://HOST:PORT/MODEL
  std::string metrics_url;  // empty: the http:// URL's host and port; for grpc://, no stage table
  std::vector<RemoteInput> inputs;           // requests cycle through them
  std::optional<std::string> input_tensor;  // empty: the model's only input
  LoadSpec load;  // concurrency 0: twice the server's workers (from /metrics), else 4; on_result unused
  std::function<void(const std::string&)> on_note;  // why there is no stage table, when there is none
};

struct RemoteBench {
  std::string model;
  std::string url;
  std::string client;  // how the client talks, in words
  int concurrency = 0;  // the closed loop's
  LoadResult result;    // result.pipeline.stages: the stage table, or empty
};

// Throws std::runtime_error / std::invalid_argument for a URL, model or input it cannot use.
RemoteBench bench_remote(const RemoteBenchRequest& request);

}  // namespace conveyor::serve
