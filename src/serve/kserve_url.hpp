#pragma once
// Where a KServe v2 client connects: http://HOST:PORT/MODEL or grpc://HOST:PORT/MODEL (a model version
// as MODEL/versions/V), and a plain http://HOST:PORT[/PATH] for /metrics.
#include <string>

namespace conveyor::serve {

enum class Protocol { kHttp, kGrpc };

struct KServeUrl {
  Protocol protocol = Protocol::kHttp;
  std::string host;
  int port = 0;
  std::string model;
  std::string version;  // empty: the served one
  std::string text;     // as given
};

// Throws std::invalid_argument saying what is wrong and what is expected.
KServeUrl parse_kserve_url(const std::string& url);

struct HttpUrl {
  std::string host;
  int port = 0;
  std::string target;  // "/metrics" when the URL has no path
};
HttpUrl parse_metrics_url(const std::string& url);

std::string protocol_name(Protocol protocol);  // "http", "grpc"

}  // namespace conveyor::serve
