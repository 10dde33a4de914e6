#include <gtest/gtest.h>

#include "kernel_runner.hpp"

namespace conveyor {
namespace {

using testing::run_kernel;
using testing::signature;
using testing::values_of;

TEST(MatrixKernels, MatMulOfIntegersIsExact) {
  const Tensor a = Tensor::from<int64_t>({2, 3}, std::vector<int64_t>{1, 2, 3, 4, 5, 6});
  const Tensor b = Tensor::from<int64_t>({3, 2}, std::vector<int64_t>{7, 8, 9, 10, 11, 12});
  const auto y = run_kernel(signature("MatMul", {a, b}, {{DType::kInt64, {2, 2}}}), {a, b});
  EXPECT_EQ(values_of<int64_t>(y[0]), (std::vector<int64_t>{58, 64, 139, 154}));
}

TEST(MatrixKernels, MatMulBroadcastsABatchOfOneAgainstABatchedOperand) {
  // A [1, 1, 2] against B [2, 2, 1]: the batch of A broadcasts, out [2, 1, 1].
  const Tensor a = Tensor::from<float>({1, 1, 2}, std::vector<float>{1, 2});
  const Tensor b = Tensor::from<float>({2, 2, 1}, std::vector<float>{3, 4, 5, 6});
  const auto y = run_kernel(signature("MatMul", {a, b}, {{DType::kFloat32, {2, 1, 1}}}), {a, b});
  EXPECT_EQ(values_of<float>(y[0]), (std::vector<float>{11, 17}));
}

TEST(MatrixKernels, MatMulPromotesAVectorOperand) {
  const Tensor a = Tensor::from<int32_t>({2}, std::vector<int32_t>{1, -1});
  const Tensor b = Tensor::from<int32_t>({2, 3}, std::vector<int32_t>{1, 2, 3, 4, 5, 6});
  const auto y = run_kernel(signature("MatMul", {a, b}, {{DType::kInt32, {3}}}), {a, b});
  EXPECT_EQ(values_of<int32_t>(y[0]), (std::vector<int32_t>{-3, -3, -3}));
}

TEST(MatrixKernels, GemmTransposesScalesAndAddsABroadcastBias) {
  const Tensor a = Tensor::from<float>({2, 1}, std::vector<float>{1, 2});  // transA: A' = [1, 2]
  const Tensor b =
      Tensor::from<float>({2, 2}, std::vector<float>{1, 2, 3, 4});  // transB: B' = [[1, 3], [2, 4]]
  const Tensor c = Tensor::from<float>({2}, std::vector<float>{10, 20});
  KernelAttributes attrs;
  attrs.set("transA", int64_t{1});
  attrs.set("transB", int64_t{1});
  attrs.set("alpha", 2.0f);
  attrs.set("beta", 0.5f);
  const auto y = run_kernel(signature("Gemm", {a, b, c}, {{DType::kFloat32, {1, 2}}}, attrs), {a, b, c});
  EXPECT_EQ(values_of<float>(y[0]), (std::vector<float>{2 * 5 + 5, 2 * 11 + 10}));
}

TEST(MatrixKernels, GemmWithAlphaZeroIsBetaTimesC) {
  const Tensor a = Tensor::from<float>({1, 2}, std::vector<float>{1, 2});
  const Tensor b = Tensor::from<float>({2, 1}, std::vector<float>{3, 4});
  const Tensor c = Tensor::from<float>({1, 1}, std::vector<float>{-3});
  KernelAttributes attrs;
  attrs.set("alpha", 0.0f);
  const auto y = run_kernel(signature("Gemm", {a, b, c}, {{DType::kFloat32, {1, 1}}}, attrs), {a, b, c});
  EXPECT_EQ(values_of<float>(y[0]), (std::vector<float>{-3}));
}

TEST(MatrixKernels, MatMulRefusesMismatchedInnerDimensions) {
  const Tensor a(DType::kFloat32, {2, 3}), b(DType::kFloat32, {2, 2});
  EXPECT_THROW(make_reference_kernel(signature("MatMul", {a, b}, {{DType::kFloat32, {2, 2}}})), KernelError);
}

}  // namespace
}  // namespace conveyor
