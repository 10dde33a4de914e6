#pragma once
// Models written by PyTorch's ONNX exporter (tests/exporters/export_models.py, run with Debian's
// python3-torch), with PyTorch's own outputs, for tests that check conveyor against the framework.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "cli/run_command.hpp"
#include "conveyor/tensor/tensor.hpp"

namespace conveyor::testing {

// One exported model: OUTPUT_DIR/<name>/model.onnx with input_<name>.npy and output_<name>.npy beside it.
struct TorchExport {
  std::string name;  // "<model>_opset<N>"
  std::filesystem::path dir;
  std::vector<std::string> inputs, outputs;
  std::map<std::string, int64_t> dims;  // symbolic dimension -> the size of the saved inputs

  std::string model() const { return (dir / "model.onnx").string(); }
  std::string input_file(const std::string& input) const {
    return (dir / ("input_" + input + ".npy")).string();
  }
  std::string output_file(const std::string& output) const {
    return (dir / ("output_" + output + ".npy")).string();
  }
};

// The interpreter that has Debian's torch: CONVEYOR_PYTHON if set, else /usr/bin/python3 (a python3 found
// first on PATH, e.g. from pyenv, does not see Debian's dist-packages), else python3.
inline std::string torch_python() {
  if (const char* python = std::getenv("CONVEYOR_PYTHON"); python && *python) return python;
  if (std::filesystem::exists("/usr/bin/python3")) return "/usr/bin/python3";
  return "python3";
}

inline std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

inline std::vector<std::string> split_commas(const std::string& text) {
  std::vector<std::string> parts;
  std::stringstream in(text);
  for (std::string part; std::getline(in, part, ',');) parts.push_back(part);
  return parts;
}

// Runs the export script into `dir` (all cases, or those named) and returns what it wrote. Fails the
// calling test (ADD_FAILURE, empty result) with the script's stderr when it fails, and with a pointer to
// scripts/setup.sh when python3, torch or torchvision is missing: these tests never skip silently.
inline std::vector<TorchExport> export_torch_models(const std::filesystem::path& dir,
                                                    const std::vector<std::string>& cases = {}) {
  namespace fs = std::filesystem;
  fs::create_directories(dir);
  const std::string python = torch_python();
  const CommandOutput probe = run_command(python + " -c 'import numpy, torch, torchvision' 2>&1");
  if (probe.status != 0) {
    ADD_FAILURE() << python << " cannot import numpy, torch and torchvision (run scripts/setup.sh, which "
                  << "installs python3-torch, python3-torchvision and python3-numpy):\n"
                  << probe.text;
    return {};
  }
  std::string command =
      python + " " + CONVEYOR_SOURCE_DIR + "/tests/exporters/export_models.py " + dir.string();
  for (const std::string& c : cases) command += " " + c;
  const fs::path stderr_file = dir / "export_stderr.txt";
  const CommandOutput run = run_command(command + " 2>" + stderr_file.string());
  if (run.status != 0) {
    ADD_FAILURE() << "tests/exporters/export_models.py failed (exit " << run.status << "):\n"
                  << run.text << read_text(stderr_file);
    return {};
  }
  std::vector<TorchExport> exports;
  std::ifstream list(dir / "cases.txt");
  for (std::string line; std::getline(list, line);) {
    std::istringstream fields(line);
    std::string name, inputs, outputs, dims;
    if (!(fields >> name >> inputs >> outputs >> dims)) continue;
    TorchExport e{name, dir / name, split_commas(inputs), split_commas(outputs), {}};
    if (dims != "-")
      for (const std::string& d : split_commas(dims)) {
        const auto eq = d.find('=');
        e.dims[d.substr(0, eq)] = std::stoll(d.substr(eq + 1));
      }
    exports.push_back(std::move(e));
  }
  if (exports.empty()) ADD_FAILURE() << "export_models.py listed no models in " << (dir / "cases.txt");
  return exports;
}

// Largest |got - want| over float32 tensors of the same shape; +inf when dtype or shape differ, NaN when
// either holds a NaN.
inline double max_abs_difference(const Tensor& got, const Tensor& want) {
  if (got.dtype() != DType::kFloat32 || want.dtype() != DType::kFloat32 || got.shape() != want.shape())
    return INFINITY;
  double worst = 0;
  for (int64_t i = 0; i < want.numel(); ++i) {
    const double d = std::abs(static_cast<double>(got.data<float>()[i]) - want.data<float>()[i]);
    if (std::isnan(d)) return NAN;
    worst = std::max(worst, d);
  }
  return worst;
}

}  // namespace conveyor::testing
