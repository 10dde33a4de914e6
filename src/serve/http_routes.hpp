#pragma once
// The KServe v2 REST routes (and /metrics): what each request to the HTTP front end is answered with.
#include <utility>  // before Boost 1.74: its asio headers use std::exchange without it

#include <boost/beast/http.hpp>
#include <functional>
#include <optional>

#include "serve/server_state.hpp"

namespace conveyor::serve {

using HttpRequest = boost::beast::http::request<boost::beast::http::string_body>;
using HttpResponse = boost::beast::http::response<boost::beast::http::string_body>;
// Hands a later answer to the connection from any thread; `make` then runs on the connection's thread.
using RespondLater = std::function<void(std::function<HttpResponse()> make)>;

// The answer now, or nothing when it comes later through `later` (an inference, a model load).
std::optional<HttpResponse> route_http(ServerState& state, HttpRequest& request, const RespondLater& later);

HttpResponse http_error(const HttpRequest& request, int status, const std::string& message);

}  // namespace conveyor::serve
