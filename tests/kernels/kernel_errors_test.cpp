#include <gtest/gtest.h>

#include "kernel_runner.hpp"

namespace conveyor {
namespace {

using testing::run_kernel;
using testing::signature;

// The message of the KernelError `fn` throws ("" when it throws none).
template <typename Fn>
std::string kernel_error(Fn&& fn) {
  try {
    fn();
  } catch (const KernelError& e) {
    return e.what();
  }
  return "";
}

TEST(KernelErrors, AnUnknownOperatorIsNamedWithTheCallersWhere) {
  EXPECT_FALSE(has_reference_kernel("NonMaxSuppression"));
  KernelSignature s;
  s.op_type = "NonMaxSuppression";
  s.where = "node 'nms' (NonMaxSuppression)";
  EXPECT_EQ(kernel_error([&] { make_reference_kernel(s); }),
            "node 'nms' (NonMaxSuppression): no reference kernel for NonMaxSuppression");
}

TEST(KernelErrors, AFloatOnlyOperatorRefusesIntegersWhenPrepared) {
  const Tensor x(DType::kInt64, {3});
  const std::string what = kernel_error([&] {
    make_reference_kernel(signature("Sigmoid", {x}, {{DType::kInt64, {3}}}));
  });
  EXPECT_NE(what.find("test Sigmoid: no reference kernel: needs a float input"), std::string::npos) << what;
}

TEST(KernelErrors, AnAttributeOfTheWrongTypeSaysWhichAndWhy) {
  const Tensor x(DType::kFloat32, {3});
  KernelAttributes attrs;
  attrs.set("alpha", std::string("wide"));
  const std::string what = kernel_error([&] {
    make_reference_kernel(signature("LeakyRelu", {x}, {{DType::kFloat32, {3}}}, attrs));
  });
  EXPECT_EQ(what, "test LeakyRelu: attribute 'alpha' is string, expected float");
}

TEST(KernelErrors, AGatherIndexOutOfRangeFailsWhileRunning) {
  const Tensor data = Tensor::from<float>({3}, std::vector<float>{1, 2, 3});
  const Tensor index = Tensor::from<int64_t>({1}, std::vector<int64_t>{5});
  const KernelSignature s = signature("Gather", {data, index}, {{DType::kFloat32, {1}}});
  EXPECT_NO_THROW(make_reference_kernel(s));  // preparing knows no index values yet
  const std::string what = kernel_error([&] { run_kernel(s, {data, index}); });
  EXPECT_EQ(what, "test Gather: index 5 out of range [0, 3)");
}

}  // namespace
}  // namespace conveyor
