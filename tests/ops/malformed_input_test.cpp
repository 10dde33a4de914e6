// Malformed inputs must fail the sample with an exception, never crash or hang: deterministic
// pseudo-random corruptions of real encodings and of UTF-8 text.
#include <opencv2/imgcodecs.hpp>
#include <random>

#include "conveyor/ops/wordpiece_tokenizer.hpp"
#include "op_test_support.hpp"

namespace conveyor {
namespace {

std::vector<uint8_t> encoded(const std::string& ext) {
  cv::Mat image(24, 32, CV_8UC3);
  cv::randu(image, 0, 255);
  std::vector<uint8_t> bytes;
  EXPECT_TRUE(cv::imencode(ext, image, bytes));
  return bytes;
}

TEST(MalformedInput, CorruptedImagesDecodeOrThrow) {
  const auto factory = builtin_operators().build("image.decode", OpArgs(), {}).factory;
  const auto op = factory(WorkerContext{});
  std::mt19937 rng(1234);
  int decoded = 0, rejected = 0;
  for (const char* ext : {".jpg", ".png"}) {
    const auto original = encoded(ext);
    for (int round = 0; round < 150; ++round) {
      auto bytes = original;
      const int kind = round % 3;
      if (kind == 0) {  // flip a few bytes
        for (int i = 0; i < 4; ++i) bytes[rng() % bytes.size()] = static_cast<uint8_t>(rng());
      } else if (kind == 1) {  // cut at a random point
        bytes.resize(rng() % bytes.size());
      } else {  // random garbage after a valid signature
        for (std::size_t i = 8 + rng() % 64; i < bytes.size(); ++i) bytes[i] = static_cast<uint8_t>(rng());
      }
      Sample sample;
      sample.tensors["bytes"] = test::bytes_tensor(bytes);
      try {
        op->process(sample);
        ++decoded;
        ASSERT_EQ(sample.at("image").dim(2), 3);
      } catch (const std::exception&) {
        ++rejected;
      }
    }
  }
  EXPECT_GT(rejected, 0);
  EXPECT_EQ(decoded + rejected, 300);
}

TEST(MalformedInput, RandomBytesTokenizeOrThrowUtf8Error) {
  const auto tokenizer =
      WordpieceTokenizer::from_file(std::filesystem::path(CONVEYOR_SOURCE_DIR) / "examples/data/vocab.txt");
  std::mt19937 rng(99);
  int accepted = 0, rejected = 0;
  for (int round = 0; round < 500; ++round) {
    std::string text(rng() % 64, '\0');
    for (char& c : text) c = static_cast<char>(round % 2 ? rng() : rng() % 128);  // half ASCII-only
    try {
      const auto e = tokenizer.encode(text, 16);
      ASSERT_EQ(e.input_ids.size(), 16U);
      ++accepted;
    } catch (const Utf8Error&) {
      ++rejected;
    }
  }
  EXPECT_GE(accepted, 250);  // every ASCII-only text is valid
  EXPECT_GT(rejected, 0);
}

}  // namespace
}  // namespace conveyor
