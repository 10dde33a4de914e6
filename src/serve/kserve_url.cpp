#include "serve/kserve_url.hpp"

#include <charconv>
#include <stdexcept>
#include <string_view>

namespace conveyor::serve {
namespace {

struct Parts {
  std::string host;
  int port = 0;
  std::string_view path;  // from the first '/' after the authority, or empty
};

[[noreturn]] void bad(const std::string& url, const std::string& why, const char* expected) {
  throw std::invalid_argument("URL '" + url + "': " + why + " (expected " + expected + ")");
}

// "HOST:PORT[/PATH]" (HOST may be [IPv6]); the port is required: KServe servers have no default one.
Parts authority(const std::string& url, std::string_view rest, const char* expected) {
  Parts parts;
  const auto slash = rest.find('/');
  std::string_view hostport = rest.substr(0, slash);
  parts.path = slash == std::string_view::npos ? std::string_view{} : rest.substr(slash);
  std::string_view port_text;
  if (!hostport.empty() && hostport.front() == '[') {
    const auto close = hostport.find(']');
    if (close == std::string_view::npos) bad(url, "an IPv6 host needs its closing ']'", expected);
    parts.host = std::string(hostport.substr(1, close - 1));
    hostport.remove_prefix(close + 1);
    if (hostport.empty() || hostport.front() != ':') bad(url, "no port after the host", expected);
    port_text = hostport.substr(1);
  } else {
    const auto colon = hostport.rfind(':');
    if (colon == std::string_view::npos) bad(url, "no port after the host", expected);
    parts.host = std::string(hostport.substr(0, colon));
    port_text = hostport.substr(colon + 1);
  }
  if (parts.host.empty()) bad(url, "no host", expected);
  int port = 0;
  const auto [end, error] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (error != std::errc() || end != port_text.data() + port_text.size() || port < 1 || port > 65535)
    bad(url, "port '" + std::string(port_text) + "' is not a number in 1..65535", expected);
  parts.port = port;
  return parts;
}

}  // namespace

KServeUrl parse_kserve_url(const std::string& url) {
  constexpr const char* kExpected = "http://HOST:PORT/MODEL or grpc://HOST:PORT/MODEL";
  KServeUrl out;
  out.text = url;
  std::string_view rest = url;
  if (rest.starts_with("http://")) {
    out.protocol = Protocol::kHttp;
    rest.remove_prefix(7);
  } else if (rest.starts_with("grpc://")) {
    out.protocol = Protocol::kGrpc;
    rest.remove_prefix(7);
  } else if (rest.starts_with("https://") || rest.starts_with("grpcs://")) {
    bad(url, "TLS is not supported", kExpected);
  } else {
    bad(url, "the scheme must be http:// or grpc://", kExpected);
  }
  const Parts parts = authority(url, rest, kExpected);
  out.host = parts.host;
  out.port = parts.port;
  std::string_view path = parts.path;
  if (path.starts_with("/v2/models/")) path.remove_prefix(10);  // the REST route's form is accepted too
  if (path.starts_with("/")) path.remove_prefix(1);
  while (path.ends_with("/")) path.remove_suffix(1);
  const auto versions = path.find("/versions/");
  if (versions != std::string_view::npos) {
    out.version = std::string(path.substr(versions + 10));
    path = path.substr(0, versions);
    if (out.version.empty() || out.version.find('/') != std::string::npos)
      bad(url, "the version after /versions/ must be one path segment", kExpected);
  }
  if (path.empty()) bad(url, "no model name in the path", kExpected);
  if (path.find('/') != std::string_view::npos || path.find('?') != std::string_view::npos)
    bad(url, "the path must be the model name alone, not '" + std::string(path) + "'", kExpected);
  out.model = std::string(path);
  return out;
}

HttpUrl parse_metrics_url(const std::string& url) {
  constexpr const char* kExpected = "http://HOST:PORT[/PATH], /metrics by default";
  std::string_view rest = url;
  if (!rest.starts_with("http://")) bad(url, "the scheme must be http://", kExpected);
  rest.remove_prefix(7);
  const Parts parts = authority(url, rest, kExpected);
  HttpUrl out{parts.host, parts.port, std::string(parts.path)};
  if (out.target.empty() || out.target == "/") out.target = "/metrics";
  return out;
}

std::string protocol_name(Protocol protocol) {
  return protocol == Protocol::kHttp ? "http" : "grpc";
}

}  // namespace conveyor::serve
