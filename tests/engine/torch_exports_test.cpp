// Models written by a mainstream framework's ONNX exporter load in conveyor and match the framework:
// torchvision resnet18 and mobilenet_v2 and a BERT-style transformer classifier (nn.TransformerEncoder),
// exported by Debian's PyTorch at opsets 11, 13 and 17, run by load_onnx + CompiledModel on one thread and
// compared with PyTorch's own outputs within 1e-4 absolute. Prints the max difference per model.
#include "support/torch_exports.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <iomanip>
#include <iostream>
#include <sstream>

#include "conveyor/engine/compiled_model.hpp"
#include "conveyor/graph/onnx_import.hpp"
#include "conveyor/tensor/npy.hpp"

namespace conveyor {
namespace {

namespace fs = std::filesystem;

constexpr double kTolerance = 1e-4;

TEST(TorchExports, EveryModelMatchesPyTorch) {
  const fs::path dir =
      fs::path(::testing::TempDir()) / ("conveyor_torch_exports_" + std::to_string(::getpid()));
  const std::vector<testing::TorchExport> exports = testing::export_torch_models(dir);
  ASSERT_FALSE(exports.empty());

  std::ostringstream report;
  report << "PyTorch exporter models (max |conveyor - PyTorch| over all outputs):\n";
  for (const testing::TorchExport& e : exports) {
    SCOPED_TRACE(e.name);
    double worst = 0;
    try {
      ImportOptions options;
      options.dims = e.dims;
      const Graph graph = load_onnx(e.model(), options);
      CompiledModel model = CompiledModel::compile(graph, EngineOptions{1});
      std::map<std::string, Tensor> inputs;
      for (const std::string& name : e.inputs) inputs[name] = read_npy(e.input_file(name));
      const std::map<std::string, Tensor> outputs = model.run(inputs);
      for (const std::string& name : e.outputs) {
        const auto got = outputs.find(name);
        if (got == outputs.end()) {
          ADD_FAILURE() << e.name << ": conveyor produced no output '" << name << "'";
          worst = INFINITY;
          continue;
        }
        const Tensor want = read_npy(e.output_file(name));
        const double diff = testing::max_abs_difference(got->second, want);
        EXPECT_LE(diff, kTolerance) << e.name << " output '" << name << "': conveyor "
                                    << got->second.describe() << ", PyTorch " << want.describe()
                                    << ", max abs difference " << diff;
        worst = std::max(worst, diff);
      }
    } catch (const std::exception& error) {
      ADD_FAILURE() << e.name << ": " << error.what();
      worst = INFINITY;
    }
    report << "  " << std::left << std::setw(32) << e.name << " " << std::scientific << std::setprecision(2)
           << worst << "\n";
    ::testing::Test::RecordProperty(e.name + "_max_abs_diff", std::to_string(worst));
  }
  std::cout << report.str();
  if (HasFailure())
    std::cout << "exported models kept in " << dir << "\n";
  else
    fs::remove_all(dir);
}

}  // namespace
}  // namespace conveyor
