#include "conveyor/tensor/tensor.hpp"

#include <cstring>
#include <new>

namespace conveyor {
namespace {

// Tensors above this size are refused: a corrupt header must not make us try to allocate terabytes.
constexpr std::size_t kMaxTensorBytes = std::size_t{1} << 36;  // 64 GiB

std::shared_ptr<std::byte[]> allocate(std::size_t bytes) {
  const std::size_t rounded = (bytes + Tensor::kAlignment - 1) / Tensor::kAlignment * Tensor::kAlignment;
  auto* p = static_cast<std::byte*>(::operator new[](rounded ? rounded : Tensor::kAlignment,
                                                      std::align_val_t{Tensor::kAlignment}));
  std::memset(p, 0, rounded);
  return {p, [](std::byte* q) { ::operator delete[](q, std::align_val_t{Tensor::kAlignment}); }};
}

}  // namespace

Tensor::Tensor(DType dtype, Shape shape) : dtype_(dtype), shape_(std::move(shape)) {
  numel_ = shape_numel(shape_);
  const std::size_t elem = dtype_size(dtype_);
  if (static_cast<std::size_t>(numel_) > kMaxTensorBytes / elem)
    throw TensorError("tensor " + describe() + " is larger than the 64 GiB limit");
  buffer_ = allocate(nbytes());
}

Tensor Tensor::reshaped(Shape shape) const {
  if (shape_numel(shape) != numel_)
    throw TensorError("cannot reshape " + describe() + " to " + shape_str(shape));
  Tensor t = *this;
  t.shape_ = std::move(shape);
  return t;
}

Tensor Tensor::clone() const {
  if (empty()) return {};
  Tensor t(dtype_, shape_);
  std::memcpy(t.raw(), raw(), nbytes());
  return t;
}

std::string Tensor::describe() const {
  return std::string(dtype_name(dtype_)) + shape_str(shape_);
}

void Tensor::check_dtype(DType expected) const {
  if (expected != dtype_)
    throw TensorError("tensor is " + describe() + ", accessed as " + std::string(dtype_name(expected)));
}

}  // namespace conveyor
