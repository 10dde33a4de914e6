#include "conveyor/runtime/sample.hpp"

#include <stdexcept>

namespace conveyor {
namespace {

[[noreturn]] void missing(const Sample& sample, const std::string& name) {
  std::string held;
  for (const auto& [n, t] : sample.tensors) held += (held.empty() ? "" : ", ") + n + ":" + t.describe();
  throw std::out_of_range("sample has no tensor '" + name + "' (it holds: " + (held.empty() ? "nothing" : held) +
                          ")");
}

}  // namespace

const Tensor& Sample::at(const std::string& name) const {
  auto it = tensors.find(name);
  if (it == tensors.end()) missing(*this, name);
  return it->second;
}

Tensor& Sample::at(const std::string& name) {
  auto it = tensors.find(name);
  if (it == tensors.end()) missing(*this, name);
  return it->second;
}

}  // namespace conveyor
