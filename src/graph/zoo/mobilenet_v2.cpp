// torchvision MobileNetV2 (width 1.0): inverted residual blocks with depthwise 3x3 convs, ReLU6 exported
// as Clip(x, min=0, max=6) with min/max as inputs (opset >= 11 style), linear bottlenecks.
#include <array>

#include "graph/zoo/architectures.hpp"
#include "graph/zoo/cnn_layers.hpp"

namespace conveyor::zoo::detail {
namespace {

// Small gamma on the projection BN of residual blocks keeps the residual sum from growing block by block.
constexpr float kProjectionGammaLow = 0.1f;
constexpr float kProjectionGammaHigh = 0.3f;

struct ClipBounds {
  std::string min;
  std::string max;
};

// torchvision Conv2dNormActivation: "<path>.0" conv, "<path>.1" BN, "<path>.2" ReLU6.
std::string conv_bn_relu6(GraphBuilder& builder, const std::string& x, const std::string& path,
                          const ConvSpec& spec, const ClipBounds& clip) {
  std::string y = conv(builder, x, path + ".0", spec);
  y = batch_norm(builder, y, path + ".1", spec.out_channels);
  builder.set_scope(scope_of(path + ".2"));
  return builder.add_node("Clip", {y, clip.min, clip.max});
}

std::string inverted_residual(GraphBuilder& builder, const std::string& x, const std::string& path,
                              int64_t in_channels, int64_t out_channels, int64_t stride, int64_t expand_ratio,
                              const ClipBounds& clip) {
  const int64_t hidden = in_channels * expand_ratio;
  const bool use_residual = stride == 1 && in_channels == out_channels;
  std::string y = x;
  int layer = 0;
  auto next_path = [&] { return path + ".conv." + std::to_string(layer++); };
  if (expand_ratio != 1) y = conv_bn_relu6(builder, y, next_path(), {in_channels, hidden, 1}, clip);
  y = conv_bn_relu6(builder, y, next_path(), {hidden, hidden, 3, stride, hidden}, clip);
  y = conv(builder, y, next_path(), {hidden, out_channels, 1});
  if (use_residual) {
    y = batch_norm(builder, y, next_path(), out_channels, kProjectionGammaLow, kProjectionGammaHigh);
    builder.set_scope(scope_of(path));
    return builder.add_node("Add", {x, y});
  }
  return batch_norm(builder, y, next_path(), out_channels);
}

struct StageSpec {
  int64_t expand_ratio;
  int64_t channels;
  int repeats;
  int64_t stride;
};

}  // namespace

void build_mobilenet_v2(onnx::GraphProto& graph, const ZooOptions& options) {
  graph.set_name("mobilenet_v2");
  GraphBuilder builder(graph, options.seed);
  builder.add_input("input", onnx::TensorProto::FLOAT,
                    {io_batch(options), 3, options.image_size, options.image_size});
  const ClipBounds clip{builder.add_scalar("relu6_min", 0.0f), builder.add_scalar("relu6_max", 6.0f)};

  constexpr std::array<StageSpec, 7> stages{{{1, 16, 1, 1},
                                             {6, 24, 2, 2},
                                             {6, 32, 3, 2},
                                             {6, 64, 4, 2},
                                             {6, 96, 3, 1},
                                             {6, 160, 3, 2},
                                             {6, 320, 1, 1}}};
  int feature = 0;
  std::string x = conv_bn_relu6(builder, "input", "features.0", {3, 32, 3, 2}, clip);
  ++feature;
  int64_t channels = 32;
  for (const StageSpec& stage : stages) {
    for (int repeat = 0; repeat < stage.repeats; ++repeat) {
      const int64_t stride = repeat == 0 ? stage.stride : 1;
      x = inverted_residual(builder, x, "features." + std::to_string(feature++), channels, stage.channels,
                            stride, stage.expand_ratio, clip);
      channels = stage.channels;
    }
  }
  constexpr int64_t kLastChannels = 1280;
  x = conv_bn_relu6(builder, x, "features." + std::to_string(feature), {channels, kLastChannels, 1}, clip);
  classifier_head(builder, x, "classifier.1", kLastChannels, 1000, "logits");
  builder.add_output("logits", onnx::TensorProto::FLOAT, {io_batch(options), 1000});
}

}  // namespace conveyor::zoo::detail
