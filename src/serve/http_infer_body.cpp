#include "serve/http_infer_body.hpp"

#include <nlohmann/json.hpp>

#include "serve/binary_tensor.hpp"

namespace conveyor::serve {

EncodedBody encode_binary_infer_request(const std::vector<NamedTensor>& inputs, bool binary_outputs) {
  using nlohmann::json;
  json header_inputs = json::array();
  std::string binary;
  for (const auto& input : inputs) {
    const std::size_t before = binary.size();
    append_binary_tensor(binary, input);
    header_inputs.push_back({{"name", input.name},
                             {"shape", input.shape},
                             {"datatype", input.datatype},
                             {"parameters", {{"binary_data_size", binary.size() - before}}}});
  }
  json header = {{"inputs", std::move(header_inputs)}};
  if (binary_outputs) header["parameters"] = {{"binary_data_output", true}};
  EncodedBody body;
  body.bytes = header.dump();
  body.json_length = body.bytes.size();
  body.bytes += binary;
  return body;
}

std::string error_message(std::string_view body) {
  try {
    const auto parsed = nlohmann::json::parse(body.begin(), body.end());
    if (parsed.is_object() && parsed.contains("error") && parsed["error"].is_string())
      return parsed["error"].get<std::string>();
  } catch (const nlohmann::json::exception&) {
  }
  constexpr std::size_t kMax = 200;
  std::string text(body.substr(0, kMax));
  if (body.size() > kMax) text += "...";
  return text.empty() ? "(no body)" : text;
}

}  // namespace conveyor::serve
