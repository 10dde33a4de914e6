#include "serve/kserve_grpc_client.hpp"

#include <grpcpp/grpcpp.h>

#include <mutex>
#include <stdexcept>
#include <thread>
#include <unordered_set>

#include "grpc_service.grpc.pb.h"
#include "serve/grpc_infer_request.hpp"

namespace conveyor::serve {
namespace {

struct GrpcPrepared final : PreparedRequest {
  inference::ModelInferRequest message;
};

// One call in flight: the completion queue hands it back when its reply (or failure) is in.
struct Call {
  grpc::ClientContext context;
  inference::ModelInferResponse response;
  grpc::Status status;
  std::unique_ptr<grpc::ClientAsyncResponseReader<inference::ModelInferResponse>> reader;
  ReplyCallback done;
};

std::string code_name(grpc::StatusCode code) {
  static constexpr const char* kNames[] = {
      "OK",        "CANCELLED",      "UNKNOWN",           "INVALID_ARGUMENT",   "DEADLINE_EXCEEDED",
      "NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION",
      "ABORTED",   "OUT_OF_RANGE",   "UNIMPLEMENTED",     "INTERNAL",           "UNAVAILABLE",
      "DATA_LOSS", "UNAUTHENTICATED"};
  const auto index = static_cast<std::size_t>(code);
  return index < std::size(kNames) ? kNames[index] : "status " + std::to_string(index);
}

std::string status_text(const grpc::Status& status) {
  return "gRPC " + code_name(status.error_code()) + ": " + status.error_message();
}

ClientReply reply_of(const grpc::Status& status) {
  if (status.ok()) return {};
  const std::string message = status_text(status);
  if (status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED)
    return {ClientReply::Kind::kRejected, message};
  if (status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED &&
      status.error_message() == "Deadline Exceeded")
    return {ClientReply::Kind::kError, "gRPC: no answer within the client's timeout"};
  return {ClientReply::Kind::kError, message};
}

std::string address_of(const KServeUrl& url) {
  return (url.host.find(':') != std::string::npos ? "[" + url.host + "]" : url.host) + ":" +
         std::to_string(url.port);
}

}  // namespace

struct KServeGrpcClient::Impl {
  KServeUrl url;
  ClientOptions options;
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<inference::GRPCInferenceService::Stub> stub;
  grpc::CompletionQueue queue;
  std::thread thread;
  std::mutex mutex;
  std::unordered_set<Call*> in_flight;  // cancelled by the destructor
  bool closing = false;

  void receive() {
    void* tag = nullptr;
    bool ok = false;
    while (queue.Next(&tag, &ok)) {
      std::unique_ptr<Call> call(static_cast<Call*>(tag));
      {
        std::lock_guard lock(mutex);
        in_flight.erase(call.get());
        if (closing) continue;
      }
      call->done(ok ? reply_of(call->status)
                    : ClientReply{ClientReply::Kind::kError, "gRPC: the call did not complete"});
    }
  }
};

KServeGrpcClient::KServeGrpcClient(const KServeUrl& url, const ClientOptions& options)
    : impl_(std::make_unique<Impl>()) {
  impl_->url = url;
  impl_->options = options;
  grpc::ChannelArguments arguments;
  arguments.SetMaxReceiveMessageSize(-1);
  arguments.SetMaxSendMessageSize(-1);
  impl_->channel = grpc::CreateCustomChannel(address_of(url), grpc::InsecureChannelCredentials(), arguments);
  impl_->stub = inference::GRPCInferenceService::NewStub(impl_->channel);
  impl_->thread = std::thread([impl = impl_.get()] { impl->receive(); });
}

KServeGrpcClient::~KServeGrpcClient() {
  {
    std::lock_guard lock(impl_->mutex);
    impl_->closing = true;
    for (Call* call : impl_->in_flight) call->context.TryCancel();
  }
  impl_->queue.Shutdown();  // Next() returns false once every call above has come back
  impl_->thread.join();
}

ModelMetadata KServeGrpcClient::metadata() {
  inference::ModelMetadataRequest request;
  request.set_name(impl_->url.model);
  request.set_version(impl_->url.version);
  inference::ModelMetadataResponse response;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + impl_->options.timeout);
  const grpc::Status status = impl_->stub->ModelMetadata(&context, request, &response);
  if (!status.ok())
    throw std::runtime_error("ModelMetadata at " + impl_->url.text + ": " + status_text(status));
  ModelMetadata metadata;
  metadata.name = response.name();
  if (response.versions_size() > 0) metadata.version = response.versions(0);
  metadata.platform = response.platform();
  for (const auto& t : response.inputs())
    metadata.inputs.push_back({t.name(), t.datatype(), {t.shape().begin(), t.shape().end()}});
  for (const auto& t : response.outputs())
    metadata.outputs.push_back({t.name(), t.datatype(), {t.shape().begin(), t.shape().end()}});
  return metadata;
}

PreparedHandle KServeGrpcClient::prepare(const std::vector<NamedTensor>& inputs) {
  auto prepared = std::make_shared<GrpcPrepared>();
  prepared->message = encode_grpc_infer_request(impl_->url.model, impl_->url.version, inputs);
  return prepared;
}

void KServeGrpcClient::infer(const PreparedHandle& request, ReplyCallback done) {
  const auto* prepared = dynamic_cast<const GrpcPrepared*>(request.get());
  if (!prepared) throw std::invalid_argument("KServeGrpcClient::infer: a request prepared by another client");
  auto call = std::make_unique<Call>();
  call->done = std::move(done);
  call->context.set_deadline(std::chrono::system_clock::now() + impl_->options.timeout);
  {
    std::lock_guard lock(impl_->mutex);
    if (impl_->closing) return;
    impl_->in_flight.insert(call.get());
  }
  call->reader = impl_->stub->PrepareAsyncModelInfer(&call->context, prepared->message, &impl_->queue);
  call->reader->StartCall();
  Call* tag = call.release();
  tag->reader->Finish(&tag->response, &tag->status, tag);
}

std::string KServeGrpcClient::describe() const {
  return "gRPC, raw_input_contents, one channel, asynchronous stub with one completion-queue thread";
}

}  // namespace conveyor::serve
