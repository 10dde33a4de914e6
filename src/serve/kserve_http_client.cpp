#include "serve/kserve_http_client.hpp"

#include <utility>  // before Boost 1.74: its asio headers use std::exchange without it

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <charconv>
#include <deque>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "serve/http_get.hpp"
#include "serve/http_infer_body.hpp"

namespace conveyor::serve {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

struct HttpPrepared final : PreparedRequest {
  std::string wire;  // the whole request as sent
};

struct Pending {
  std::shared_ptr<const HttpPrepared> request;
  ReplyCallback done;
};

std::string model_route(const KServeUrl& url) {
  return "/v2/models/" + url.model + (url.version.empty() ? "" : "/versions/" + url.version);
}

ClientReply reply_of(const http::response<http::string_body>& response) {
  const int status = static_cast<int>(response.result_int());
  if (status == 200) {
    const auto it = response.find("Inference-Header-Content-Length");
    if (it != response.end()) {
      std::size_t json_length = 0;
      const auto text = it->value();
      const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), json_length);
      if (error != std::errc() || end != text.data() + text.size() || json_length > response.body().size())
        return {ClientReply::Kind::kError, "HTTP 200 with a malformed Inference-Header-Content-Length"};
    }
    return {};
  }
  const std::string message = "HTTP " + std::to_string(status) + ": " + error_message(response.body());
  return {status == 429 ? ClientReply::Kind::kRejected : ClientReply::Kind::kError, message};
}

}  // namespace

struct KServeHttpClient::Impl {
  class Connection;

  KServeUrl url;
  ClientOptions options;
  asio::io_context io{1};  // first: destroyed last, after what its handlers hold
  asio::executor_work_guard<asio::io_context::executor_type> work = asio::make_work_guard(io);
  tcp::resolver::results_type endpoints;
  std::vector<std::shared_ptr<Connection>> idle;
  std::deque<Pending> waiting;  // every connection busy and max_connections open
  std::size_t open = 0;
  std::thread thread;

  // One keep-alive connection; it carries one request at a time (HTTP/1.1 without pipelining).
  class Connection : public std::enable_shared_from_this<Connection> {
   public:
    explicit Connection(Impl& impl) : impl_(impl), stream_(impl.io) {}

    void send(Pending pending) {
      current_ = std::move(pending);
      stream_.expires_after(impl_.options.timeout);
      if (connected_) return write();
      stream_.async_connect(impl_.endpoints,
                            [self = shared_from_this()](beast::error_code ec, const tcp::endpoint&) {
                              if (ec) return self->fail(ec, "connect");
                              self->connected_ = true;
                              beast::error_code ignored;
                              self->stream_.socket().set_option(tcp::no_delay(true), ignored);
                              self->write();
                            });
    }

   private:
    void write() {
      asio::async_write(stream_, asio::buffer(current_.request->wire),
                        [self = shared_from_this()](beast::error_code ec, std::size_t) {
                          if (ec) return self->fail(ec, "send the request");
                          self->read();
                        });
    }

    void read() {
      parser_.emplace();
      parser_->body_limit(std::numeric_limits<std::uint64_t>::max());
      http::async_read(stream_, buffer_, *parser_,
                       [self = shared_from_this()](beast::error_code ec, std::size_t) {
                         if (ec) return self->fail(ec, "read the answer");
                         self->answered();
                       });
    }

    void answered() {
      const auto& response = parser_->get();
      ClientReply reply = reply_of(response);
      const bool keep = response.keep_alive();
      parser_.reset();
      Pending finished = std::move(current_);
      if (!keep) close();
      // Free for the next request before the callback runs: a closed loop's next request reuses it.
      impl_.released(shared_from_this(), keep);
      finished.done(std::move(reply));
    }

    void fail(beast::error_code ec, const char* step) {
      const std::string why =
          ec == beast::error::timeout
              ? "no answer within " + std::to_string(impl_.options.timeout.count()) + " ms"
              : ec.message();
      Pending finished = std::move(current_);
      close();
      impl_.released(shared_from_this(), false);
      finished.done({ClientReply::Kind::kError, "HTTP: cannot " + std::string(step) + ": " + why});
    }

    void close() {
      beast::error_code ignored;
      stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
      stream_.close();
      connected_ = false;
    }

    Impl& impl_;
    beast::tcp_stream stream_;
    beast::flat_buffer buffer_;
    std::optional<http::response_parser<http::string_body>> parser_;
    Pending current_;
    bool connected_ = false;
  };

  // On the event-loop thread.
  void submit(Pending pending) {
    if (!idle.empty()) {
      auto connection = std::move(idle.back());
      idle.pop_back();
      return connection->send(std::move(pending));
    }
    if (open < options.max_connections) {
      ++open;
      return std::make_shared<Connection>(*this)->send(std::move(pending));
    }
    waiting.push_back(std::move(pending));
  }

  void released(std::shared_ptr<Connection> connection, bool reusable) {
    if (!reusable) --open;
    if (!waiting.empty()) {
      Pending next = std::move(waiting.front());
      waiting.pop_front();
      if (reusable) return connection->send(std::move(next));
      return submit(std::move(next));
    }
    if (reusable) idle.push_back(std::move(connection));
  }
};

KServeHttpClient::KServeHttpClient(const KServeUrl& url, const ClientOptions& options)
    : impl_(std::make_unique<Impl>()) {
  impl_->url = url;
  impl_->options = options;
  tcp::resolver resolver(impl_->io);
  beast::error_code ec;
  impl_->endpoints = resolver.resolve(url.host, std::to_string(url.port), ec);
  if (ec) throw std::runtime_error(url.text + ": cannot resolve '" + url.host + "': " + ec.message());
  impl_->thread = std::thread([io = &impl_->io] { io->run(); });
}

KServeHttpClient::~KServeHttpClient() {
  impl_->work.reset();
  impl_->io.stop();
  impl_->thread.join();
  impl_->idle.clear();
  impl_->waiting.clear();
}

ModelMetadata KServeHttpClient::metadata() {
  const KServeUrl& url = impl_->url;
  const std::string route = model_route(url);
  const HttpAnswer answer = http_get(url.host, url.port, route, impl_->options.timeout);
  const std::string where = "GET http://" + url.host + ":" + std::to_string(url.port) + route;
  if (answer.status != 200)
    throw std::runtime_error(where + ": HTTP " + std::to_string(answer.status) + ": " +
                             error_message(answer.body));
  ModelMetadata metadata;
  try {
    const auto body = nlohmann::json::parse(answer.body);
    metadata.name = body.at("name").get<std::string>();
    if (body.contains("versions") && !body["versions"].empty())
      metadata.version = body["versions"][0].get<std::string>();
    metadata.platform = body.value("platform", "");
    auto tensors = [](const nlohmann::json& list) {
      std::vector<TensorMetadata> out;
      for (const auto& t : list)
        out.push_back({t.at("name").get<std::string>(), t.at("datatype").get<std::string>(),
                       t.at("shape").get<std::vector<int64_t>>()});
      return out;
    };
    metadata.inputs = tensors(body.value("inputs", nlohmann::json::array()));
    metadata.outputs = tensors(body.value("outputs", nlohmann::json::array()));
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error(where + ": not KServe v2 model metadata: " + e.what());
  }
  return metadata;
}

PreparedHandle KServeHttpClient::prepare(const std::vector<NamedTensor>& inputs) {
  const EncodedBody body = encode_binary_infer_request(inputs, impl_->options.binary_outputs);
  http::request<http::string_body> request{http::verb::post, model_route(impl_->url) + "/infer", 11};
  request.set(http::field::host, impl_->url.host + ":" + std::to_string(impl_->url.port));
  request.set(http::field::content_type, "application/octet-stream");
  request.set("Inference-Header-Content-Length", std::to_string(*body.json_length));
  request.body() = body.bytes;
  request.prepare_payload();
  std::ostringstream wire;
  wire << request;
  auto prepared = std::make_shared<HttpPrepared>();
  prepared->wire = std::move(wire).str();
  return prepared;
}

void KServeHttpClient::infer(const PreparedHandle& request, ReplyCallback done) {
  auto prepared = std::dynamic_pointer_cast<const HttpPrepared>(request);
  if (!prepared) throw std::invalid_argument("KServeHttpClient::infer: a request prepared by another client");
  asio::dispatch(impl_->io,
                 [impl = impl_.get(), pending = Pending{std::move(prepared), std::move(done)}]() mutable {
                   impl->submit(std::move(pending));
                 });
}

std::string KServeHttpClient::describe() const {
  return "HTTP/1.1, binary tensor data, keep-alive connections (one per request in flight) on one event-loop "
         "thread";
}

}  // namespace conveyor::serve
