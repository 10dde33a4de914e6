#include "cli/input_checks.hpp"

#include <algorithm>
#include <stdexcept>

#include "conveyor/api/input_check.hpp"
#include "conveyor/tensor/npy.hpp"

namespace conveyor::cli {
namespace {

std::string names_of(const std::vector<TensorSignature>& signatures) {
  std::string text;
  for (const auto& s : signatures) text += (text.empty() ? "'" : ", '") + s.name + "'";
  return text;
}

// What to change on the command line when the pipeline does not read `name`.
std::string hint_for(const InputSet& set, const std::string& name) {
  if (set.tensors) return "--input " + name + "=...";
  return "where --input-tensor puts each raw file's bytes; pass --input-tensor NAME, or .npy tensors as "
         "--input "
         "NAME=FILES";
}

}  // namespace

void check_inputs(const InputSet& set, const OperatorSignature& signature) {
  const auto& reads = signature.inputs;
  if (reads.empty()) return;
  for (const auto& name : set.names)
    if (std::none_of(reads.begin(), reads.end(), [&](const TensorSignature& s) { return s.name == name; }))
      throw std::runtime_error("the pipeline does not read a tensor '" + name + "' (" + hint_for(set, name) +
                               "); it reads " + names_of(reads));
  for (const auto& want : reads)
    if (std::find(set.names.begin(), set.names.end(), want.name) == set.names.end())
      throw std::runtime_error("the pipeline reads tensor '" + want.name +
                               "', which no --input gives; it reads " + names_of(reads) +
                               (set.tensors ? " (give each as --input NAME=FILES)" : ""));
  for (const auto& request : set.requests)
    for (const auto& [name, file] : request.files) {
      const auto want =
          std::find_if(reads.begin(), reads.end(), [&](const TensorSignature& s) { return s.name == name; });
      DType dtype = DType::kUInt8;
      Shape shape;
      if (set.tensors) {
        NpyInfo info = read_npy_info(file.string());
        dtype = info.dtype;
        shape = std::move(info.shape);
      } else {
        std::error_code ec;
        const auto size = std::filesystem::file_size(file, ec);
        shape = {ec ? -1 : static_cast<int64_t>(size)};
      }
      if (const std::string mismatch = input_mismatch(*want, dtype, shape); !mismatch.empty())
        throw std::runtime_error("input '" + file.string() + "' for tensor '" + name + "' " + mismatch);
    }
}

}  // namespace conveyor::cli
