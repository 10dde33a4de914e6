#include "conveyor/kernels/kernel_attributes.hpp"

#include "conveyor/kernels/kernel_error.hpp"

namespace conveyor {
namespace {

const char* type_name(const AttributeValue& v) {
  switch (v.index()) {
    case 0:
      return "int";
    case 1:
      return "float";
    case 2:
      return "string";
    case 3:
      return "ints";
    case 4:
      return "floats";
    case 5:
      return "strings";
    default:
      return "tensor";
  }
}

template <typename T>
const T& typed(const std::map<std::string, AttributeValue>& values, const std::string& name,
               const char* wanted) {
  const AttributeValue& v = values.at(name);
  if (const T* p = std::get_if<T>(&v)) return *p;
  throw KernelError("attribute '" + name + "' is " + type_name(v) + ", expected " + wanted);
}

}  // namespace

int64_t KernelAttributes::get_int(const std::string& name, int64_t fallback) const {
  return has(name) ? typed<int64_t>(values_, name, "int") : fallback;
}

float KernelAttributes::get_float(const std::string& name, float fallback) const {
  if (!has(name)) return fallback;
  if (const auto* i = std::get_if<int64_t>(&values_.at(name))) return static_cast<float>(*i);
  return typed<float>(values_, name, "float");
}

std::string KernelAttributes::get_string(const std::string& name, const std::string& fallback) const {
  return has(name) ? typed<std::string>(values_, name, "string") : fallback;
}

std::vector<int64_t> KernelAttributes::get_ints(const std::string& name,
                                                const std::vector<int64_t>& fallback) const {
  return has(name) ? typed<std::vector<int64_t>>(values_, name, "ints") : fallback;
}

std::vector<float> KernelAttributes::get_floats(const std::string& name,
                                                const std::vector<float>& fallback) const {
  return has(name) ? typed<std::vector<float>>(values_, name, "floats") : fallback;
}

const Tensor* KernelAttributes::get_tensor(const std::string& name) const {
  return has(name) ? &typed<Tensor>(values_, name, "tensor") : nullptr;
}

}  // namespace conveyor
