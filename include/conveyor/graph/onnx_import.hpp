#pragma once
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>

#include "conveyor/graph/graph.hpp"

namespace conveyor {

struct ImportOptions {
  // Value given to every symbolic or unknown dimension of a graph input that `dims` does not name.
  int64_t default_dim = 1;
  // Symbolic dimension name (dim_param, e.g. "batch") -> value.
  std::map<std::string, int64_t> dims;
  // Graph input name -> full shape, overriding what the model declares (same rank required).
  std::map<std::string, Shape> input_shapes;
  // Graph inputs frozen to these values: they become initializers and feed constant folding.
  std::map<std::string, Tensor> frozen_inputs;
  // Run the optimisation passes of passes.hpp (identity removal, BN folding, GELU/LayerNorm patterns).
  bool optimize = true;
  // Constant folding never creates a tensor above this size.
  std::size_t max_folded_bytes = std::size_t{64} << 20;
  // Refuse files, initializers and intermediate values above this size.
  std::size_t max_model_bytes = std::size_t{4} << 30;
};

// Loads an ONNX model (opsets 11..17 of the default domain), fixes every dimension, infers static shapes
// and dtypes for all values, folds constants and (with options.optimize) runs the passes of passes.hpp.
// External data files are read from the model's folder. Throws GraphError naming the file, node and reason.
Graph load_onnx(const std::string& path, const ImportOptions& options = {});

// The same from serialized bytes; `base_dir` is where external data files live ("" refuses external data)
// and `origin` names the model in error messages.
Graph parse_onnx(const void* bytes, std::size_t size, const ImportOptions& options = {},
                 const std::string& base_dir = "", const std::string& origin = "<memory>");

// Reads a serialized onnx.TensorProto file (as in the ONNX test data sets: input_0.pb, output_0.pb).
Tensor read_tensor_proto(const std::string& path);

}  // namespace conveyor
