#include <cstdlib>
#include <opencv2/imgcodecs.hpp>

#include "op_test_support.hpp"

namespace conveyor {
namespace {

using test::json_args;

using test::bytes_tensor;
using test::run_error;
using test::run_op;

// A 16x24 BGR picture: four flat quadrants, so JPEG reproduces it closely.
cv::Mat quadrants() {
  cv::Mat image(16, 24, CV_8UC3);
  for (int y = 0; y < image.rows; ++y)
    for (int x = 0; x < image.cols; ++x)
      image.at<cv::Vec3b>(y, x) = y < 8 ? (x < 12 ? cv::Vec3b(200, 50, 10) : cv::Vec3b(20, 220, 90))
                                        : (x < 12 ? cv::Vec3b(128, 128, 128) : cv::Vec3b(250, 250, 0));
  return image;
}

std::vector<uint8_t> encode(const std::string& ext, const cv::Mat& image, std::vector<int> params = {}) {
  std::vector<uint8_t> bytes;
  EXPECT_TRUE(cv::imencode(ext, image, bytes, params));
  return bytes;
}

Tensor decode(const std::vector<uint8_t>& bytes) {
  Sample sample;
  sample.tensors["bytes"] = bytes_tensor(bytes);
  run_op("image.decode", OpArgs(), sample);
  return sample.at("image");
}

TEST(ImageDecode, JpegGivesBgrPixelsOfTheEncodedImage) {
  const cv::Mat image = quadrants();
  const Tensor pixels = decode(encode(".jpg", image, {cv::IMWRITE_JPEG_QUALITY, 100}));
  ASSERT_EQ(pixels.dtype(), DType::kUInt8);
  ASSERT_EQ(pixels.shape(), (Shape{16, 24, 3}));
  const uint8_t* p = pixels.data<uint8_t>();
  // Centres of the quadrants, away from the edges where chroma subsampling blurs colours.
  for (auto [y, x] : std::initializer_list<std::pair<int, int>>{{3, 5}, {3, 18}, {12, 5}, {12, 18}}) {
    const cv::Vec3b expected = image.at<cv::Vec3b>(y, x);
    for (int c = 0; c < 3; ++c)
      EXPECT_NEAR(p[(y * 24 + x) * 3 + c], expected[c], 6) << "y=" << y << " x=" << x << " c=" << c;
  }
}

TEST(ImageDecode, PngIsDecodedExactly) {
  cv::Mat image(5, 7, CV_8UC3);
  for (int y = 0; y < 5; ++y)
    for (int x = 0; x < 7; ++x)
      image.at<cv::Vec3b>(y, x) = cv::Vec3b(static_cast<uint8_t>(x * 30), static_cast<uint8_t>(y * 50),
                                            static_cast<uint8_t>(x * y * 7));
  const Tensor pixels = decode(encode(".png", image));
  ASSERT_EQ(pixels.shape(), (Shape{5, 7, 3}));
  const uint8_t* p = pixels.data<uint8_t>();
  for (int y = 0; y < 5; ++y)
    for (int x = 0; x < 7; ++x)
      for (int c = 0; c < 3; ++c) ASSERT_EQ(p[(y * 7 + x) * 3 + c], image.at<cv::Vec3b>(y, x)[c]);
}

TEST(ImageDecode, GreyscalePngBecomesThreeEqualChannels) {
  cv::Mat grey(3, 4, CV_8UC1, cv::Scalar(77));
  const Tensor pixels = decode(encode(".png", grey));
  ASSERT_EQ(pixels.shape(), (Shape{3, 4, 3}));
  for (uint8_t v : pixels.values<uint8_t>()) EXPECT_EQ(v, 77);
}

TEST(ImageDecode, UsesTheConfiguredTensorNames) {
  Sample sample;
  sample.tensors["upload"] = bytes_tensor(encode(".png", quadrants()));
  run_op("image.decode", json_args(R"({"input": "upload", "output": "picture"})"), sample);
  EXPECT_EQ(sample.at("picture").shape(), (Shape{16, 24, 3}));
  EXPECT_FALSE(sample.has("image"));
}

TEST(ImageDecode, JpegWithTrailingBytesAfterTheEndMarkerStillDecodes) {
  auto bytes = encode(".jpg", quadrants());
  bytes.insert(bytes.end(), {0x00, 0x11, 0x22});
  EXPECT_EQ(decode(bytes).shape(), (Shape{16, 24, 3}));
}

TEST(ImageDecode, NonImageBytesAreRejectedWithSizeAndName) {
  Sample sample;
  sample.source = "notes.txt";
  sample.tensors["bytes"] = bytes_tensor(std::string("this is plain text, not a picture"));
  const std::string error = run_error("image.decode", OpArgs(), sample);
  EXPECT_NE(error.find("image.decode"), std::string::npos) << error;
  EXPECT_NE(error.find("'bytes'"), std::string::npos) << error;
  EXPECT_NE(error.find("33 bytes"), std::string::npos) << error;
  EXPECT_NE(error.find("notes.txt"), std::string::npos) << error;
  EXPECT_NE(error.find("not a decodable JPEG/PNG image"), std::string::npos) << error;
}

TEST(ImageDecode, CorruptPngHeaderIsRejected) {
  auto bytes = encode(".png", quadrants());
  for (std::size_t i = 24; i < bytes.size(); ++i)
    bytes[i] = static_cast<uint8_t>(i * 37);  // keep the signature and the declared size
  Sample sample;
  sample.tensors["bytes"] = bytes_tensor(bytes);
  EXPECT_NE(run_error("image.decode", OpArgs(), sample).find("not a decodable"), std::string::npos);
}

// A small file declaring a huge image is refused from its header, before OpenCV allocates the pixels.
TEST(ImageDecode, ImagesOverMaxPixelsAreRefusedFromTheirHeaders) {
  for (const char* ext : {".png", ".jpg"}) {
    Sample sample;
    sample.tensors["bytes"] = bytes_tensor(encode(ext, quadrants()));  // 24 x 16 = 384 pixels
    const std::string error = run_error("image.decode", json_args(R"({"max_pixels": 383})"), sample);
    EXPECT_NE(error.find("declares 384 pixels, over max_pixels 383"), std::string::npos)
        << ext << ": " << error;
    EXPECT_EQ(run_error("image.decode", json_args(R"({"max_pixels": 384})"), sample), "") << ext;
  }
}

TEST(ImageDecode, PngDeclaringBillionsOfPixelsIsRefusedByDefault) {
  auto bytes = encode(".png", quadrants());
  for (std::size_t i = 16; i < 24; ++i) bytes[i] = 0xFF;  // IHDR width and height: 2^32 - 1 each
  Sample sample;
  sample.tensors["bytes"] = bytes_tensor(bytes);
  const std::string error = run_error("image.decode", OpArgs(), sample);
  EXPECT_NE(error.find("over max_pixels 67108864"), std::string::npos) << error;
}

TEST(ImageDecode, TruncatedJpegIsRejectedAsTruncated) {
  auto bytes = encode(".jpg", quadrants());
  bytes.resize(bytes.size() * 2 / 3);
  Sample sample;
  sample.tensors["bytes"] = bytes_tensor(bytes);
  const std::string error = run_error("image.decode", OpArgs(), sample);
  EXPECT_NE(error.find("truncated JPEG"), std::string::npos) << error;
}

TEST(ImageDecode, EndMarkerInsideACommentDoesNotHideTruncation) {
  auto bytes = encode(".jpg", quadrants());
  // A COM segment right after SOI whose payload contains FF D9 (as an EXIF thumbnail would).
  const std::vector<uint8_t> comment = {0xFF, 0xFE, 0x00, 0x06, 0xFF, 0xD9, 0xFF, 0xD9};
  bytes.insert(bytes.begin() + 2, comment.begin(), comment.end());
  EXPECT_EQ(decode(bytes).shape(), (Shape{16, 24, 3}));  // still a whole, valid JPEG
  bytes.resize(bytes.size() - 40);
  Sample sample;
  sample.tensors["bytes"] = bytes_tensor(bytes);
  EXPECT_NE(run_error("image.decode", OpArgs(), sample).find("truncated JPEG"), std::string::npos);
}

TEST(ImageDecode, TruncatedPngIsRejected) {
  auto bytes = encode(".png", quadrants());
  bytes.resize(bytes.size() / 2);
  Sample sample;
  sample.tensors["bytes"] = bytes_tensor(bytes);
  EXPECT_NE(run_error("image.decode", OpArgs(), sample).find("not a decodable"), std::string::npos);
}

TEST(ImageDecode, EmptyInputIsRejected) {
  Sample sample;
  sample.tensors["bytes"] = Tensor(DType::kUInt8, {0});
  const std::string error = run_error("image.decode", OpArgs(), sample);
  EXPECT_NE(error.find("is empty"), std::string::npos) << error;
}

TEST(ImageDecode, WrongDtypeOrMissingInputIsRejected) {
  Sample sample;
  sample.tensors["bytes"] = Tensor(DType::kFloat32, {10});
  EXPECT_NE(run_error("image.decode", OpArgs(), sample).find("float32[10]"), std::string::npos);
  Sample empty;
  EXPECT_NE(run_error("image.decode", OpArgs(), empty).find("'bytes'"), std::string::npos);
}

TEST(ImageDecode, BadArgsNameTheKey) {
  EXPECT_EQ(test::arg_error_key("image.decode", json_args(R"({"input": 3})")), "input");
  EXPECT_EQ(test::arg_error_key("image.decode", json_args(R"({"output": ""})")), "output");
  EXPECT_EQ(test::arg_error_key("image.decode", json_args(R"({"flags": "color"})")), "flags");
}

}  // namespace
}  // namespace conveyor
