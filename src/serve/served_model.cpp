#include "serve/served_model.hpp"

#include <algorithm>
#include <cstring>
#include <set>

#include "conveyor/tensor/shape.hpp"
#include "serve/datatype.hpp"

namespace conveyor::serve {
namespace {

TensorMetadata metadata_of(const TensorSignature& signature) {
  if (signature.text) return {signature.name, std::string(kBytes), signature.dims};
  // Raw bytes are one BYTES element per request (UINT8 [N] is accepted too).
  if (signature.bytes) return {signature.name, std::string(kBytes), {1}};
  return {signature.name, datatype_name(signature.dtype), signature.dims};
}

std::string names_of(const std::vector<TensorSignature>& signatures) {
  std::string text;
  for (const auto& s : signatures) text += (text.empty() ? "'" : ", '") + s.name + "'";
  return text.empty() ? "none" : text;
}


bool shape_fits(const std::vector<int64_t>& want, const std::vector<int64_t>& given) {
  if (want.size() == 1 && want[0] == -1) return true;  // rank not known either
  if (want.size() != given.size()) return false;
  for (std::size_t i = 0; i < want.size(); ++i)
    if (want[i] != -1 && want[i] != given[i]) return false;
  return true;
}

[[noreturn]] void bad_input(const std::string& name, const std::string& message) {
  throw ServeError(Failure::kBadRequest, "input '" + name + "' " + message);
}

// The sample tensor for one request input, checked against what the pipeline's first stages read.
Tensor input_tensor(NamedTensor& given, const TensorSignature& want) {
  if (want.bytes) {
    if (given.datatype == kBytes) {
      if (given.strings.size() != 1)
        bad_input(given.name, "holds " + std::to_string(given.strings.size()) +
                                  " BYTES elements; it takes one (the file's or the text's bytes)");
      const std::string& bytes = given.strings.front();
      Tensor tensor(DType::kUInt8, {static_cast<int64_t>(bytes.size())});
      if (!bytes.empty()) std::memcpy(tensor.raw(), bytes.data(), bytes.size());
      return tensor;
    }
    if (given.datatype == "UINT8" && given.shape.size() == 1) return std::move(given.tensor);
    bad_input(given.name, "is " + given.datatype + " " + shape_str(given.shape) +
                              "; it takes raw bytes: BYTES [1] or UINT8 [N]");
  }
  if (given.datatype == kBytes || dtype_of_datatype(given.datatype) != want.dtype)
    bad_input(given.name, "is " + given.datatype + "; the model takes " + datatype_name(want.dtype));
  if (!shape_fits(want.dims, given.shape))
    bad_input(given.name, "has shape " + shape_str(given.shape) + "; the model takes " + shape_str(want.dims) +
                              " (-1: any size)");
  return std::move(given.tensor);
}

NamedTensor output_tensor(const std::string& name, const Tensor& tensor) {
  NamedTensor out;
  out.name = name;
  out.datatype = datatype_name(tensor.dtype());
  out.shape = tensor.shape();
  out.tensor = tensor;
  return out;
}

NamedTensor output_strings(const std::string& name, const std::vector<std::string>& strings) {
  NamedTensor out;
  out.name = name;
  out.datatype = std::string(kBytes);
  out.shape = {static_cast<int64_t>(strings.size())};
  out.strings = strings;
  return out;
}

}  // namespace

ServedModel::ServedModel(std::string version, std::unique_ptr<RunningPipeline> running, RequestLimits limits)
    : signature_(running->signature()), limits_(limits), running_(std::move(running)) {
  metadata_.name = running_->config().options.name;
  max_in_flight_ = running_->config().options.max_in_flight;
  metadata_.version = std::move(version);
  for (const auto& input : signature_.inputs) metadata_.inputs.push_back(metadata_of(input));
  for (const auto& output : signature_.outputs) metadata_.outputs.push_back(metadata_of(output));
}

ServedModel::~ServedModel() {
  running_->pipeline().shutdown(ShutdownMode::kDrain);  // its replies still count, and may read members
  // What it served since the last save (a replaced or unloaded model's last requests) goes to the profile
  // history; a store that cannot take it is no reason to fail stopping.
  try {
    running_->save_history();
  } catch (const std::exception&) {
  }
}

Sample ServedModel::to_sample(InferRequest& request) const {
  const OperatorSignature& signature = signature_;
  Sample sample;
  std::set<std::string> given;
  for (auto& input : request.inputs) {
    if (!given.insert(input.name).second) bad_input(input.name, "is given twice");
    if (signature.inputs.empty()) {  // the operators do not say: take what comes (strings as raw bytes)
      const TensorSignature any{.name = input.name, .dtype = input.tensor.dtype(), .dims = {-1},
                                .bytes = input.datatype == kBytes};
      sample.tensors[input.name] = input_tensor(input, any);
      continue;
    }
    const auto want = std::find_if(signature.inputs.begin(), signature.inputs.end(),
                                   [&](const TensorSignature& s) { return s.name == input.name; });
    if (want == signature.inputs.end())
      throw ServeError(Failure::kBadRequest, "model '" + name() + "' has no input '" + input.name +
                                                 "'; its inputs: " + names_of(signature.inputs));
    sample.tensors[input.name] = input_tensor(input, *want);
  }
  for (const auto& want : signature.inputs)
    if (!given.count(want.name))
      throw ServeError(Failure::kBadRequest, "model '" + name() + "' needs input '" + want.name +
                                                 "'; its inputs: " + names_of(signature.inputs));
  sample.priority = request.priority;
  if (request.timeout) sample.deadline = Clock::now() + std::min(*request.timeout, limits_.max_timeout);
  sample.source = request.id.empty() ? "request" : "request '" + request.id + "'";
  return sample;
}

InferOutcome ServedModel::to_outcome(Result&& result, const InferRequest& request) const {
  if (result.error) {
    const RequestError& error = *result.error;
    switch (error.kind) {
      case RequestError::Kind::kDeadline:
        return ServeError(Failure::kTimeout, "timeout: " + error.describe());
      case RequestError::Kind::kCancelled:
        return ServeError(Failure::kUnavailable, error.describe());
      case RequestError::Kind::kOperator:
        return ServeError(error.invalid_input ? Failure::kBadRequest : Failure::kInternal, error.describe());
    }
  }
  Sample& sample = result.sample;
  InferResponse response;
  response.model = name();
  response.version = version();
  response.id = request.id;
  auto add = [&](const std::string& output_name, std::optional<bool> binary) -> bool {
    NamedTensor out;
    if (const auto t = sample.tensors.find(output_name); t != sample.tensors.end())
      out = output_tensor(output_name, t->second);
    else if (const auto s = sample.texts.find(output_name); s != sample.texts.end())
      out = output_strings(output_name, s->second);
    else
      return false;
    out.binary = binary.value_or(request.binary_outputs);
    response.outputs.push_back(std::move(out));
    return true;
  };
  if (!request.outputs.empty()) {
    for (const auto& wanted : request.outputs) {
      if (add(wanted.name, wanted.binary)) continue;
      std::string held;
      for (const auto& [n, t] : sample.tensors) held += (held.empty() ? "'" : ", '") + n + "'";
      for (const auto& [n, t] : sample.texts) held += (held.empty() ? "'" : ", '") + n + "'";
      return ServeError(Failure::kBadRequest, "output '" + wanted.name + "' is not one the pipeline makes; it "
                                                  "holds " + (held.empty() ? "nothing" : held));
    }
  } else if (!signature_.outputs.empty()) {
    for (const auto& output : signature_.outputs) add(output.name, std::nullopt);
  } else {  // the operators did not say: everything the sample holds
    for (const auto& [n, t] : sample.tensors) add(n, std::nullopt);
    for (const auto& [n, s] : sample.texts) add(n, std::nullopt);
  }
  return response;
}

void ServedModel::infer(InferRequest request, InferReply reply) {
  counts_.received.fetch_add(1, std::memory_order_relaxed);
  Sample sample;
  try {
    sample = to_sample(request);
  } catch (const ServeError&) {
    counts_.rejected.fetch_add(1, std::memory_order_relaxed);
    throw;
  }
  sample.id = next_id_.fetch_add(1, std::memory_order_relaxed);
  const Clock::time_point admitted = Clock::now();
  auto shared = std::make_shared<InferRequest>(std::move(request));
  shared->inputs.clear();  // their tensors went into the sample
  auto on_done = [this, shared, admitted, reply = std::move(reply)](Result&& result) {
    InferOutcome outcome = to_outcome(std::move(result), *shared);
    counts_.latency.record(static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - admitted).count()));
    (std::holds_alternative<InferResponse>(outcome) ? counts_.succeeded : counts_.failed)
        .fetch_add(1, std::memory_order_relaxed);
    reply(std::move(outcome));
  };
  bool admitted_now = false;
  try {
    admitted_now = running_->try_submit(std::move(sample), std::move(on_done));
  } catch (const PipelineClosedError&) {
    counts_.rejected.fetch_add(1, std::memory_order_relaxed);
    throw ServeError(Failure::kUnavailable, "model '" + name() + "' is shutting down");
  }
  if (!admitted_now) {
    counts_.rejected.fetch_add(1, std::memory_order_relaxed);
    counts_.overloaded.fetch_add(1, std::memory_order_relaxed);
    throw ServeError(Failure::kOverloaded,
                     "model '" + name() + "' has max_in_flight (" +
                         std::to_string(max_in_flight_) +
                         ") requests in flight; retry later");
  }
}

}  // namespace conveyor::serve
