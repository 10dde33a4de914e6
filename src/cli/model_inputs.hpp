#pragma once
// A model's inputs and outputs as `conveyor infer` shows and reads them: shapes with their symbolic
// dimensions by name, and .npy files checked against them before anything runs.
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "conveyor/graph/graph.hpp"
#include "conveyor/tensor/tensor.hpp"

namespace conveyor::cli {

// A model input or output as imported: its shape, and the names of its symbolic dimensions ("" for fixed).
struct ValueSpec {
  std::string name;
  DType dtype = DType::kFloat32;
  Shape shape;
  std::vector<std::string> dim_names;

  bool symbolic(std::size_t axis) const { return axis < dim_names.size() && !dim_names[axis].empty(); }
};

std::vector<ValueSpec> specs_of(const Graph& graph, const std::vector<int>& ids);

// float32[1, 3, 224, 224]; with symbolic dimensions by name, float32[batch, 8] (`sizes`: batch=1, 8).
std::string spec_str(const ValueSpec& spec, bool sizes = false);
nlohmann::json spec_json(const ValueSpec& spec);

// The symbolic dimensions of `specs`, each once, in order of appearance.
std::vector<std::string> symbolic_dims(const std::vector<ValueSpec>& specs);

// NAME=VALUE split at the '='; throws std::invalid_argument naming `option` and the `form` it expects.
std::pair<std::string, std::string> split_pair(const std::string& text, const std::string& option,
                                               const std::string& form);

// An --input: NAME=FILE.npy, or FILE.npy alone for a model with one input.
std::pair<std::string, std::string> input_name_and_file(const std::string& arg,
                                                        const std::vector<ValueSpec>& specs);

// Reads every --input (`args`) and checks it against the model's inputs (names, dtypes, shapes; a shape
// that differs only in symbolic dimensions gets the --dim to pass). In the order of `specs`.
std::vector<Tensor> read_inputs(const std::vector<std::string>& args, const std::vector<ValueSpec>& specs);

}  // namespace conveyor::cli
