#include "serve/grpc_infer_request.hpp"

#include "serve/binary_tensor.hpp"

namespace conveyor::serve {

inference::ModelInferRequest encode_grpc_infer_request(const std::string& model, const std::string& version,
                                                       const std::vector<NamedTensor>& inputs) {
  inference::ModelInferRequest message;
  message.set_model_name(model);
  message.set_model_version(version);
  for (const auto& input : inputs) {
    auto* tensor = message.add_inputs();
    tensor->set_name(input.name);
    tensor->set_datatype(input.datatype);
    for (const int64_t dim : input.shape) tensor->add_shape(dim);
    append_binary_tensor(*message.add_raw_input_contents(), input);
  }
  return message;
}

}  // namespace conveyor::serve
