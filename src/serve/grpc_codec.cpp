#include "serve/grpc_codec.hpp"

#include <cstring>
#include <limits>

#include "conveyor/tensor/visit_dtype.hpp"
#include "serve/datatype.hpp"
#include "serve/binary_tensor.hpp"

namespace conveyor::serve {
namespace {

[[noreturn]] void bad(const std::string& message) { throw ServeError(Failure::kBadRequest, message); }

std::string where(int index, const std::string& name) {
  return "inputs[" + std::to_string(index) + "]" + (name.empty() ? "" : " ('" + name + "')");
}

// The typed `contents` field a datatype uses, copied into the tensor.
template <typename T, typename Repeated>
void copy_contents(const Repeated& values, Tensor& tensor, const std::string& context, const char* field) {
  if (static_cast<int64_t>(values.size()) != tensor.numel())
    bad(context + ": contents." + field + " holds " + std::to_string(values.size()) + " values; its shape has " +
        std::to_string(tensor.numel()));
  T* out = tensor.data<T>();
  for (int i = 0; i < values.size(); ++i) {
    const auto v = values.Get(i);
    if constexpr (!std::is_same_v<T, bool> && !std::is_floating_point_v<T>) {
      if (v < static_cast<decltype(v)>(std::numeric_limits<T>::min()) ||
          v > static_cast<decltype(v)>(std::numeric_limits<T>::max()))
        bad(context + ": contents." + field + " holds " + std::to_string(v) + ", which does not fit the datatype");
    }
    out[i] = static_cast<T>(v);
  }
}

void tensor_from_contents(const inference::InferTensorContents& contents, Tensor& tensor, const std::string& context) {
  switch (tensor.dtype()) {
    case DType::kFloat32: return copy_contents<float>(contents.fp32_contents(), tensor, context, "fp32_contents");
    case DType::kFloat64: return copy_contents<double>(contents.fp64_contents(), tensor, context, "fp64_contents");
    case DType::kInt64: return copy_contents<int64_t>(contents.int64_contents(), tensor, context, "int64_contents");
    case DType::kInt32: return copy_contents<int32_t>(contents.int_contents(), tensor, context, "int_contents");
    case DType::kInt8: return copy_contents<int8_t>(contents.int_contents(), tensor, context, "int_contents");
    case DType::kUInt8: return copy_contents<uint8_t>(contents.uint_contents(), tensor, context, "uint_contents");
    case DType::kBool: return copy_contents<bool>(contents.bool_contents(), tensor, context, "bool_contents");
  }
}

std::optional<int64_t> integer_parameter(const google::protobuf::Map<std::string, inference::InferParameter>& parameters,
                                         const std::string& key) {
  const auto it = parameters.find(key);
  if (it == parameters.end()) return std::nullopt;
  const auto& p = it->second;
  if (p.has_int64_param()) return p.int64_param();
  if (p.has_uint64_param() && p.uint64_param() <= uint64_t(std::numeric_limits<int64_t>::max()))
    return static_cast<int64_t>(p.uint64_param());
  bad("request: parameter \"" + key + "\" must be an int64_param");
}

}  // namespace

InferRequest decode_infer_request(const inference::ModelInferRequest& message, const RequestLimits& limits) {
  InferRequest request;
  request.model = message.model_name();
  request.version = message.model_version();
  request.id = message.id();
  if (const auto priority = integer_parameter(message.parameters(), "priority")) {
    if (*priority < std::numeric_limits<int>::min() || *priority > std::numeric_limits<int>::max())
      bad("request: parameter \"priority\" is out of range");
    request.priority = static_cast<int>(*priority);
  }
  if (const auto timeout = integer_parameter(message.parameters(), "timeout")) {
    if (*timeout <= 0) bad("request: parameter \"timeout\" (microseconds) must be > 0");
    request.timeout = std::chrono::microseconds(*timeout);
  }
  if (message.inputs_size() == 0) bad("request has no inputs");
  const bool raw = message.raw_input_contents_size() > 0;
  if (raw && message.raw_input_contents_size() != message.inputs_size())
    bad("request has " + std::to_string(message.raw_input_contents_size()) + " raw_input_contents for " +
        std::to_string(message.inputs_size()) + " inputs; give one per input, or none");
  for (int i = 0; i < message.inputs_size(); ++i) {
    const auto& input = message.inputs(i);
    NamedTensor tensor;
    tensor.name = input.name();
    const std::string context = where(i, tensor.name);
    if (tensor.name.empty()) bad(context + " has no name");
    tensor.datatype = input.datatype();
    tensor.shape.assign(input.shape().begin(), input.shape().end());
    const int64_t elements = checked_elements(tensor.shape, context, limits);
    const std::optional<DType> dtype = dtype_of_datatype(tensor.datatype);
    if (!dtype && tensor.datatype != kBytes)
      bad(context + ": datatype \"" + tensor.datatype + "\" is not one conveyor takes (" + known_datatypes() + ")");
    if (raw) {
      read_binary_tensor(tensor, message.raw_input_contents(i), elements, context, "raw_input_contents");
    } else if (!dtype) {
      const auto& values = input.contents().bytes_contents();
      if (static_cast<int64_t>(values.size()) != elements)
        bad(context + ": contents.bytes_contents holds " + std::to_string(values.size()) +
            " values; its shape has " + std::to_string(elements));
      tensor.strings.assign(values.begin(), values.end());
    } else {
      tensor.tensor = Tensor(*dtype, tensor.shape);
      tensor_from_contents(input.contents(), tensor.tensor, context);
    }
    request.inputs.push_back(std::move(tensor));
  }
  for (const auto& output : message.outputs()) request.outputs.push_back({output.name(), std::nullopt});
  return request;
}

void encode_infer_response(const InferResponse& response, inference::ModelInferResponse& message) {
  message.set_model_name(response.model);
  message.set_model_version(response.version);
  message.set_id(response.id);
  for (const auto& tensor : response.outputs) {
    auto* out = message.add_outputs();
    out->set_name(tensor.name);
    out->set_datatype(tensor.datatype);
    for (const int64_t dim : tensor.shape) out->add_shape(dim);
    append_binary_tensor(*message.add_raw_output_contents(), tensor);
  }
}

}  // namespace conveyor::serve
