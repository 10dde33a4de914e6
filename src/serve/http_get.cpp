#include "serve/http_get.hpp"

#include <utility>  // before Boost 1.74: its asio headers use std::exchange without it

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <stdexcept>

namespace conveyor::serve {

HttpAnswer http_get(const std::string& host, int port, const std::string& target,
                    std::chrono::milliseconds timeout) {
  namespace asio = boost::asio;
  namespace beast = boost::beast;
  namespace http = beast::http;
  const std::string where = "GET http://" + host + ":" + std::to_string(port) + target;
  asio::io_context io;
  beast::tcp_stream stream(io);
  beast::flat_buffer buffer;
  http::request<http::empty_body> request{http::verb::get, target, 11};
  request.set(http::field::host, host + ":" + std::to_string(port));
  request.set(http::field::connection, "close");
  http::response_parser<http::string_body> parser;
  parser.body_limit(std::numeric_limits<std::uint64_t>::max());
  beast::error_code failure;
  const char* step = "connect";
  asio::ip::tcp::resolver resolver(io);
  beast::error_code ec;
  const auto endpoints = resolver.resolve(host, std::to_string(port), ec);
  if (ec) throw std::runtime_error(where + ": cannot resolve " + host + ": " + ec.message());
  stream.expires_after(timeout);
  stream.async_connect(endpoints, [&](beast::error_code e, const auto&) {
    if (e) return void(failure = e);
    step = "send";
    http::async_write(stream, request, [&](beast::error_code w, std::size_t) {
      if (w) return void(failure = w);
      step = "read the answer";
      http::async_read(stream, buffer, parser, [&](beast::error_code r, std::size_t) { failure = r; });
    });
  });
  io.run();
  if (failure)
    throw std::runtime_error(where + ": cannot " + step + ": " +
                             (failure == beast::error::timeout
                                  ? "no answer within " + std::to_string(timeout.count()) + " ms"
                                  : failure.message()));
  beast::error_code ignored;
  stream.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  return {static_cast<int>(parser.get().result_int()), std::move(parser.get().body())};
}

}  // namespace conveyor::serve
