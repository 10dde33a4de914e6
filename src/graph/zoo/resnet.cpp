// torchvision ResNet-18 / ResNet-50 (v1.5: the stride sits on the 3x3 conv of a Bottleneck).
#include <array>
#include <stdexcept>
#include <string>

#include "graph/zoo/architectures.hpp"
#include "graph/zoo/cnn_layers.hpp"

namespace conveyor::zoo::detail {
namespace {

// The last BatchNormalization of each residual branch gets a small gamma (as trained ResNets and
// "zero-init residual" training have) so that the variance added per block stays small and activations
// keep O(1) magnitude through 16 blocks despite running statistics that do not match the data.
constexpr float kLastGammaLow = 0.1f;
constexpr float kLastGammaHigh = 0.3f;

struct BlockSpec {
  std::string path;  // "layer2.0"
  int64_t in_channels;
  int64_t planes;
  int64_t stride;
};

std::string downsample_if_needed(GraphBuilder& builder, const std::string& x, const BlockSpec& block,
                                 int64_t out_channels) {
  if (block.stride == 1 && block.in_channels == out_channels) return x;
  const std::string conv_out =
      conv(builder, x, block.path + ".downsample.0", {block.in_channels, out_channels, 1, block.stride});
  return batch_norm(builder, conv_out, block.path + ".downsample.1", out_channels);
}

std::string add_relu(GraphBuilder& builder, const std::string& branch, const std::string& identity,
                     const std::string& path) {
  builder.set_scope(scope_of(path));
  const std::string sum = builder.add_node("Add", {branch, identity});
  return builder.add_node("Relu", {sum});
}

std::string basic_block(GraphBuilder& builder, const std::string& x, const BlockSpec& block) {
  const std::string& p = block.path;
  std::string y = conv(builder, x, p + ".conv1", {block.in_channels, block.planes, 3, block.stride});
  y = relu(builder, batch_norm(builder, y, p + ".bn1", block.planes), p + ".relu");
  y = conv(builder, y, p + ".conv2", {block.planes, block.planes, 3});
  y = batch_norm(builder, y, p + ".bn2", block.planes, kLastGammaLow, kLastGammaHigh);
  return add_relu(builder, y, downsample_if_needed(builder, x, block, block.planes), p);
}

std::string bottleneck(GraphBuilder& builder, const std::string& x, const BlockSpec& block) {
  const std::string& p = block.path;
  const int64_t out_channels = block.planes * 4;
  std::string y = conv(builder, x, p + ".conv1", {block.in_channels, block.planes, 1});
  y = relu(builder, batch_norm(builder, y, p + ".bn1", block.planes), p + ".relu");
  y = conv(builder, y, p + ".conv2", {block.planes, block.planes, 3, block.stride});
  y = relu(builder, batch_norm(builder, y, p + ".bn2", block.planes), p + ".relu");
  y = conv(builder, y, p + ".conv3", {block.planes, out_channels, 1});
  y = batch_norm(builder, y, p + ".bn3", out_channels, kLastGammaLow, kLastGammaHigh);
  return add_relu(builder, y, downsample_if_needed(builder, x, block, out_channels), p);
}

}  // namespace

void build_resnet(onnx::GraphProto& graph, const ZooOptions& options, int depth) {
  std::array<int, 4> blocks_per_stage{};
  int64_t expansion = 1;
  if (depth == 18) {
    blocks_per_stage = {2, 2, 2, 2};
  } else if (depth == 50) {
    blocks_per_stage = {3, 4, 6, 3};
    expansion = 4;
  } else {
    throw std::invalid_argument("zoo: resnet depth " + std::to_string(depth) + " is not built (18 or 50)");
  }
  graph.set_name("resnet" + std::to_string(depth));
  GraphBuilder builder(graph, options.seed);
  builder.add_input("input", onnx::TensorProto::FLOAT,
                    {io_batch(options), 3, options.image_size, options.image_size});

  std::string x = conv(builder, "input", "conv1", {3, 64, 7, 2});
  x = relu(builder, batch_norm(builder, x, "bn1", 64), "relu");
  builder.set_scope("/maxpool");
  x = builder.add_node("MaxPool", {x},
                       {attr_int("ceil_mode", 0), attr_ints("kernel_shape", {3, 3}),
                        attr_ints("pads", {1, 1, 1, 1}), attr_ints("strides", {2, 2})});

  int64_t channels = 64;
  for (int stage = 0; stage < 4; ++stage) {
    const int64_t planes = int64_t{64} << stage;
    for (int index = 0; index < blocks_per_stage[static_cast<size_t>(stage)]; ++index) {
      const BlockSpec block{"layer" + std::to_string(stage + 1) + "." + std::to_string(index), channels,
                            planes, (stage > 0 && index == 0) ? 2 : 1};
      x = depth == 18 ? basic_block(builder, x, block) : bottleneck(builder, x, block);
      channels = planes * expansion;
    }
  }
  classifier_head(builder, x, "fc", channels, 1000, "logits");
  builder.add_output("logits", onnx::TensorProto::FLOAT, {io_batch(options), 1000});
}

}  // namespace conveyor::zoo::detail
