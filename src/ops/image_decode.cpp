// image.decode: encoded image bytes (uint8 [N]) -> uint8 [H, W, 3] BGR pixels.
// cv::imdecode(IMREAD_COLOR): greyscale and alpha images become 3-channel BGR, 16-bit PNGs 8-bit, and the
// EXIF orientation of a JPEG is applied. Other formats this OpenCV build reads (WebP, BMP, TIFF, ...) are
// accepted too; messages say JPEG/PNG because those are what the pipelines feed.
// A small file can declare a huge image (a "decompression bomb"): JPEG and PNG headers are read first and
// images over `max_pixels` are refused before any pixel memory is allocated.
#include <cstring>
#include <limits>
#include <opencv2/imgcodecs.hpp>
#include <optional>
#include <span>
#include <stdexcept>

#include "ops/builtin_ops.hpp"
#include "ops/jpeg_structure.hpp"
#include "ops/op_args.hpp"
#include "ops/opencv_threads.hpp"

namespace conveyor::ops {
namespace {

constexpr const char* kOp = "image.decode";

std::string describe_input(const Sample& sample, const std::string& input, std::size_t size) {
  std::string text = std::string(kOp) + ": input '" + input + "' (" + std::to_string(size) + " bytes";
  if (!sample.source.empty()) text += " from '" + sample.source + "'";
  return text + ")";
}

constexpr int64_t kDefaultMaxPixels = int64_t{64} << 20;  // 64 Mpixel: 8192 x 8192

// Width x height from a PNG's IHDR chunk (always first, at a fixed offset), without decoding.
std::optional<int64_t> png_pixels(std::span<const uint8_t> bytes) {
  static constexpr uint8_t kSignature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
  if (bytes.size() < 24 || std::memcmp(bytes.data(), kSignature, 8) != 0 ||
      std::memcmp(bytes.data() + 12, "IHDR", 4) != 0)
    return std::nullopt;
  auto be32 = [&](std::size_t at) {
    return (int64_t{bytes[at]} << 24) | (int64_t{bytes[at + 1]} << 16) | (int64_t{bytes[at + 2]} << 8) |
           bytes[at + 3];
  };
  const int64_t width = be32(16), height = be32(20);
  if (width != 0 && height > std::numeric_limits<int64_t>::max() / width)
    return std::numeric_limits<int64_t>::max();
  return width * height;
}

std::optional<int64_t> declared_pixels(std::span<const uint8_t> bytes) {
  if (looks_like_jpeg(bytes)) {
    if (const auto size = jpeg_frame_size(bytes)) return int64_t{size->width} * size->height;
    return std::nullopt;
  }
  return png_pixels(bytes);
}

void decode(Sample& sample, const std::string& input, const std::string& output, int64_t max_pixels) {
  const Tensor& encoded = sample.at(input);
  if (encoded.dtype() != DType::kUInt8 || encoded.rank() != 1)
    throw std::invalid_argument(std::string(kOp) + ": input '" + input + "' is " + encoded.describe() +
                                ", expected the file's bytes as uint8 [N]");
  const auto bytes = encoded.values<uint8_t>();
  if (bytes.empty()) throw std::invalid_argument(describe_input(sample, input, 0) + " is empty");
  if (bytes.size() > static_cast<std::size_t>(std::numeric_limits<int>::max()))
    throw std::invalid_argument(describe_input(sample, input, bytes.size()) + " is too large to decode");
  if (looks_like_jpeg(bytes) && !jpeg_reaches_end(bytes))
    throw std::invalid_argument(describe_input(sample, input, bytes.size()) +
                                " is a truncated JPEG: it ends before the end-of-image marker");

  if (const auto pixels = declared_pixels(bytes); pixels && *pixels > max_pixels)
    throw std::invalid_argument(describe_input(sample, input, bytes.size()) + " declares " +
                                std::to_string(*pixels) + " pixels, over max_pixels " +
                                std::to_string(max_pixels));

  // cv::Mat over the tensor's bytes without copying; imdecode only reads it.
  const cv::Mat buffer(1, static_cast<int>(bytes.size()), CV_8UC1, const_cast<uint8_t*>(bytes.data()));
  cv::Mat image;
  try {
    image = cv::imdecode(buffer, cv::IMREAD_COLOR);
  } catch (const cv::Exception& e) {
    throw std::invalid_argument(describe_input(sample, input, bytes.size()) +
                                " could not be decoded: " + e.what());
  }
  if (image.empty())
    throw std::invalid_argument(describe_input(sample, input, bytes.size()) +
                                " is not a decodable JPEG/PNG image");
  if (static_cast<int64_t>(image.total()) > max_pixels)  // a format whose header was not read above
    throw std::invalid_argument(describe_input(sample, input, bytes.size()) + " has " +
                                std::to_string(image.total()) + " pixels, over max_pixels " +
                                std::to_string(max_pixels));
  if (image.type() != CV_8UC3)  // IMREAD_COLOR promises 8-bit BGR; guard against a surprising codec
    throw std::runtime_error(describe_input(sample, input, bytes.size()) +
                             " decoded to an unexpected pixel type");

  Tensor pixels(DType::kUInt8, {image.rows, image.cols, 3});
  const std::size_t row_bytes = static_cast<std::size_t>(image.cols) * 3;
  auto* out = pixels.data<uint8_t>();
  for (int y = 0; y < image.rows; ++y)
    std::memcpy(out + static_cast<std::size_t>(y) * row_bytes, image.ptr<uint8_t>(y), row_bytes);
  sample.tensors[output] = std::move(pixels);
}

BuiltOperator build(const OpArgs& args, const OpBuildContext& context) {
  ArgReader reader(kOp, args, context, {"input", "output", "max_pixels"});
  const std::string input = reader.name("input", "bytes");
  const std::string output = reader.name("output", "image");
  const int64_t max_pixels = reader.integer("max_pixels", kDefaultMaxPixels, 1);
  reader.finish();
  use_single_threaded_opencv();
  OperatorSignature signature;
  signature.inputs.push_back({.name = input, .dtype = DType::kUInt8, .dims = {-1}, .bytes = true});
  signature.outputs.push_back({.name = output, .dtype = DType::kUInt8, .dims = {-1, -1, 3}});
  return {make_operator([input, output, max_pixels](Sample& sample) { decode(sample, input, output, max_pixels); }),
          std::move(signature)};
}

}  // namespace

void add_image_decode(OperatorRegistry& registry) {
  registry.add(kOp, "decode JPEG/PNG bytes (uint8 [N]) into BGR pixels uint8 [H, W, 3]", build);
}

}  // namespace conveyor::ops
