#include "cli/model_inputs.hpp"

#include <algorithm>
#include <filesystem>
#include <map>
#include <stdexcept>

#include "conveyor/tensor/npy.hpp"

namespace conveyor::cli {
namespace {

std::string list_specs(const std::vector<ValueSpec>& specs) {
  std::string all;
  for (const auto& s : specs) all += (all.empty() ? "" : ", ") + s.name + " " + spec_str(s);
  return all;
}

// "--dim batch=4" when `tensor` differs from `spec` only in symbolic dimensions (and has its dtype).
std::string dims_hint(const ValueSpec& spec, const Tensor& tensor) {
  if (tensor.dtype() != spec.dtype || tensor.shape().size() != spec.shape.size()) return "";
  std::string dims;
  for (std::size_t axis = 0; axis < spec.shape.size(); ++axis) {
    if (tensor.dim(axis) == spec.shape[axis]) continue;
    if (!spec.symbolic(axis)) return "";
    dims += " --dim " + spec.dim_names[axis] + "=" + std::to_string(tensor.dim(axis));
  }
  return dims.empty() ? "" : ": pass" + dims;
}

}  // namespace

std::vector<ValueSpec> specs_of(const Graph& graph, const std::vector<int>& ids) {
  std::vector<ValueSpec> specs;
  for (int id : ids) {
    const Value& v = graph.value(id);
    specs.push_back({v.name, v.dtype, v.shape, v.dim_names});
  }
  return specs;
}

std::string spec_str(const ValueSpec& spec, bool sizes) {
  std::string text = std::string(dtype_name(spec.dtype)) + "[";
  for (std::size_t axis = 0; axis < spec.shape.size(); ++axis) {
    if (axis > 0) text += ", ";
    const std::string size = std::to_string(spec.shape[axis]);
    text += spec.symbolic(axis) ? spec.dim_names[axis] + (sizes ? "=" + size : "") : size;
  }
  return text + "]";
}

nlohmann::json spec_json(const ValueSpec& spec) {
  nlohmann::json dims = nlohmann::json::array();
  for (std::size_t axis = 0; axis < spec.shape.size(); ++axis)
    dims.push_back(spec.symbolic(axis) ? nlohmann::json(spec.dim_names[axis]) : nlohmann::json(nullptr));
  return {{"name", spec.name}, {"dtype", dtype_name(spec.dtype)}, {"shape", spec.shape}, {"dim_names", dims}};
}

std::vector<std::string> symbolic_dims(const std::vector<ValueSpec>& specs) {
  std::vector<std::string> names;
  for (const auto& spec : specs)
    for (const auto& name : spec.dim_names)
      if (!name.empty() && std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
  return names;
}

std::pair<std::string, std::string> split_pair(const std::string& text, const std::string& option,
                                               const std::string& form) {
  const auto eq = text.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == text.size())
    throw std::invalid_argument(option + " expects " + form + ", got '" + text + "'");
  return {text.substr(0, eq), text.substr(eq + 1)};
}

std::pair<std::string, std::string> input_name_and_file(const std::string& arg,
                                                        const std::vector<ValueSpec>& specs) {
  if (arg.find('=') == std::string::npos && specs.size() == 1) return {specs[0].name, arg};
  return split_pair(arg, "--input", "NAME=FILE.npy");
}

std::vector<Tensor> read_inputs(const std::vector<std::string>& args, const std::vector<ValueSpec>& specs) {
  std::map<std::string, Tensor> given;
  for (const auto& arg : args) {
    const auto [name, file] = input_name_and_file(arg, specs);
    const auto spec =
        std::find_if(specs.begin(), specs.end(), [&](const ValueSpec& s) { return s.name == name; });
    if (spec == specs.end())
      throw std::invalid_argument("--input " + arg + ": the model has no input '" + name +
                                  "'; its inputs are " + list_specs(specs));
    if (given.count(name))
      throw std::invalid_argument("--input " + arg + ": input '" + name + "' is given twice");
    std::error_code ec;
    if (!std::filesystem::is_regular_file(file, ec))
      throw std::invalid_argument("--input " + arg + ": '" + file + "' is not a regular file" +
                                  (std::filesystem::exists(file, ec) ? "" : " (it does not exist)"));
    Tensor tensor;
    try {
      tensor = read_npy(file);
    } catch (const std::exception& e) {
      throw std::invalid_argument("--input " + arg + ": " + e.what());
    }
    if (tensor.dtype() != spec->dtype || tensor.shape() != spec->shape)
      throw std::invalid_argument("--input " + arg + ": model input '" + name + "' expects " +
                                  spec_str(*spec, true) + ", " + file + " holds " + tensor.describe() +
                                  dims_hint(*spec, tensor));
    given[name] = std::move(tensor);
  }
  std::vector<Tensor> ordered;
  for (const auto& spec : specs) {
    auto it = given.find(spec.name);
    if (it == given.end())
      throw std::invalid_argument("missing input '" + spec.name + "' (" + spec_str(spec) +
                                  "): pass --input " + spec.name + "=FILE.npy");
    ordered.push_back(std::move(it->second));
  }
  return ordered;
}

}  // namespace conveyor::cli
