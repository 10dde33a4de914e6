// `conveyor infer` on a model written by PyTorch's ONNX exporter (the transformer classifier at opset 13:
// int64 token ids, symbolic batch and sequence sized with --dim) matches PyTorch's output within 1e-4.
// tests/engine/torch_exports_test.cpp covers every exported model in-process.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <iostream>

#include "cli/run_command.hpp"
#include "conveyor/tensor/npy.hpp"
#include "support/torch_exports.hpp"

namespace conveyor {
namespace {

namespace fs = std::filesystem;

TEST(TorchExportInfer, TransformerClassifierMatchesPyTorch) {
  const fs::path dir =
      fs::path(::testing::TempDir()) / ("conveyor_torch_infer_" + std::to_string(::getpid()));
  const auto exports = testing::export_torch_models(dir, {"text_classifier_opset13"});
  ASSERT_EQ(exports.size(), 1u);
  const testing::TorchExport& e = exports.front();

  std::string args = e.model() + " --threads 1 --output " + (dir / "out").string();
  for (const std::string& input : e.inputs) args += " --input " + input + "=" + e.input_file(input);
  for (const auto& [dim, size] : e.dims) args += " --dim " + dim + "=" + std::to_string(size);
  const testing::CommandOutput run =
      testing::run_command(std::string(CONVEYOR_BINARY) + " infer " + args + " 2>&1");
  ASSERT_EQ(run.status, 0) << run.text;

  for (const std::string& output : e.outputs) {
    const Tensor got = read_npy((dir / "out" / (output + ".npy")).string());
    const Tensor want = read_npy(e.output_file(output));
    const double diff = testing::max_abs_difference(got, want);
    std::cout << e.name << " via conveyor infer: output '" << output
              << "' max |conveyor - PyTorch| = " << diff << "\n";
    ::testing::Test::RecordProperty(e.name + "_" + output + "_max_abs_diff", std::to_string(diff));
    EXPECT_LE(diff, 1e-4) << "conveyor " << got.describe() << ", PyTorch " << want.describe();
  }
  if (!HasFailure()) fs::remove_all(dir);
}

}  // namespace
}  // namespace conveyor
