#include <algorithm>
#include <array>

#include "op_test_support.hpp"

namespace conveyor {
namespace {

using test::json_args;

using test::arg_error_key;
using test::run_error;
using test::run_op;

// uint8 [rows, cols, 3] with pixel (y, x) = bgr(y, x).
template <typename F>
Tensor image(int rows, int cols, F bgr) {
  Tensor t(DType::kUInt8, {rows, cols, 3});
  uint8_t* p = t.data<uint8_t>();
  for (int y = 0; y < rows; ++y)
    for (int x = 0; x < cols; ++x) {
      const std::array<int, 3> v = bgr(y, x);
      for (int c = 0; c < 3; ++c)
        p[(y * cols + x) * 3 + c] = static_cast<uint8_t>(v[static_cast<std::size_t>(c)]);
    }
  return t;
}

Tensor preprocess(Tensor input, const OpArgs& args) {
  Sample sample;
  sample.tensors["image"] = std::move(input);
  run_op("image.preprocess", args, sample);
  return sample.at("pixels");
}

float at(const Tensor& t, int c, int y, int x) {
  const int64_t h = t.dim(2), w = t.dim(3);
  return t.data<float>()[(c * h + y) * w + x];
}

// Identity normalisation, so outputs are the resized pixel values themselves.
OpArgs raw_values(OpArgs args) {
  args.set("scale", 1);
  args.set("mean", std::vector<int64_t>{0, 0, 0});
  args.set("std", std::vector<int64_t>{1, 1, 1});
  return args;
}

constexpr std::array<double, 3> kMean = {0.485, 0.456, 0.406};
constexpr std::array<double, 3> kStd = {0.229, 0.224, 0.225};

TEST(ImagePreprocess, ConstantColourGivesTheNormalisedValuePerRgbChannel) {
  const std::array<int, 3> bgr = {10, 100, 200};
  const Tensor in = image(5, 7, [&](int, int) { return bgr; });
  for (const char* mode : {"stretch", "shorter_side_crop"}) {
    OpArgs args = OpArgs().set("size", std::vector<int64_t>{3, 4}).set("resize", mode);
    if (mode != std::string("stretch")) args.set("resize_to", 4);
    const Tensor out = preprocess(in, args);
    ASSERT_EQ(out.dtype(), DType::kFloat32);
    ASSERT_EQ(out.shape(), (Shape{1, 3, 3, 4}));
    for (int c = 0; c < 3; ++c) {
      const int value = bgr[static_cast<std::size_t>(2 - c)];  // RGB output from BGR input
      const auto expected = static_cast<float>((value / 255.0 - kMean[static_cast<std::size_t>(c)]) /
                                               kStd[static_cast<std::size_t>(c)]);
      for (int y = 0; y < 3; ++y)
        for (int x = 0; x < 4; ++x) EXPECT_FLOAT_EQ(at(out, c, y, x), expected) << mode << " c=" << c;
    }
  }
}

TEST(ImagePreprocess, RgbFalseKeepsBgrOrderAndCustomNormalisationApplies) {
  const Tensor in = image(2, 2, [](int, int) { return std::array<int, 3>{10, 100, 200}; });
  const Tensor out = preprocess(
      in,
      json_args(
          R"({"size": 2, "rgb": false, "mean": [1, 2, 3], "std": [2, 4, 8], "scale": 0.5, "resize": "stretch"})"));
  EXPECT_FLOAT_EQ(at(out, 0, 0, 0), (10 * 0.5F - 1) / 2);
  EXPECT_FLOAT_EQ(at(out, 1, 1, 1), (100 * 0.5F - 2) / 4);
  EXPECT_FLOAT_EQ(at(out, 2, 0, 1), (200 * 0.5F - 3) / 8);
}

TEST(ImagePreprocess, TwoByTwoAtItsOwnSizeIsLaidOutNchw) {
  // pixel (y, x): B = 10y + x, G = 100 + 10y + x, R = 200 + 10y + x
  const Tensor in = image(2, 2, [](int y, int x) {
    return std::array<int, 3>{10 * y + x, 100 + 10 * y + x, 200 + 10 * y + x};
  });
  const Tensor out = preprocess(in, raw_values(json_args(R"({"size": [2, 2], "resize": "stretch"})")));
  for (int y = 0; y < 2; ++y)
    for (int x = 0; x < 2; ++x) {
      EXPECT_EQ(at(out, 0, y, x), 200 + 10 * y + x);  // R
      EXPECT_EQ(at(out, 1, y, x), 100 + 10 * y + x);  // G
      EXPECT_EQ(at(out, 2, y, x), 10 * y + x);        // B
    }
}

TEST(ImagePreprocess, StretchInterpolatesLinearlyWithHalfPixelCentres) {
  // One row [0, 200] stretched to 4 columns samples source x = -0.25, 0.25, 0.75, 1.25 (clamped).
  const Tensor in = image(1, 2, [](int, int x) { return std::array<int, 3>{x * 200, x * 200, x * 200}; });
  const Tensor out = preprocess(in, raw_values(json_args(R"({"size": [1, 4], "resize": "stretch"})")));
  const std::array<float, 4> expected = {0, 50, 150, 200};
  for (int x = 0; x < 4; ++x) EXPECT_EQ(at(out, 0, 0, x), expected[static_cast<std::size_t>(x)]) << x;
}

TEST(ImagePreprocess, ShorterSideCropTakesTheCentreOfAWideImage) {
  // 2x6, shorter side already 2: no resize, the centre 2 columns (2 and 3) remain.
  const Tensor in = image(2, 6, [](int y, int x) { return std::array<int, 3>{10 * x + y, 0, 0}; });
  const Tensor out = preprocess(in, raw_values(json_args(R"({"size": 2, "resize_to": 2})")));
  ASSERT_EQ(out.shape(), (Shape{1, 3, 2, 2}));
  for (int y = 0; y < 2; ++y)
    for (int x = 0; x < 2; ++x) EXPECT_EQ(at(out, 2, y, x), 10 * (x + 2) + y);
}

TEST(ImagePreprocess, ShorterSideCropTakesTheCentreOfATallImage) {
  const Tensor in = image(6, 2, [](int y, int x) { return std::array<int, 3>{10 * y + x, 0, 0}; });
  const Tensor out = preprocess(in, raw_values(json_args(R"({"size": 2, "resize_to": 2})")));
  for (int y = 0; y < 2; ++y)
    for (int x = 0; x < 2; ++x) EXPECT_EQ(at(out, 2, y, x), 10 * (y + 2) + x);
}

TEST(ImagePreprocess, ShorterSideCropHalvesThenCrops) {
  // 4x8 with column value 10x halves to 2x4 (each output column averages two source columns: 5, 25,
  // 45, 65), then the centre 2 columns (25, 45) are kept.
  const Tensor in = image(4, 8, [](int, int x) { return std::array<int, 3>{10 * x, 10 * x, 10 * x}; });
  const Tensor out = preprocess(in, raw_values(json_args(R"({"size": 2, "resize_to": 2})")));
  for (int y = 0; y < 2; ++y) {
    EXPECT_EQ(at(out, 0, y, 0), 25);
    EXPECT_EQ(at(out, 0, y, 1), 45);
  }
}

TEST(ImagePreprocess, DefaultsGiveTheImagenetInputShape) {
  const Tensor in = image(300, 400, [](int y, int x) { return std::array<int, 3>{y % 256, x % 256, 7}; });
  EXPECT_EQ(preprocess(in, json_args(R"({"size": 224})")).shape(), (Shape{1, 3, 224, 224}));
  EXPECT_EQ(preprocess(in, json_args(R"({"size": [224, 160], "resize": "stretch"})")).shape(),
            (Shape{1, 3, 224, 160}));
  EXPECT_EQ(preprocess(in, json_args(R"({"size": [100, 120], "interpolation": "area"})")).shape(),
            (Shape{1, 3, 100, 120}));
}

TEST(ImagePreprocess, AreaInterpolationAveragesWhenShrinking) {
  // 1x4 [0, 100, 200, 40] to 1x2 by area: (0 + 100) / 2, (200 + 40) / 2.
  const std::array<int, 4> row = {0, 100, 200, 40};
  const Tensor in = image(1, 4, [&](int, int x) {
    const int v = row[static_cast<std::size_t>(x)];
    return std::array<int, 3>{v, v, v};
  });
  const Tensor out = preprocess(
      in, raw_values(json_args(R"({"size": [1, 2], "resize": "stretch", "interpolation": "area"})")));
  EXPECT_EQ(at(out, 0, 0, 0), 50);
  EXPECT_EQ(at(out, 0, 0, 1), 120);
}

TEST(ImagePreprocess, RejectsInputsThatAreNotBgrPixels) {
  for (const Tensor& bad : {Tensor(DType::kFloat32, {4, 4, 3}), Tensor(DType::kUInt8, {4, 4, 4}),
                            Tensor(DType::kUInt8, {4, 4}), Tensor(DType::kUInt8, {0, 4, 3})}) {
    Sample sample;
    sample.tensors["image"] = bad;
    const std::string error = run_error("image.preprocess", json_args(R"({"size": 2})"), sample);
    EXPECT_NE(error.find("expected uint8 [H, W, 3]"), std::string::npos) << error;
    EXPECT_NE(error.find(bad.describe()), std::string::npos) << error;
  }
}

// A misspelt required arg once read as "size is required": the key written is the one at fault.
TEST(ImagePreprocess, AnUnknownArgIsReportedBeforeTheRequiredOneItMisspells) {
  try {
    builtin_operators().build("image.preprocess", json_args(R"({"szie": [224, 224]})"), {});
    FAIL() << "an unknown arg must be refused";
  } catch (const OpArgError& error) {
    EXPECT_EQ(error.key(), "szie");
    EXPECT_TRUE(error.unknown_key());
    EXPECT_NE(std::find(error.accepted().begin(), error.accepted().end(), "size"), error.accepted().end());
    EXPECT_NE(std::string(error.what()).find("unknown arg 'szie'"), std::string::npos) << error.what();
  }
}

TEST(ImagePreprocess, BadArgsNameTheKey) {
  EXPECT_EQ(arg_error_key("image.preprocess", OpArgs()), "size");
  EXPECT_EQ(arg_error_key("image.preprocess", json_args(R"({"size": "big"})")), "size");
  EXPECT_EQ(arg_error_key("image.preprocess", json_args(R"({"size": [0, 3]})")), "size");
  EXPECT_EQ(arg_error_key("image.preprocess", json_args(R"({"size": [1, 2, 3]})")), "size");
  EXPECT_EQ(arg_error_key("image.preprocess", json_args(R"({"size": 2.5})")), "size");
  EXPECT_EQ(arg_error_key("image.preprocess", json_args(R"({"size": 224, "resize": "zoom"})")), "resize");
  EXPECT_EQ(arg_error_key("image.preprocess", json_args(R"({"size": 224, "resize_to": 200})")), "resize_to");
  EXPECT_EQ(
      arg_error_key("image.preprocess", json_args(R"({"size": 224, "resize": "stretch", "resize_to": 256})")),
      "resize_to");
  EXPECT_EQ(arg_error_key("image.preprocess", json_args(R"({"size": 224, "mean": [1, 2]})")), "mean");
  EXPECT_EQ(arg_error_key("image.preprocess", json_args(R"({"size": 224, "std": [1, 0, 1]})")), "std");
  EXPECT_EQ(arg_error_key("image.preprocess", json_args(R"({"size": 224, "rgb": "yes"})")), "rgb");
  EXPECT_EQ(arg_error_key("image.preprocess", json_args(R"({"size": 224, "scale": "1/255"})")), "scale");
  EXPECT_EQ(arg_error_key("image.preprocess", json_args(R"({"size": 224, "interpolation": "cubic"})")),
            "interpolation");
  EXPECT_EQ(arg_error_key("image.preprocess", json_args(R"({"size": 224, "sizes": 224})")), "sizes");
  const std::string message =
      test::arg_error_message("image.preprocess", json_args(R"({"size": 224, "resize_to": 200})"));
  EXPECT_NE(message.find("224"), std::string::npos) << message;
}

}  // namespace
}  // namespace conveyor
