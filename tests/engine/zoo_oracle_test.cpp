// The executor against an independent implementation: every zoo CNN run by conveyor's engine and by
// OpenCV DNN on the same bytes and the same random images must agree; so must the BERT-style encoder
// ("bert_encoder": attention, decomposed LayerNorm, Erf GELU) on random hidden states, with OpenCV's
// fusion off (with it on, OpenCV 4.6 mis-computes q@kᵀ/√d).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <opencv2/core.hpp>
#include <ostream>

#include "conveyor/engine/compiled_model.hpp"
#include "conveyor/graph/onnx_import.hpp"
#include "graph/zoo/zoo_model.hpp"
#include "support/opencv_oracle.hpp"

namespace conveyor {
namespace {

class ZooCnnMatchesOpenCv : public ::testing::TestWithParam<std::string> {};

TEST_P(ZooCnnMatchesOpenCv, SameLogitsOnRandomImages) {
  zoo::ZooOptions options;
  options.seed = 7;
  options.batch = 2;
  options.image_size = 96;  // whole architecture, smaller images: fast enough for every CI run
  const onnx::ModelProto model = zoo::build(GetParam(), options);
  const std::string bytes = model.SerializeAsString();

  cv::Mat images(std::vector<int>{options.batch, 3, options.image_size, options.image_size}, CV_32F);
  cv::RNG(11).fill(images, cv::RNG::NORMAL, 0.0, 1.0);

  cv::dnn::Net net = testing::load_in_opencv(testing::opencv_compatible_bytes(model));
  net.setInput(images, "input");
  const cv::Mat expected = net.forward("logits");

  CompiledModel compiled = CompiledModel::compile(parse_onnx(bytes.data(), bytes.size()), EngineOptions{1});
  Tensor input(DType::kFloat32, {options.batch, 3, options.image_size, options.image_size});
  std::memcpy(input.raw(), images.ptr<float>(), input.nbytes());
  const Tensor logits = compiled.run({{"input", input}}).at("logits");

  ASSERT_EQ(logits.numel(), static_cast<int64_t>(expected.total()));
  const float* want = expected.ptr<float>();
  double max_error = 0, max_magnitude = 0;
  for (int64_t i = 0; i < logits.numel(); ++i) {
    max_error = std::max(max_error, static_cast<double>(std::abs(logits.data<float>()[i] - want[i])));
    max_magnitude = std::max(max_magnitude, static_cast<double>(std::abs(want[i])));
  }
  EXPECT_GT(max_magnitude, 0.1) << "degenerate logits would make the comparison meaningless";
  EXPECT_LE(max_error, 1e-4 * std::max(1.0, max_magnitude)) << GetParam() << ": max |conveyor - OpenCV| = " << max_error;
}

INSTANTIATE_TEST_SUITE_P(Zoo, ZooCnnMatchesOpenCv,
                         ::testing::Values("resnet18", "resnet50", "mobilenet_v2", "tinycnn"),
                         [](const auto& test_case) { return test_case.param; });

struct EncoderCase {
  const char* name;
  int layers, hidden, heads, seq_len, batch;
};

void PrintTo(const EncoderCase& c, std::ostream* os) {
  *os << c.name << " (" << c.layers << " layers, hidden " << c.hidden << ", " << c.heads << " heads, seq "
      << c.seq_len << ", batch " << c.batch << ")";
}

// Batch 1 only: OpenCV 4.6 cannot broadcast the LayerNorm statistics [batch, seq, 1] over [batch, seq,
// hidden] when batch > 1 (conveyor can; the other engine tests cover batches).
class BertEncoderMatchesOpenCv : public ::testing::TestWithParam<EncoderCase> {};

TEST_P(BertEncoderMatchesOpenCv, SameHiddenStatesOnRandomInputs) {
  const EncoderCase& c = GetParam();
  zoo::ZooOptions options;
  options.seed = 5;
  options.layers = c.layers;
  options.hidden = c.hidden;
  options.heads = c.heads;
  options.seq_len = c.seq_len;
  options.batch = c.batch;
  const std::string bytes = zoo::serialize("bert_encoder", options);  // also runs the checker

  cv::Mat states(std::vector<int>{c.batch, c.seq_len, c.hidden}, CV_32F);
  cv::RNG(13).fill(states, cv::RNG::NORMAL, 0.0, 1.0);

  cv::dnn::Net net = testing::load_in_opencv(bytes);
  net.enableFusion(false);
  net.setInput(states, "hidden_states");
  const cv::Mat expected = net.forward("last_hidden_state");

  CompiledModel compiled = CompiledModel::compile(parse_onnx(bytes.data(), bytes.size()), EngineOptions{1});
  Tensor input(DType::kFloat32, {c.batch, c.seq_len, c.hidden});
  std::memcpy(input.raw(), states.ptr<float>(), input.nbytes());
  const Tensor output = compiled.run({{"hidden_states", input}}).at("last_hidden_state");

  ASSERT_EQ(output.numel(), static_cast<int64_t>(expected.total()));
  const float* want = expected.ptr<float>();
  double max_error = 0, max_magnitude = 0;
  for (int64_t i = 0; i < output.numel(); ++i) {
    max_error = std::max(max_error, static_cast<double>(std::abs(output.data<float>()[i] - want[i])));
    max_magnitude = std::max(max_magnitude, static_cast<double>(std::abs(want[i])));
  }
  // LayerNorm outputs: O(1) values, so the tolerance is absolute and relative at once.
  EXPECT_GT(max_magnitude, 0.5) << "degenerate hidden states would make the comparison meaningless";
  EXPECT_LE(max_error, 1e-4 * std::max(1.0, max_magnitude))
      << c.name << ": max |conveyor - OpenCV| = " << max_error;
}

INSTANTIATE_TEST_SUITE_P(Zoo, BertEncoderMatchesOpenCv,
                         ::testing::Values(EncoderCase{"small", 2, 64, 4, 16, 1},
                                           EncoderCase{"bench_size", 4, 256, 4, 128, 1}),
                         [](const ::testing::TestParamInfo<EncoderCase>& c) {
                           return std::string(c.param.name);
                         });

}  // namespace
}  // namespace conveyor
