#pragma once
// One blocking HTTP/1.1 GET on its own connection: a client's metadata and /metrics requests.
#include <chrono>
#include <string>

namespace conveyor::serve {

struct HttpAnswer {
  int status = 0;
  std::string body;
};

// Throws std::runtime_error naming host:port and target when it cannot connect, send or read in time.
HttpAnswer http_get(const std::string& host, int port, const std::string& target,
                    std::chrono::milliseconds timeout);

}  // namespace conveyor::serve
