// image.preprocess: uint8 [H, W, 3] BGR pixels -> float32 [1, 3, h, w] normalised network input.
//
// Resize modes:
//   stretch            resize straight to `size` (aspect ratio not kept).
//   shorter_side_crop  resize so the shorter side is `resize_to` (aspect ratio kept, longer side rounded
//                      to nearest), then cut the centre `size` window (offset = floor of half the excess),
//                      as torchvision's Resize(256) + CenterCrop(224) does.
// Interpolation: cv::INTER_LINEAR by default ("linear"); "area" uses cv::INTER_AREA when both sides
// shrink (less aliasing on large photos) and INTER_LINEAR otherwise. Neither antialiases like PIL's
// bilinear, so values differ slightly from a PIL/torchvision pipeline on large downscales.
// Normalisation per output channel c: ((pixel * scale) - mean[c]) / std[c], through a 256-entry table
// per channel, so results equal the formula evaluated in double and rounded once to float.
#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <opencv2/imgproc.hpp>
#include <stdexcept>

#include "ops/builtin_ops.hpp"
#include "ops/op_args.hpp"
#include "ops/opencv_threads.hpp"

namespace conveyor::ops {
namespace {

constexpr const char* kOp = "image.preprocess";
constexpr int64_t kMaxSide = 32768;

enum class ResizeMode { kStretch, kShorterSideCrop };
enum class Interpolation { kLinear, kArea };

struct PreprocessConfig {
  std::string input;
  std::string output;
  int height = 0;
  int width = 0;
  ResizeMode mode = ResizeMode::kShorterSideCrop;
  int resize_to = 0;
  Interpolation interpolation = Interpolation::kLinear;
  std::array<int, 3> source_channel{};            // output channel c reads BGR channel source_channel[c]
  std::array<std::array<float, 256>, 3> table{};  // table[c][v]: normalised value of pixel value v
};

std::array<int64_t, 2> parse_size(ArgReader& reader) {
  const auto value = reader.raw("size");
  if (!value)
    throw reader.error("size", "is required: the network input size, an integer or [height, width]");
  const auto side = [&](const OpArgs& v) -> int64_t {
    const auto n = v.int64_if_fits();
    if (!n || *n < 1 || *n > kMaxSide)
      throw reader.error("size", "must be an integer or [height, width] of integers in 1.." +
                                     std::to_string(kMaxSide) + " (got " + json_excerpt(*value) + ")");
    return *n;
  };
  if (value->is_list()) {
    if (value->size() != 2)
      throw reader.error("size", "must be an integer or [height, width] (got " + json_excerpt(*value) + ")");
    return {side(value->at(0)), side(value->at(1))};
  }
  const int64_t n = side(*value);
  return {n, n};
}

std::shared_ptr<const PreprocessConfig> parse(const OpArgs& args, const OpBuildContext& context) {
  ArgReader reader(
      kOp, args, context,
      {"input", "output", "size", "resize", "resize_to", "interpolation", "rgb", "mean", "std", "scale"});
  auto config = std::make_shared<PreprocessConfig>();
  config->input = reader.name("input", "image");
  config->output = reader.name("output", "pixels");
  const auto [height, width] = parse_size(reader);
  config->height = static_cast<int>(height);
  config->width = static_cast<int>(width);

  const std::string mode = reader.string("resize", "shorter_side_crop");
  if (mode == "stretch")
    config->mode = ResizeMode::kStretch;
  else if (mode == "shorter_side_crop")
    config->mode = ResizeMode::kShorterSideCrop;
  else
    throw reader.error("resize", "must be 'stretch' or 'shorter_side_crop' (got '" + mode + "')");

  const int64_t longest = std::max(height, width);
  const int64_t default_resize_to = (longest * 256 + 112) / 224;  // 224 -> 256, rounded to nearest
  if (config->mode == ResizeMode::kShorterSideCrop) {
    const int64_t resize_to = reader.integer("resize_to", default_resize_to, 1);
    if (resize_to < longest || resize_to > kMaxSide)
      throw reader.error("resize_to", "must be between the larger side of 'size' (" +
                                          std::to_string(longest) + ") and " + std::to_string(kMaxSide) +
                                          " (got " + std::to_string(resize_to) + ")");
    config->resize_to = static_cast<int>(resize_to);
  } else if (reader.raw("resize_to")) {
    throw reader.error("resize_to", "only applies to resize: shorter_side_crop");
  }

  const std::string interpolation = reader.string("interpolation", "linear");
  if (interpolation == "linear")
    config->interpolation = Interpolation::kLinear;
  else if (interpolation == "area")
    config->interpolation = Interpolation::kArea;
  else
    throw reader.error("interpolation", "must be 'linear' or 'area' (got '" + interpolation + "')");

  const bool rgb = reader.boolean("rgb", true);
  const auto mean = reader.number3("mean", {0.485, 0.456, 0.406});
  const auto stddev = reader.number3("std", {0.229, 0.224, 0.225});
  const double scale = reader.number("scale", 1.0 / 255.0);
  for (double s : stddev)
    if (s == 0.0) throw reader.error("std", "must not contain 0 (it divides)");
  reader.finish();

  for (int c = 0; c < 3; ++c) {
    config->source_channel[static_cast<std::size_t>(c)] = rgb ? 2 - c : c;
    for (int v = 0; v < 256; ++v)
      config->table[static_cast<std::size_t>(c)][static_cast<std::size_t>(v)] = static_cast<float>(
          (v * scale - mean[static_cast<std::size_t>(c)]) / stddev[static_cast<std::size_t>(c)]);
  }
  return config;
}

cv::Mat resized(const cv::Mat& src, int height, int width, Interpolation interpolation) {
  if (src.rows == height && src.cols == width) return src;
  const bool shrinking = height <= src.rows && width <= src.cols;
  const int flag = interpolation == Interpolation::kArea && shrinking ? cv::INTER_AREA : cv::INTER_LINEAR;
  cv::Mat dst;
  cv::resize(src, dst, cv::Size(width, height), 0, 0, flag);
  return dst;
}

// The window of the resized image that becomes the network input.
cv::Mat fit(const cv::Mat& src, const PreprocessConfig& config) {
  if (config.mode == ResizeMode::kStretch)
    return resized(src, config.height, config.width, config.interpolation);
  const int64_t rows = src.rows;
  const int64_t cols = src.cols;
  const int64_t target = config.resize_to;
  // The shorter side becomes exactly `target`; the longer one keeps the aspect ratio, rounded to nearest.
  const int64_t new_rows = rows <= cols ? target : (rows * target + cols / 2) / cols;
  const int64_t new_cols = rows <= cols ? (cols * target + rows / 2) / rows : target;
  if (new_rows > kMaxSide * 8 || new_cols > kMaxSide * 8)
    throw std::invalid_argument(std::string(kOp) + ": image " + std::to_string(rows) + "x" +
                                std::to_string(cols) + " is too elongated to resize its shorter side to " +
                                std::to_string(target));
  const cv::Mat scaled =
      resized(src, static_cast<int>(new_rows), static_cast<int>(new_cols), config.interpolation);
  const int top = (scaled.rows - config.height) / 2;
  const int left = (scaled.cols - config.width) / 2;
  return scaled(cv::Rect(left, top, config.width, config.height));
}

void preprocess(Sample& sample, const PreprocessConfig& config) {
  const Tensor& image = sample.at(config.input);
  if (image.dtype() != DType::kUInt8 || image.rank() != 3 || image.dim(2) != 3 || image.dim(0) < 1 ||
      image.dim(1) < 1)
    throw std::invalid_argument(std::string(kOp) + ": input '" + config.input + "' is " + image.describe() +
                                ", expected uint8 [H, W, 3] pixels (as image.decode produces)");
  if (image.dim(0) > std::numeric_limits<int>::max() / 4 ||
      image.dim(1) > std::numeric_limits<int>::max() / 4)
    throw std::invalid_argument(std::string(kOp) + ": input '" + config.input + "' " + image.describe() +
                                " is too large");
  const cv::Mat src(static_cast<int>(image.dim(0)), static_cast<int>(image.dim(1)), CV_8UC3,
                    const_cast<uint8_t*>(image.data<uint8_t>()));
  const cv::Mat window = fit(src, config);

  Tensor pixels(DType::kFloat32, {1, 3, config.height, config.width});
  float* out = pixels.data<float>();
  const std::size_t plane = static_cast<std::size_t>(config.height) * static_cast<std::size_t>(config.width);
  for (int y = 0; y < config.height; ++y) {
    const uint8_t* row = window.ptr<uint8_t>(y);
    const std::size_t row_offset = static_cast<std::size_t>(y) * static_cast<std::size_t>(config.width);
    for (std::size_t c = 0; c < 3; ++c) {
      const auto& table = config.table[c];
      const auto source = static_cast<std::size_t>(config.source_channel[c]);
      float* dst = out + c * plane + row_offset;
      for (int x = 0; x < config.width; ++x) dst[x] = table[row[static_cast<std::size_t>(x) * 3 + source]];
    }
  }
  sample.tensors[config.output] = std::move(pixels);
}

BuiltOperator build(const OpArgs& args, const OpBuildContext& context) {
  auto config = parse(args, context);
  use_single_threaded_opencv();
  OperatorSignature signature;
  signature.inputs.push_back({.name = config->input, .dtype = DType::kUInt8, .dims = {-1, -1, 3}});
  signature.outputs.push_back(
      {.name = config->output, .dtype = DType::kFloat32, .dims = {1, 3, config->height, config->width}});
  return {make_operator([config](Sample& sample) { preprocess(sample, *config); }), std::move(signature)};
}

}  // namespace

void add_image_preprocess(OperatorRegistry& registry) {
  registry.add(kOp, "resize/crop uint8 [H, W, 3] BGR pixels to `size` and normalise to float32 [1, 3, h, w]",
               build);
}

}  // namespace conveyor::ops
