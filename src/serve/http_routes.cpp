#include "serve/http_routes.hpp"

#include <charconv>
#include <cstdint>
#include <nlohmann/json.hpp>

#include "conveyor/version.hpp"
#include "serve/kserve_json.hpp"
#include "serve/prometheus_text.hpp"

namespace conveyor::serve {
namespace {

namespace http = boost::beast::http;

constexpr const char* kJson = "application/json";

HttpResponse make_response(const HttpRequest& request, int status, std::string body,
                           const char* content_type) {
  HttpResponse response{static_cast<http::status>(status), request.version()};
  response.set(http::field::server, kServerName);
  response.set(http::field::content_type, content_type);
  response.keep_alive(request.keep_alive());
  response.body() = std::move(body);
  response.prepare_payload();
  return response;
}

HttpResponse failure_response(const HttpRequest& request, const ServeError& error) {
  HttpResponse response = http_error(request, http_status(error.failure()), error.what());
  if (error.failure() == Failure::kOverloaded) response.set(http::field::retry_after, "1");
  return response;
}

// "/v2/models/NAME[/versions/V][/TAIL]" -> name, version, tail.
struct ModelPath {
  std::string name, version, tail;
};
std::optional<ModelPath> model_path(std::string_view path) {
  constexpr std::string_view kPrefix = "/v2/models/";
  if (path.substr(0, kPrefix.size()) != kPrefix) return std::nullopt;
  path.remove_prefix(kPrefix.size());
  ModelPath out;
  const auto slash = path.find('/');
  out.name = std::string(path.substr(0, slash));
  if (out.name.empty()) return std::nullopt;
  path = slash == std::string_view::npos ? std::string_view{} : path.substr(slash);
  constexpr std::string_view kVersions = "/versions/";
  if (path.substr(0, kVersions.size()) == kVersions) {
    path.remove_prefix(kVersions.size());
    const auto end = path.find('/');
    out.version = std::string(path.substr(0, end));
    path = end == std::string_view::npos ? std::string_view{} : path.substr(end);
  }
  out.tail = std::string(path);
  return out;
}

std::shared_ptr<ServedModel> find_model(ServerState& state, const ModelPath& path) {
  auto model = state.repository.find(path.name);
  if (!model) {
    std::string known;
    for (const auto& m : state.repository.models()) known += (known.empty() ? "'" : ", '") + m->name() + "'";
    throw ServeError(Failure::kNotFound, "no model '" + path.name + "' is served (models: " +
                                             (known.empty() ? "none" : known) + ")");
  }
  if (!path.version.empty() && path.version != model->version())
    throw ServeError(Failure::kNotFound, "model '" + path.name + "' has no version '" + path.version +
                                             "'; it serves version " + model->version());
  return model;
}

std::string_view view(boost::beast::string_view text) {
  return {text.data(), text.size()};
}

std::optional<std::size_t> header_size(const HttpRequest& request, const char* field) {
  const auto it = request.find(field);
  if (it == request.end()) return std::nullopt;
  const std::string_view text = view(it->value());
  std::size_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size())
    throw ServeError(Failure::kBadRequest,
                     std::string(field) + " header '" + std::string(text) + "' is not a byte count");
  return value;
}

// conveyor's shortcut, outside KServe: a body sent as application/octet-stream (or image/*) without
// Inference-Header-Content-Length is a model's one raw-bytes input, e.g. `curl --data-binary @cat.jpg`.
bool raw_body(const HttpRequest& request) {
  const std::string_view type = view(request[http::field::content_type]);
  return type.substr(0, 24) == "application/octet-stream" || type.substr(0, 6) == "image/";
}

InferRequest raw_input_request(const ServedModel& model, std::string body) {
  const auto& inputs = model.metadata().inputs;
  if (inputs.size() != 1 || inputs.front().datatype != "BYTES")
    throw ServeError(Failure::kBadRequest,
                     "model '" + model.name() +
                         "' does not take one BYTES input, so a raw "
                         "application/octet-stream body cannot be its input; send KServe JSON");
  InferRequest request;
  NamedTensor input;
  input.name = inputs.front().name;
  input.datatype = "BYTES";
  input.shape = {1};
  input.strings.push_back(std::move(body));
  request.inputs.push_back(std::move(input));
  return request;
}

std::optional<HttpResponse> infer(ServerState& state, HttpRequest& request, const ModelPath& path,
                                  const RespondLater& later) {
  auto model = find_model(state, path);
  const auto json_length = header_size(request, "Inference-Header-Content-Length");
  InferRequest decoded = !json_length && raw_body(request)
                             ? raw_input_request(*model, std::move(request.body()))
                             : decode_infer_request(request.body(), json_length, state.limits);
  if (const auto timeout = header_size(request, "Timeout")) {
    if (*timeout == 0) throw ServeError(Failure::kBadRequest, "Timeout header (microseconds) must be > 0");
    const auto header =
        std::chrono::microseconds(static_cast<int64_t>(std::min<std::size_t>(*timeout, INT64_MAX / 2)));
    decoded.timeout = decoded.timeout ? std::min(*decoded.timeout, header) : header;
  }
  decoded.model = path.name;
  decoded.version = path.version;
  // The request's head outlives this call: the answer is made from it on the connection's thread.
  auto head = std::make_shared<HttpRequest>();
  head->version(request.version());
  head->keep_alive(request.keep_alive());
  ++state.unanswered;
  try {
    model->infer(std::move(decoded), [&state, head, later](InferOutcome&& outcome) {
      auto shared = std::make_shared<InferOutcome>(std::move(outcome));
      later([&state, head, shared]() {
        --state.unanswered;
        if (const auto* error = std::get_if<ServeError>(shared.get())) return failure_response(*head, *error);
        EncodedBody body = encode_infer_response(std::get<InferResponse>(*shared));
        HttpResponse response = make_response(*head, 200, std::move(body.bytes),
                                              body.json_length ? "application/octet-stream" : kJson);
        if (body.json_length)
          response.set("Inference-Header-Content-Length", std::to_string(*body.json_length));
        return response;
      });
    });
  } catch (...) {
    --state.unanswered;
    throw;
  }
  return std::nullopt;
}

std::optional<HttpResponse> repository(ServerState& state, HttpRequest& request, std::string_view path,
                                       const RespondLater& later) {
  if (path == "/v2/repository/index") {
    nlohmann::json index = nlohmann::json::array();
    for (const auto& status : state.repository.index()) {
      nlohmann::json entry = {{"name", status.name}, {"state", status.state}};
      if (!status.version.empty()) entry["version"] = status.version;
      if (!status.reason.empty()) entry["reason"] = status.reason;
      index.push_back(std::move(entry));
    }
    return make_response(request, 200, index.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                         kJson);
  }
  constexpr std::string_view kModels = "/v2/repository/models/";
  if (path.substr(0, kModels.size()) != kModels)
    return http_error(request, 404, "no route " + std::string(path));
  path.remove_prefix(kModels.size());
  const auto slash = path.find('/');
  const std::string name(path.substr(0, slash));
  const std::string action(slash == std::string_view::npos ? "" : path.substr(slash + 1));
  if (name.empty() || (action != "load" && action != "unload"))
    return http_error(request, 404, "repository routes are /v2/repository/models/{name}/load and .../unload");
  if (request.method() != http::verb::post)
    return http_error(request, 405, "use POST to " + action + " a model");
  auto head = std::make_shared<HttpRequest>();
  head->version(request.version());
  head->keep_alive(request.keep_alive());
  const bool posted = state.control.post([&state, head, name, action, later] {
    std::optional<ServeError> error;
    try {
      if (action == "load")
        state.repository.load(name);
      else
        state.repository.unload(name);
      state.note("model '" + name + "' " + (action == "load" ? "loaded" : "unloaded"));
    } catch (const ServeError& e) {
      error = e;
    } catch (const std::exception& e) {
      error = ServeError(Failure::kInternal, e.what());
    }
    later([head, error] {
      return error ? failure_response(*head, *error) : make_response(*head, 200, "{}", kJson);
    });
  });
  if (!posted) throw ServeError(Failure::kUnavailable, "the server is shutting down");
  return std::nullopt;
}

}  // namespace

HttpResponse http_error(const HttpRequest& request, int status, const std::string& message) {
  return make_response(request, status, error_json(message), kJson);
}

std::optional<HttpResponse> route_http(ServerState& state, HttpRequest& request, const RespondLater& later) {
  const std::string_view target = view(request.target());
  const std::string_view path = target.substr(0, target.find('?'));
  const bool get = request.method() == http::verb::get || request.method() == http::verb::head;
  const bool post = request.method() == http::verb::post;
  try {
    if (state.draining.load()) throw ServeError(Failure::kUnavailable, "the server is shutting down");
    if (path == "/v2/health/live") return make_response(request, 200, "", kJson);
    if (path == "/v2/health/ready")
      return state.ready() ? make_response(request, 200, "", kJson)
                           : http_error(request, 503, "no model is ready");
    if (path == "/v2" && get)
      return make_response(request, 200, server_metadata_json(kServerName, CONVEYOR_VERSION, kExtensions),
                           kJson);
    if (path == "/metrics" && get)
      return make_response(request, 200, prometheus_text(state.repository.models(), state.meter),
                           "text/plain; version=0.0.4; charset=utf-8");
    if (path.substr(0, 14) == "/v2/repository") {
      if (!get && !post) return http_error(request, 405, "use GET or POST");
      return repository(state, request, path, later);
    }
    if (const auto model = model_path(path)) {
      if (model->tail == "/infer") {
        if (!post) return http_error(request, 405, "use POST to infer");
        return infer(state, request, *model, later);
      }
      if (!get) return http_error(request, 405, "use GET for model metadata and readiness");
      if (model->tail.empty())
        return make_response(request, 200, model_metadata_json(find_model(state, *model)->metadata()), kJson);
      if (model->tail == "/ready") {
        find_model(state, *model);
        return make_response(request, 200, "", kJson);
      }
    }
    return http_error(request, 404,
                      "no route " + std::string(path) +
                          " (KServe v2: /v2, /v2/health/live, "
                          "/v2/health/ready, /v2/models/{name}[/ready|/infer], /v2/repository/index, "
                          "/metrics)");
  } catch (const ServeError& error) {
    return failure_response(request, error);
  } catch (const std::exception& error) {
    return http_error(request, 500, error.what());
  }
}

}  // namespace conveyor::serve
