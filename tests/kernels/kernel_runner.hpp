#pragma once
// Runs a reference kernel on tensors: outputs are allocated from the signature's output types.
#include <vector>

#include "conveyor/kernels/reference_kernels.hpp"
#include "conveyor/tensor/tensor.hpp"

namespace conveyor::testing {

inline KernelSignature signature(const std::string& op, const std::vector<Tensor>& inputs,
                                 const std::vector<OperandType>& outputs, KernelAttributes attributes = {}) {
  KernelSignature s;
  s.op_type = op;
  for (const Tensor& t : inputs) s.inputs.push_back({t.dtype(), t.shape(), !t.empty()});
  s.outputs = outputs;
  s.attributes = std::move(attributes);
  s.where = "test " + op;
  return s;
}

inline std::vector<Tensor> run_kernel(const KernelSignature& s, const std::vector<Tensor>& inputs) {
  const RefKernel kernel = make_reference_kernel(s);
  std::vector<const void*> in;
  for (const Tensor& t : inputs) in.push_back(t.empty() ? nullptr : t.raw());
  std::vector<Tensor> results;
  std::vector<void*> out;
  for (const OperandType& o : s.outputs) {
    results.push_back(o.present ? Tensor(o.dtype, o.shape) : Tensor());
    out.push_back(o.present ? results.back().raw() : nullptr);
  }
  kernel(in.data(), out.data());
  return results;
}

template <typename T>
std::vector<T> values_of(const Tensor& t) {
  return {t.values<T>().begin(), t.values<T>().end()};
}

}  // namespace conveyor::testing
