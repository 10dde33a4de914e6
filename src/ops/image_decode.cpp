// image.decode: encoded image bytes (uint8 [N]) -> uint8 [H, W, 3] BGR pixels.
// cv::imdecode(IMREAD_COLOR): greyscale and alpha images become 3-channel BGR, 16-bit PNGs 8-bit, and the
// EXIF orientation of a JPEG is applied. Other formats this OpenCV build reads (WebP, BMP, TIFF, ...) are
// accepted too; messages say JPEG/PNG because those are what the pipelines feed.
#include <cstring>
#include <limits>
#include <opencv2/imgcodecs.hpp>
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

void decode(Sample& sample, const std::string& input, const std::string& output) {
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

OperatorFactory build(const OpArgs& args, const OpBuildContext& context) {
  ArgReader reader(kOp, args, context);
  const std::string input = reader.name("input", "bytes");
  const std::string output = reader.name("output", "image");
  reader.finish();
  use_single_threaded_opencv();
  return make_operator([input, output](Sample& sample) { decode(sample, input, output); });
}

}  // namespace

void add_image_decode(OperatorRegistry& registry) {
  registry.add(kOp, "decode JPEG/PNG bytes (uint8 [N]) into BGR pixels uint8 [H, W, 3]", build);
}

}  // namespace conveyor::ops
