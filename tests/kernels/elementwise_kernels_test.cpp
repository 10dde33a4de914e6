#include <gtest/gtest.h>

#include <cmath>

#include "kernel_runner.hpp"

namespace conveyor {
namespace {

using testing::run_kernel;
using testing::signature;
using testing::values_of;

TEST(ElementwiseKernels, ReluClampsNegativesToZero) {
  const Tensor x = Tensor::from<float>({4}, std::vector<float>{-2, -0.5f, 0, 3});
  const auto y = run_kernel(signature("Relu", {x}, {{DType::kFloat32, {4}}}), {x});
  EXPECT_EQ(values_of<float>(y[0]), (std::vector<float>{0, 0, 0, 3}));
}

TEST(ElementwiseKernels, LeakyReluTakesItsSlopeFromTheAttributes) {
  const Tensor x = Tensor::from<float>({2}, std::vector<float>{-2, 4});
  KernelAttributes attrs;
  attrs.set("alpha", 0.25f);
  const auto y = run_kernel(signature("LeakyRelu", {x}, {{DType::kFloat32, {2}}}, attrs), {x});
  EXPECT_EQ(values_of<float>(y[0]), (std::vector<float>{-0.5f, 4}));
}

TEST(ElementwiseKernels, AddBroadcastsARowAcrossAMatrix) {
  const Tensor a = Tensor::from<int64_t>({2, 3}, std::vector<int64_t>{1, 2, 3, 4, 5, 6});
  const Tensor b = Tensor::from<int64_t>({3}, std::vector<int64_t>{10, 20, 30});
  const auto y = run_kernel(signature("Add", {a, b}, {{DType::kInt64, {2, 3}}}), {a, b});
  EXPECT_EQ(values_of<int64_t>(y[0]), (std::vector<int64_t>{11, 22, 33, 14, 25, 36}));
}

TEST(ElementwiseKernels, IntegerDivisionByZeroGivesZeroInsteadOfTrapping) {
  const Tensor a = Tensor::from<int32_t>({2}, std::vector<int32_t>{7, -8});
  const Tensor b = Tensor::from<int32_t>({2}, std::vector<int32_t>{0, -1});
  const auto y = run_kernel(signature("Div", {a, b}, {{DType::kInt32, {2}}}), {a, b});
  EXPECT_EQ(values_of<int32_t>(y[0]), (std::vector<int32_t>{0, 8}));
}

TEST(ElementwiseKernels, CastSaturatesOutOfRangeFloatsAndMapsNanToZero) {
  const Tensor x = Tensor::from<float>({3}, std::vector<float>{1e20f, -1e20f, std::nanf("")});
  const auto y = run_kernel(signature("Cast", {x}, {{DType::kInt32, {3}}}), {x});
  EXPECT_EQ(values_of<int32_t>(y[0]), (std::vector<int32_t>{std::numeric_limits<int32_t>::max(),
                                                            std::numeric_limits<int32_t>::lowest(), 0}));
}

}  // namespace
}  // namespace conveyor
