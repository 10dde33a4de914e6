// Two cheap models for tests elsewhere: a 2-layer MLP and a small CNN with the usual CNN ops.
#include <cmath>

#include "graph/zoo/architectures.hpp"
#include "graph/zoo/cnn_layers.hpp"

namespace conveyor::zoo::detail {
namespace {

std::string linear(GraphBuilder& builder, const std::string& x, const std::string& module_path, int64_t in,
                   int64_t out, const std::string& output = "") {
  const float stddev = static_cast<float>(std::sqrt(2.0 / static_cast<double>(in)));
  const std::string weight = builder.add_normal(module_path + ".weight", {out, in}, stddev);
  const std::string bias = builder.add_normal(module_path + ".bias", {out}, 0.05f);
  builder.set_scope(scope_of(module_path));
  return builder.add_node("Gemm", {x, weight, bias},
                          {attr_float("alpha", 1.0f), attr_float("beta", 1.0f), attr_int("transB", 1)},
                          output);
}

}  // namespace

// input [batch, 64] -> Gemm 128 -> Relu -> Gemm 10 -> logits [batch, 10]
void build_mlp(onnx::GraphProto& graph, const ZooOptions& options) {
  graph.set_name("mlp");
  GraphBuilder builder(graph, options.seed);
  builder.add_input("input", onnx::TensorProto::FLOAT, {io_batch(options), 64});
  std::string x = linear(builder, "input", "fc1", 64, 128);
  x = relu(builder, x, "relu");
  linear(builder, x, "fc2", 128, 10, "logits");
  builder.add_output("logits", onnx::TensorProto::FLOAT, {io_batch(options), 10});
}

// input [batch, 3, S, S] -> Conv3x3 16 -> BN -> Relu -> MaxPool 2 -> Conv3x3/2 32 -> BN -> Relu
// -> GlobalAveragePool -> Flatten -> Gemm 10 -> logits [batch, 10]
void build_tinycnn(onnx::GraphProto& graph, const ZooOptions& options) {
  graph.set_name("tinycnn");
  GraphBuilder builder(graph, options.seed);
  builder.add_input("input", onnx::TensorProto::FLOAT,
                    {io_batch(options), 3, options.image_size, options.image_size});
  std::string x = conv(builder, "input", "conv1", {3, 16, 3});
  x = relu(builder, batch_norm(builder, x, "bn1", 16), "relu1");
  builder.set_scope("/pool");
  x = builder.add_node("MaxPool", {x},
                       {attr_int("ceil_mode", 0), attr_ints("kernel_shape", {2, 2}),
                        attr_ints("pads", {0, 0, 0, 0}), attr_ints("strides", {2, 2})});
  x = conv(builder, x, "conv2", {16, 32, 3, 2});
  x = relu(builder, batch_norm(builder, x, "bn2", 32), "relu2");
  classifier_head(builder, x, "fc", 32, 10, "logits");
  builder.add_output("logits", onnx::TensorProto::FLOAT, {io_batch(options), 10});
}

}  // namespace conveyor::zoo::detail
