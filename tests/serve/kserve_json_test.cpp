#include "serve/kserve_json.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>
#include <nlohmann/json.hpp>

#include "serve/grpc_codec.hpp"

namespace conveyor::serve {
namespace {

using ::testing::HasSubstr;

RequestLimits limits() { return RequestLimits{}; }

std::string failure_of(std::string_view body, std::optional<std::size_t> json_length = std::nullopt,
                       RequestLimits l = limits()) {
  try {
    decode_infer_request(body, json_length, l);
  } catch (const ServeError& e) {
    EXPECT_EQ(e.failure(), Failure::kBadRequest);
    return e.what();
  }
  return "decoded";
}

TEST(KserveJson, DecodesNestedJsonDataAndParameters) {
  const auto request = decode_infer_request(R"({"id": "r1", "parameters": {"priority": 4, "timeout": 2500},
      "inputs": [{"name": "x", "shape": [2, 2], "datatype": "FP32", "data": [[1, 2], [3.5, 4]]},
                 {"name": "t", "shape": [2], "datatype": "BYTES", "data": ["ab", "c"]}],
      "outputs": [{"name": "y", "parameters": {"binary_data": true}}]})",
                                            std::nullopt, limits());
  EXPECT_EQ(request.id, "r1");
  EXPECT_EQ(request.priority, 4);
  ASSERT_TRUE(request.timeout);
  EXPECT_EQ(request.timeout->count(), 2500);
  ASSERT_EQ(request.inputs.size(), 2u);
  EXPECT_EQ(request.inputs[0].tensor.shape(), (Shape{2, 2}));
  EXPECT_FLOAT_EQ(request.inputs[0].tensor.values<float>()[2], 3.5f);
  EXPECT_EQ(request.inputs[1].strings, (std::vector<std::string>{"ab", "c"}));
  ASSERT_EQ(request.outputs.size(), 1u);
  EXPECT_EQ(request.outputs[0].binary, true);
}

TEST(KserveJson, DecodesBinaryTensorData) {
  const std::string header =
      R"({"inputs": [{"name": "x", "shape": [2], "datatype": "INT32", "parameters": {"binary_data_size": 8}},
                     {"name": "b", "shape": [1], "datatype": "BYTES", "parameters": {"binary_data_size": 7}}]})";
  std::string body = header;
  const int32_t values[2] = {-7, 9};
  body.append(reinterpret_cast<const char*>(values), sizeof values);
  body += std::string("\x03\x00\x00\x00" "abc", 7);
  const auto request = decode_infer_request(body, header.size(), limits());
  EXPECT_EQ(request.inputs[0].tensor.values<int32_t>()[0], -7);
  EXPECT_EQ(request.inputs[1].strings, (std::vector<std::string>{"abc"}));
}

TEST(KserveJson, RefusesWhatIsWrongNamingIt) {
  EXPECT_THAT(failure_of("{"), HasSubstr("not valid JSON"));
  EXPECT_THAT(failure_of("[1e999999]"), HasSubstr("not valid JSON"));
  EXPECT_THAT(failure_of(R"({"inputs": []})"), HasSubstr("non-empty"));
  EXPECT_THAT(failure_of(R"({"inputs": [{"name": "x", "shape": [2], "datatype": "INT8", "data": [1, 300]}]})"),
              HasSubstr("does not fit"));
  EXPECT_THAT(failure_of(R"({"inputs": [{"name": "x", "shape": [3], "datatype": "FP32", "data": [1, 2]}]})"),
              HasSubstr("holds 2 elements; its shape has 3"));
  EXPECT_THAT(failure_of(R"({"inputs": [{"name": "x", "shape": [1], "datatype": "BOOL", "data": [1]}]})"),
              HasSubstr("true/false"));
  EXPECT_THAT(failure_of(R"({"inputs": [{"name": "x", "shape": [1], "datatype": "FP16", "data": [1]}]})"),
              HasSubstr("FP16"));
  EXPECT_THAT(failure_of(R"({"inputs": [{"name": "x", "shape": [100000, 100000], "datatype": "FP32",
                                         "data": [1]}]})"),
              HasSubstr("max_tensor_elements"));
  const std::string lying = R"({"inputs": [{"name": "x", "shape": [4], "datatype": "FP32",
                                            "parameters": {"binary_data_size": 16}}]})";
  EXPECT_THAT(failure_of(lying + "abcd", lying.size()), HasSubstr("binary_data_size 16 is more than the 4"));
  EXPECT_THAT(failure_of(lying, lying.size() + 5), HasSubstr("Inference-Header-Content-Length"));
  const std::string bytes = R"({"inputs": [{"name": "b", "shape": [1], "datatype": "BYTES",
                                            "parameters": {"binary_data_size": 6}}]})";
  EXPECT_THAT(failure_of(bytes + std::string("\x09\x00\x00\x00" "ab", 6), bytes.size()), HasSubstr("declares 9"));
}

TEST(KserveJson, EncodesJsonAndBinaryOutputs) {
  InferResponse response;
  response.model = "m";
  response.version = "1";
  NamedTensor scores{"scores", "FP32", {2}, Tensor(DType::kFloat32, {2}), {}, true};
  scores.tensor.data<float>()[1] = 0.5f;
  NamedTensor labels{"labels", "BYTES", {2}, {}, {"cat", "dog"}, false};
  response.outputs = {scores, labels};
  const EncodedBody body = encode_infer_response(response);
  ASSERT_TRUE(body.json_length);
  const auto json = nlohmann::json::parse(body.bytes.substr(0, *body.json_length));
  EXPECT_EQ(json["outputs"][0]["parameters"]["binary_data_size"], 8);
  EXPECT_EQ(json["outputs"][1]["data"], nlohmann::json({"cat", "dog"}));
  ASSERT_EQ(body.bytes.size(), *body.json_length + 8);
  float second = 0;
  std::memcpy(&second, body.bytes.data() + *body.json_length + 4, 4);
  EXPECT_FLOAT_EQ(second, 0.5f);
}

TEST(GrpcCodec, DecodesRawAndTypedContents) {
  inference::ModelInferRequest message;
  message.set_model_name("m");
  auto* raw = message.add_inputs();
  raw->set_name("x");
  raw->set_datatype("INT64");
  raw->add_shape(2);
  const int64_t values[2] = {5, -6};
  message.add_raw_input_contents(std::string(reinterpret_cast<const char*>(values), sizeof values));
  const auto request = decode_infer_request(message, limits());
  EXPECT_EQ(request.inputs[0].tensor.values<int64_t>()[1], -6);

  inference::ModelInferRequest typed;
  auto* input = typed.add_inputs();
  input->set_name("u");
  input->set_datatype("UINT8");
  input->add_shape(2);
  input->mutable_contents()->add_uint_contents(7);
  input->mutable_contents()->add_uint_contents(300);
  try {
    decode_infer_request(typed, limits());
    FAIL() << "300 is not a UINT8";
  } catch (const ServeError& e) {
    EXPECT_THAT(e.what(), HasSubstr("does not fit"));
  }
}

}  // namespace
}  // namespace conveyor::serve
