#include "serve/http_front_end.hpp"

#include <atomic>
#include <utility>  // before Boost 1.74: its asio headers use std::exchange without it

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <optional>

#include "serve/front_end_meter.hpp"
#include "serve/http_routes.hpp"

namespace conveyor::serve {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, ServerState& state, std::atomic<std::size_t>& open,
          std::atomic<int64_t>& writing)
      : stream_(std::move(socket)), state_(state), open_(open), writing_(writing) {}
  ~Session() { open_.fetch_sub(1); }

  void start() { read_header(); }

 private:
  const ServerOptions& options() const { return state_.options; }

  void read_header() {
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(options().max_header_bytes));
    parser_->body_limit(options().max_body_bytes);
    // The first request gets the header timeout; a kept-alive connection the idle timeout before it.
    stream_.expires_after(requests_ == 0 ? options().header_timeout : options().idle_timeout);
    http::async_read_header(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_header(ec); });
  }

  void on_header(beast::error_code ec) {
    if (ec) return fail_read(ec);
    stream_.expires_after(options().body_timeout);
    const auto& head = parser_->get();
    if (beast::iequals(head[http::field::expect], "100-continue")) {
      auto interim =
          std::make_shared<http::response<http::empty_body>>(http::status::continue_, head.version());
      http::async_write(stream_, *interim,
                        [self = shared_from_this(), interim](beast::error_code e, std::size_t) {
                          if (e) return self->close();
                          self->read_body();
                        });
      return;
    }
    read_body();
  }

  void read_body() {
    if (parser_->is_done()) return on_request({});
    http::async_read(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_request(ec); });
  }

  // A bad or slow request gets a status where the protocol still allows one, then the connection closes.
  void fail_read(beast::error_code ec) {
    HttpRequest head;
    head.version(11);
    if (ec == http::error::header_limit)
      return write(http_error(head, 431,
                              "request headers are over the server's max_header_bytes (" +
                                  std::to_string(options().max_header_bytes) + ")"),
                   false);
    if (ec == http::error::body_limit)
      return write(http_error(head, 413,
                              "request body is over the server's max_body_bytes (" +
                                  std::to_string(options().max_body_bytes) + ")"),
                   false);
    if (ec == beast::error::timeout && parser_->got_some() && !parser_->is_header_done())
      return write(http_error(head, 408, "request headers did not arrive within the header timeout"), false);
    if (ec == beast::error::timeout && parser_->is_header_done())
      return write(http_error(head, 408, "request body did not arrive within the body timeout"), false);
    if (ec != http::error::end_of_stream && ec != beast::error::timeout && ec != asio::error::eof &&
        ec != asio::error::connection_reset && ec != asio::error::operation_aborted && parser_->got_some())
      return write(http_error(head, 400, "malformed HTTP request: " + ec.message()), false);
    close();
  }

  void on_request(beast::error_code ec) {
    if (ec) return fail_read(ec);
    stream_.expires_never();
    ++requests_;
    state_.meter.count_request();
    request_ = parser_->release();
    auto self = shared_from_this();
    RespondLater later = [self](std::function<HttpResponse()> make) {
      asio::post(self->stream_.get_executor(), [self, make = std::move(make)] {
        HttpResponse response = make();  // always made: it settles the server's count of unanswered requests
        if (self->stream_.socket().is_open()) self->write(std::move(response), response.keep_alive());
      });
    };
    if (auto now = route_http(state_, request_, later)) write(std::move(*now), now->keep_alive());
  }

  void write(HttpResponse response, bool keep_alive) {
    if (state_.draining.load()) keep_alive = false;
    response.keep_alive(keep_alive);
    auto shared = std::make_shared<HttpResponse>(std::move(response));
    stream_.expires_after(options().body_timeout);  // a client that does not read its answer is dropped
    writing_.fetch_add(1);
    http::async_write(stream_, *shared,
                      [self = shared_from_this(), shared, keep_alive](beast::error_code ec, std::size_t) {
                        self->writing_.fetch_sub(1);
                        if (ec || !keep_alive) return self->close();
                        self->read_header();
                      });
  }

  void close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.close();
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  HttpRequest request_;
  ServerState& state_;
  std::atomic<std::size_t>& open_;
  std::atomic<int64_t>& writing_;
  uint64_t requests_ = 0;
};

}  // namespace

struct HttpFrontEnd::Impl {
  ServerState& state;
  // Before the contexts: sessions still queued in a context count themselves out when it is destroyed.
  std::atomic<std::size_t> open{0};  // connections
  std::atomic<int64_t> writing{0};   // responses being written
  std::vector<std::unique_ptr<asio::io_context>> contexts;
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> work;
  std::optional<tcp::acceptor> acceptor;
  std::vector<std::thread> threads;
  std::size_t next = 0;
  int port = -1;
  bool stopped = false;

  explicit Impl(ServerState& s) : state(s) {}

  void accept() {
    asio::io_context& target = *contexts[next++ % contexts.size()];
    acceptor->async_accept(target, [this](beast::error_code ec, tcp::socket socket) {
      if (ec == asio::error::operation_aborted || !acceptor->is_open()) return;
      if (!ec) {
        if (open.fetch_add(1) >= state.options.max_connections) {
          open.fetch_sub(1);
          static const std::string kRefused =
              "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nConnection: close\r\n"
              "Content-Length: 54\r\n\r\n{\"error\": \"the server has max_connections connections\"}";
          beast::error_code ignored;
          asio::write(socket, asio::buffer(kRefused), ignored);
          socket.close(ignored);
        } else {
          std::make_shared<Session>(std::move(socket), state, open, writing)->start();
        }
      }
      accept();
    });
  }
};

HttpFrontEnd::HttpFrontEnd(ServerState& state, const std::string& host, int port, int threads,
                           const std::vector<int>& cpus)
    : impl_(std::make_unique<Impl>(state)) {
  const int count = std::max(threads, 1);
  for (int i = 0; i < count; ++i) {
    impl_->contexts.push_back(std::make_unique<asio::io_context>(1));
    impl_->work.push_back(asio::make_work_guard(*impl_->contexts.back()));
  }
  try {
    const tcp::endpoint endpoint(asio::ip::make_address(host), static_cast<unsigned short>(port));
    impl_->acceptor.emplace(*impl_->contexts.front());
    impl_->acceptor->open(endpoint.protocol());
    impl_->acceptor->set_option(asio::socket_base::reuse_address(true));
    impl_->acceptor->bind(endpoint);
    impl_->acceptor->listen(asio::socket_base::max_listen_connections);
    impl_->port = impl_->acceptor->local_endpoint().port();
  } catch (const std::exception& e) {
    throw std::runtime_error("HTTP: cannot listen on " + host + ":" + std::to_string(port) + ": " + e.what());
  }
  impl_->accept();
  for (auto& context : impl_->contexts)
    impl_->threads.emplace_back([c = context.get(), cpus, &state] {
      const FrontEndThread counted(state.meter, cpus);
      c->run();
    });
}

HttpFrontEnd::~HttpFrontEnd() {
  stop();
}

int HttpFrontEnd::port() const {
  return impl_->port;
}

void HttpFrontEnd::stop_accepting() {
  asio::post(*impl_->contexts.front(), [impl = impl_.get()] {
    beast::error_code ignored;
    if (impl->acceptor->is_open()) impl->acceptor->close(ignored);
  });
}

void HttpFrontEnd::stop() {
  if (impl_->stopped) return;
  impl_->stopped = true;
  stop_accepting();
  // Answers already made get a moment to reach their clients.
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  while (impl_->writing.load() > 0 && std::chrono::steady_clock::now() < give_up)
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  impl_->work.clear();
  for (auto& context : impl_->contexts) context->stop();
  for (auto& thread : impl_->threads) thread.join();
}

}  // namespace conveyor::serve
