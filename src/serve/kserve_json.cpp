#include "serve/kserve_json.hpp"

#include <algorithm>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>

#include "conveyor/tensor/visit_dtype.hpp"
#include "serve/datatype.hpp"
#include "serve/binary_tensor.hpp"

namespace conveyor::serve {
namespace {

using nlohmann::json;

constexpr int kMaxNesting = 32;  // data arrays nested deeper than any tensor rank conveyor runs

[[noreturn]] void bad(const std::string& message) { throw ServeError(Failure::kBadRequest, message); }

std::string where(std::size_t index, const std::string& name) {
  return "inputs[" + std::to_string(index) + "]" + (name.empty() ? "" : " ('" + name + "')");
}

const json* member(const json& object, const char* key) {
  const auto it = object.find(key);
  return it == object.end() || it->is_null() ? nullptr : &*it;
}

std::string string_field(const json& object, const char* key, const std::string& context, bool required) {
  const json* value = member(object, key);
  if (!value) {
    if (required) bad(context + " has no \"" + key + "\"");
    return "";
  }
  if (!value->is_string()) bad(context + ": \"" + key + "\" must be a string, got " + value->type_name());
  return value->get<std::string>();
}

std::optional<int64_t> integer_parameter(const json& parameters, const char* key, const std::string& context) {
  const json* value = member(parameters, key);
  if (!value) return std::nullopt;
  if (!value->is_number_integer())
    bad(context + ": parameter \"" + key + "\" must be an integer, got " + value->dump());
  if (value->is_number_unsigned() && value->get<uint64_t>() > uint64_t(std::numeric_limits<int64_t>::max()))
    bad(context + ": parameter \"" + key + "\" is too large");
  return value->get<int64_t>();
}

std::optional<bool> bool_parameter(const json& parameters, const char* key, const std::string& context) {
  const json* value = member(parameters, key);
  if (!value) return std::nullopt;
  if (!value->is_boolean()) bad(context + ": parameter \"" + key + "\" must be true or false");
  return value->get<bool>();
}

const json& parameters_of(const json& object, const std::string& context) {
  static const json empty = json::object();
  const json* parameters = member(object, "parameters");
  if (!parameters) return empty;
  if (!parameters->is_object()) bad(context + ": \"parameters\" must be an object");
  return *parameters;
}

std::vector<int64_t> shape_of(const json& input, const std::string& context, const RequestLimits& limits,
                              int64_t& elements) {
  const json* shape = member(input, "shape");
  if (!shape || !shape->is_array()) bad(context + " needs \"shape\": an array of dimension sizes");
  std::vector<int64_t> dims;
  for (const auto& d : *shape) {
    if (!d.is_number_integer() || d.get<int64_t>() < 0)
      bad(context + ": \"shape\" holds " + d.dump() + ", not a size >= 0");
    dims.push_back(d.get<int64_t>());
  }
  elements = checked_elements(dims, context, limits);
  return dims;
}

// Visits the leaves of `data` (nested arrays or flat), in row-major order.
template <typename Leaf>
void for_each_leaf(const json& data, const Leaf& leaf, const std::string& context, int depth = 0) {
  if (!data.is_array()) return leaf(data);
  if (depth > kMaxNesting) bad(context + ": \"data\" is nested deeper than " + std::to_string(kMaxNesting));
  for (const auto& item : data) for_each_leaf(item, leaf, context, depth + 1);
}

template <typename T>
T number_from(const json& value, const std::string& context) {
  if constexpr (std::is_same_v<T, bool>) {
    if (!value.is_boolean()) bad(context + ": BOOL data holds " + value.dump() + ", not true/false");
    return value.get<bool>();
  } else if constexpr (std::is_floating_point_v<T>) {
    if (!value.is_number()) bad(context + ": data holds " + value.dump() + ", not a number");
    return static_cast<T>(value.get<double>());
  } else {
    if (!value.is_number_integer()) bad(context + ": integer data holds " + value.dump() + ", not an integer");
    if (value.is_number_unsigned()) {
      const auto v = value.get<uint64_t>();
      if (v > static_cast<uint64_t>(std::numeric_limits<T>::max()))
        bad(context + ": " + value.dump() + " does not fit the datatype");
      return static_cast<T>(v);
    }
    const auto v = value.get<int64_t>();
    if (v < static_cast<int64_t>(std::numeric_limits<T>::min()) ||
        v > static_cast<int64_t>(std::numeric_limits<T>::max()))
      bad(context + ": " + value.dump() + " does not fit the datatype");
    return static_cast<T>(v);
  }
}

Tensor numbers_from_json(const json& data, DType dtype, std::vector<int64_t> shape, int64_t elements,
                         const std::string& context) {
  Tensor tensor(dtype, shape);
  visit_dtype(dtype, [&](auto tag) {
    using T = decltype(tag);
    T* out = tensor.data<T>();
    int64_t count = 0;
    for_each_leaf(
        data,
        [&](const json& value) {
          if (count >= elements)
            bad(context + ": \"data\" holds more than the " + std::to_string(elements) + " elements its shape has");
          out[count++] = number_from<T>(value, context);
        },
        context);
    if (count != elements)
      bad(context + ": \"data\" holds " + std::to_string(count) + " elements; its shape has " +
          std::to_string(elements));
  });
  return tensor;
}

std::vector<std::string> strings_from_json(const json& data, int64_t elements, const std::string& context) {
  std::vector<std::string> strings;
  for_each_leaf(
      data,
      [&](const json& value) {
        if (!value.is_string()) bad(context + ": BYTES data holds " + value.dump() + ", not a string");
        if (static_cast<int64_t>(strings.size()) >= elements)
          bad(context + ": \"data\" holds more than the " + std::to_string(elements) + " elements its shape has");
        strings.push_back(value.get<std::string>());
      },
      context);
  if (static_cast<int64_t>(strings.size()) != elements)
    bad(context + ": \"data\" holds " + std::to_string(strings.size()) + " elements; its shape has " +
        std::to_string(elements));
  return strings;
}

NamedTensor decode_input(const json& input, std::size_t index, std::string_view binary, std::size_t& binary_at,
                         const RequestLimits& limits) {
  if (!input.is_object()) bad(where(index, "") + " must be an object with name, shape, datatype and data");
  NamedTensor tensor;
  tensor.name = string_field(input, "name", where(index, ""), true);
  const std::string context = where(index, tensor.name);
  tensor.datatype = string_field(input, "datatype", context, true);
  int64_t elements = 0;
  tensor.shape = shape_of(input, context, limits, elements);
  const std::optional<DType> dtype = dtype_of_datatype(tensor.datatype);
  if (!dtype && tensor.datatype != kBytes)
    bad(context + ": datatype \"" + tensor.datatype + "\" is not one conveyor takes (" + known_datatypes() + ")");
  const json& parameters = parameters_of(input, context);
  if (const auto size = integer_parameter(parameters, "binary_data_size", context)) {
    if (member(input, "data")) bad(context + " has both \"data\" and binary_data_size");
    if (*size < 0 || static_cast<std::size_t>(*size) > binary.size() - binary_at)
      bad(context + ": binary_data_size " + std::to_string(*size) + " is more than the " +
          std::to_string(binary.size() - binary_at) + " bytes of binary data left in the body");
    read_binary_tensor(tensor, binary.substr(binary_at, static_cast<std::size_t>(*size)), elements, context,
                       "binary_data_size");
    binary_at += static_cast<std::size_t>(*size);
    return tensor;
  }
  const json* data = member(input, "data");
  if (!data) bad(context + " has no \"data\" (nor a binary_data_size parameter)");
  if (!dtype)
    tensor.strings = strings_from_json(*data, elements, context);
  else
    tensor.tensor = numbers_from_json(*data, *dtype, tensor.shape, elements, context);
  return tensor;
}

void decode_parameters(const json& request, InferRequest& out) {
  const json& parameters = parameters_of(request, "request");
  if (const auto priority = integer_parameter(parameters, "priority", "request")) {
    if (*priority < std::numeric_limits<int>::min() || *priority > std::numeric_limits<int>::max())
      bad("request: parameter \"priority\" is out of range");
    out.priority = static_cast<int>(*priority);
  }
  if (const auto timeout = integer_parameter(parameters, "timeout", "request")) {
    if (*timeout <= 0) bad("request: parameter \"timeout\" (microseconds) must be > 0");
    out.timeout = std::chrono::microseconds(*timeout);
  }
  out.binary_outputs = bool_parameter(parameters, "binary_data_output", "request").value_or(false);
}

json tensor_data(const NamedTensor& tensor) {
  if (tensor.datatype == kBytes) return tensor.strings;
  json data = json::array();
  visit_dtype(tensor.tensor.dtype(), [&](auto tag) {
    using T = decltype(tag);
    for (const T value : tensor.tensor.values<T>()) {
      if constexpr (std::is_same_v<T, int8_t> || std::is_same_v<T, uint8_t>)
        data.push_back(static_cast<int>(value));
      else
        data.push_back(value);
    }
  });
  return data;
}

}  // namespace

InferRequest decode_infer_request(std::string_view body, std::optional<std::size_t> json_length,
                                  const RequestLimits& limits) {
  if (json_length && *json_length > body.size())
    bad("Inference-Header-Content-Length is " + std::to_string(*json_length) + " but the body has " +
        std::to_string(body.size()) + " bytes");
  const std::string_view text = json_length ? body.substr(0, *json_length) : body;
  const std::string_view binary = json_length ? body.substr(*json_length) : std::string_view{};
  json request;
  try {
    request = json::parse(text.begin(), text.end());
  } catch (const json::exception& e) {  // parse_error, or out_of_range for a number past double's
    bad(std::string("request body is not valid JSON: ") + e.what());
  }
  if (!request.is_object()) bad("request body must be a JSON object with \"inputs\"");
  InferRequest out;
  out.id = string_field(request, "id", "request", false);
  decode_parameters(request, out);
  const json* inputs = member(request, "inputs");
  if (!inputs || !inputs->is_array() || inputs->empty()) bad("request needs \"inputs\": a non-empty array");
  std::size_t binary_at = 0;
  for (std::size_t i = 0; i < inputs->size(); ++i)
    out.inputs.push_back(decode_input((*inputs)[i], i, binary, binary_at, limits));
  if (binary_at != binary.size())
    bad("the body holds " + std::to_string(binary.size() - binary_at) +
        " bytes of binary data after the inputs' binary_data_size");
  if (const json* outputs = member(request, "outputs")) {
    if (!outputs->is_array()) bad("request: \"outputs\" must be an array");
    for (std::size_t i = 0; i < outputs->size(); ++i) {
      const std::string context = "outputs[" + std::to_string(i) + "]";
      if (!(*outputs)[i].is_object()) bad(context + " must be an object with a name");
      RequestedOutput wanted;
      wanted.name = string_field((*outputs)[i], "name", context, true);
      wanted.binary = bool_parameter(parameters_of((*outputs)[i], context), "binary_data", context);
      out.outputs.push_back(std::move(wanted));
    }
  }
  return out;
}

EncodedBody encode_infer_response(const InferResponse& response) {
  json body = {{"model_name", response.model}, {"model_version", response.version}};
  if (!response.id.empty()) body["id"] = response.id;
  json outputs = json::array();
  std::string binary;
  for (const auto& tensor : response.outputs) {
    json out = {{"name", tensor.name}, {"datatype", tensor.datatype}, {"shape", tensor.shape}};
    if (tensor.binary) {
      const std::size_t before = binary.size();
      append_binary_tensor(binary, tensor);
      out["parameters"] = {{"binary_data_size", binary.size() - before}};
    } else {
      out["data"] = tensor_data(tensor);
    }
    outputs.push_back(std::move(out));
  }
  body["outputs"] = std::move(outputs);
  EncodedBody encoded;
  encoded.bytes = body.dump(-1, ' ', false, json::error_handler_t::replace);
  if (std::any_of(response.outputs.begin(), response.outputs.end(), [](const NamedTensor& t) { return t.binary; })) {
    encoded.json_length = encoded.bytes.size();
    encoded.bytes += binary;
  }
  return encoded;
}

std::string error_json(const std::string& message) {
  return json{{"error", message}}.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string model_metadata_json(const ModelMetadata& metadata) {
  auto tensors = [](const std::vector<TensorMetadata>& list) {
    json out = json::array();
    for (const auto& t : list) out.push_back({{"name", t.name}, {"datatype", t.datatype}, {"shape", t.shape}});
    return out;
  };
  return json{{"name", metadata.name},
              {"versions", {metadata.version}},
              {"platform", metadata.platform},
              {"inputs", tensors(metadata.inputs)},
              {"outputs", tensors(metadata.outputs)}}
      .dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string server_metadata_json(const std::string& name, const std::string& version,
                                 const std::vector<std::string>& extensions) {
  return json{{"name", name}, {"version", version}, {"extensions", extensions}}.dump(-1, ' ', false,
                                                                                     json::error_handler_t::replace);
}

}  // namespace conveyor::serve
