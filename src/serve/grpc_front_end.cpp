#include "serve/grpc_front_end.hpp"

#include <grpcpp/grpcpp.h>

#include <mutex>
#include <thread>
#include <vector>

#include "conveyor/version.hpp"
#include "grpc_service.grpc.pb.h"
#include "serve/front_end_meter.hpp"
#include "serve/grpc_codec.hpp"

namespace conveyor::serve {
namespace {

using Service = inference::GRPCInferenceService::AsyncService;

grpc::StatusCode grpc_code(Failure failure) {
  switch (failure) {
    case Failure::kBadRequest:
      return grpc::StatusCode::INVALID_ARGUMENT;
    case Failure::kNotFound:
      return grpc::StatusCode::NOT_FOUND;
    case Failure::kOverloaded:
      return grpc::StatusCode::RESOURCE_EXHAUSTED;
    case Failure::kUnavailable:
      return grpc::StatusCode::UNAVAILABLE;
    case Failure::kTimeout:
      return grpc::StatusCode::DEADLINE_EXCEEDED;
    case Failure::kInternal:
      return grpc::StatusCode::INTERNAL;
  }
  return grpc::StatusCode::INTERNAL;
}

grpc::Status status_of(const ServeError& error) {
  return {grpc_code(error.failure()), error.what()};
}

// What every call of the front end shares. `closed` (under `mutex`) stops calls from requesting their
// successors once shutdown began: a call requested on a shut-down completion queue is an error.
struct Endpoint {
  Endpoint(ServerState& s, Service& v) : state(s), service(v) {}
  ServerState& state;
  Service& service;
  std::mutex mutex;
  bool closed = false;
};

// A tag on a completion queue: the queue's thread calls proceed() when its operation completes.
class Call {
 public:
  virtual ~Call() = default;
  virtual void proceed(bool ok) = 0;
};

// One unary call of one method: requested from the queue, handled, finished, then deleted. Handling it
// requests the next call of the same method, so each method always has one call waiting.
template <typename Request, typename Response>
class UnaryCall final : public Call {
 public:
  using Start = void (Service::*)(grpc::ServerContext*, Request*, grpc::ServerAsyncResponseWriter<Response>*,
                                  grpc::CompletionQueue*, grpc::ServerCompletionQueue*, void*);
  // Fills `call.response` and calls finish(), at once or later from any thread.
  using Handle = void (*)(ServerState&, UnaryCall&);

  static void request(Endpoint& endpoint, grpc::ServerCompletionQueue& queue, Start start, Handle handle) {
    std::lock_guard lock(endpoint.mutex);
    if (endpoint.closed) return;
    auto* call = new UnaryCall(endpoint, queue, start, handle);
    (endpoint.service.*start)(&call->context, &call->request_, &call->responder_, &queue, &queue, call);
  }

  void proceed(bool ok) override {
    if (finishing_ || !ok) {  // answered, or the server is shutting down
      delete this;
      return;
    }
    request(endpoint_, queue_, start_, handle_);
    endpoint_.state.meter.count_request();
    try {
      handle_(endpoint_.state, *this);
    } catch (const ServeError& error) {
      finish(status_of(error));
    } catch (const std::exception& error) {
      finish(grpc::Status(grpc::StatusCode::INTERNAL, error.what()));
    }
  }

  void finish(const grpc::Status& status) {
    finishing_ = true;
    responder_.Finish(response, status, this);
  }

  const Request& request() const { return request_; }
  grpc::ServerContext context;
  Response response;

 private:
  UnaryCall(Endpoint& endpoint, grpc::ServerCompletionQueue& queue, Start start, Handle handle)
      : endpoint_(endpoint), queue_(queue), start_(start), handle_(handle), responder_(&context) {}

  Endpoint& endpoint_;
  grpc::ServerCompletionQueue& queue_;
  Start start_;
  Handle handle_;
  Request request_;
  grpc::ServerAsyncResponseWriter<Response> responder_;
  bool finishing_ = false;
};

std::shared_ptr<ServedModel> find_model(ServerState& state, const std::string& name,
                                        const std::string& version) {
  auto model = state.repository.find(name);
  if (!model) throw ServeError(Failure::kNotFound, "no model '" + name + "' is served");
  if (!version.empty() && version != model->version())
    throw ServeError(Failure::kNotFound, "model '" + name + "' has no version '" + version +
                                             "'; it serves version " + model->version());
  return model;
}

void refuse_when_draining(ServerState& state) {
  if (state.draining.load()) throw ServeError(Failure::kUnavailable, "the server is shutting down");
}

using LiveCall = UnaryCall<inference::ServerLiveRequest, inference::ServerLiveResponse>;
using ReadyCall = UnaryCall<inference::ServerReadyRequest, inference::ServerReadyResponse>;
using ModelReadyCall = UnaryCall<inference::ModelReadyRequest, inference::ModelReadyResponse>;
using ServerMetadataCall = UnaryCall<inference::ServerMetadataRequest, inference::ServerMetadataResponse>;
using ModelMetadataCall = UnaryCall<inference::ModelMetadataRequest, inference::ModelMetadataResponse>;
using InferCall = UnaryCall<inference::ModelInferRequest, inference::ModelInferResponse>;

void live(ServerState& state, LiveCall& call) {
  call.response.set_live(!state.draining.load());
  call.finish(grpc::Status::OK);
}

void ready(ServerState& state, ReadyCall& call) {
  call.response.set_ready(state.ready());
  call.finish(grpc::Status::OK);
}

void model_ready(ServerState& state, ModelReadyCall& call) {
  refuse_when_draining(state);
  auto model = state.repository.find(call.request().name());
  call.response.set_ready(model &&
                          (call.request().version().empty() || call.request().version() == model->version()));
  call.finish(grpc::Status::OK);
}

void server_metadata(ServerState&, ServerMetadataCall& call) {
  call.response.set_name(kServerName);
  call.response.set_version(CONVEYOR_VERSION);
  for (const auto& extension : kExtensions) call.response.add_extensions(extension);
  call.finish(grpc::Status::OK);
}

void model_metadata(ServerState& state, ModelMetadataCall& call) {
  refuse_when_draining(state);
  const ModelMetadata& metadata =
      find_model(state, call.request().name(), call.request().version())->metadata();
  call.response.set_name(metadata.name);
  call.response.add_versions(metadata.version);
  call.response.set_platform(metadata.platform);
  auto add = [](const TensorMetadata& tensor, auto* out) {
    out->set_name(tensor.name);
    out->set_datatype(tensor.datatype);
    for (const int64_t dim : tensor.shape) out->add_shape(dim);
  };
  for (const auto& input : metadata.inputs) add(input, call.response.add_inputs());
  for (const auto& output : metadata.outputs) add(output, call.response.add_outputs());
  call.finish(grpc::Status::OK);
}

void model_infer(ServerState& state, InferCall& call) {
  refuse_when_draining(state);
  auto model = find_model(state, call.request().model_name(), call.request().model_version());
  InferRequest request = decode_infer_request(call.request(), state.limits);
  const auto deadline = call.context.deadline();
  if (deadline != std::chrono::system_clock::time_point::max()) {
    const auto left =
        std::chrono::duration_cast<std::chrono::microseconds>(deadline - std::chrono::system_clock::now());
    const auto timeout = std::max(left, std::chrono::microseconds(1));
    request.timeout = request.timeout ? std::min(*request.timeout, timeout) : timeout;
  }
  ++state.unanswered;
  try {
    model->infer(std::move(request), [&state, &call](InferOutcome&& outcome) {
      if (const auto* error = std::get_if<ServeError>(&outcome)) {
        call.finish(status_of(*error));
      } else {
        encode_infer_response(std::get<InferResponse>(outcome), call.response);
        call.finish(grpc::Status::OK);
      }
      --state.unanswered;
    });
  } catch (...) {
    --state.unanswered;
    throw;
  }
}

}  // namespace

struct GrpcFrontEnd::Impl {
  Service service;
  Endpoint endpoint;
  std::unique_ptr<grpc::Server> server;
  std::vector<std::unique_ptr<grpc::ServerCompletionQueue>> queues;
  std::vector<std::thread> threads;
  int port = -1;
  bool stopped = false;

  explicit Impl(ServerState& state) : endpoint{state, service} {}

  void serve(grpc::ServerCompletionQueue& queue) {
    LiveCall::request(endpoint, queue, &Service::RequestServerLive, live);
    ReadyCall::request(endpoint, queue, &Service::RequestServerReady, ready);
    ModelReadyCall::request(endpoint, queue, &Service::RequestModelReady, model_ready);
    ServerMetadataCall::request(endpoint, queue, &Service::RequestServerMetadata, server_metadata);
    ModelMetadataCall::request(endpoint, queue, &Service::RequestModelMetadata, model_metadata);
    InferCall::request(endpoint, queue, &Service::RequestModelInfer, model_infer);
    drain(queue);
  }

  static void drain(grpc::ServerCompletionQueue& queue) {
    void* tag = nullptr;
    bool ok = false;
    while (queue.Next(&tag, &ok)) static_cast<Call*>(tag)->proceed(ok);
  }

  void shut_down() {
    {
      std::lock_guard lock(endpoint.mutex);
      endpoint.closed = true;
    }
    if (server) server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
    for (auto& queue : queues) queue->Shutdown();
  }
};

GrpcFrontEnd::GrpcFrontEnd(ServerState& state, const std::string& host, int port, int threads,
                           const std::vector<int>& cpus)
    : impl_(std::make_unique<Impl>(state)) {
  grpc::ServerBuilder builder;
  const std::string address =
      (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" + std::to_string(port);
  builder.AddListeningPort(address, grpc::InsecureServerCredentials(), &impl_->port);
  builder.RegisterService(&impl_->service);
  builder.SetMaxReceiveMessageSize(
      static_cast<int>(std::min<std::size_t>(state.options.max_body_bytes, INT32_MAX)));
  builder.SetMaxSendMessageSize(INT32_MAX);
  for (int i = 0; i < std::max(threads, 1); ++i) impl_->queues.push_back(builder.AddCompletionQueue());
  impl_->server = builder.BuildAndStart();
  if (!impl_->server || impl_->port <= 0) {
    impl_->shut_down();
    for (auto& queue : impl_->queues) Impl::drain(*queue);
    throw std::runtime_error("gRPC: cannot listen on " + address +
                             " (in use, or not an address of this machine)");
  }
  for (auto& queue : impl_->queues)
    impl_->threads.emplace_back([this, q = queue.get(), cpus, &state] {
      const FrontEndThread counted(state.meter, cpus);
      impl_->serve(*q);
    });
}

GrpcFrontEnd::~GrpcFrontEnd() {
  stop();
}

int GrpcFrontEnd::port() const {
  return impl_->port;
}

void GrpcFrontEnd::stop() {
  if (impl_->stopped) return;
  impl_->stopped = true;
  impl_->shut_down();
  for (auto& thread : impl_->threads) thread.join();
}

}  // namespace conveyor::serve
