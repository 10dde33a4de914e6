#pragma once
// The ONNX operators the importer and executor support, with the attributes they read and their limits:
// what `conveyor infer --list-ops` prints.
#include <string>
#include <vector>

namespace conveyor {

struct SupportedOp {
  std::string op;
  std::string attributes;  // the attributes (and constant inputs) read, as the ONNX spec names them
  std::string limits;      // what is refused or ignored; empty: none
};

// Every operator load_onnx accepts, sorted by name.
const std::vector<SupportedOp>& supported_ops();

// The operator types load_onnx accepts (sorted).
std::vector<std::string> supported_onnx_ops();

}  // namespace conveyor
