#pragma once
#include <cstddef>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>

#include "conveyor/tensor/dtype.hpp"
#include "conveyor/tensor/shape.hpp"

namespace conveyor {

class TensorError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A dense, row-major tensor over a 64-byte aligned buffer. Copies share the buffer (a handle, like a
// shared_ptr): hand-offs between stages move or copy the handle, never the data. clone() copies data.
class Tensor {
 public:
  static constexpr std::size_t kAlignment = 64;

  Tensor() = default;
  Tensor(DType dtype, Shape shape);  // zero-filled

  template <typename T>
  static Tensor from(Shape shape, std::span<const T> values) {
    Tensor t(dtype_of<T>(), std::move(shape));
    if (static_cast<std::size_t>(t.numel()) != values.size())
      throw TensorError("Tensor::from: " + std::to_string(values.size()) + " values for shape " +
                        shape_str(t.shape()));
    std::copy(values.begin(), values.end(), t.data<T>());
    return t;
  }

  bool empty() const { return buffer_ == nullptr; }
  DType dtype() const { return dtype_; }
  const Shape& shape() const { return shape_; }
  int64_t numel() const { return numel_; }
  std::size_t nbytes() const { return static_cast<std::size_t>(numel_) * dtype_size(dtype_); }
  int64_t dim(std::size_t i) const { return shape_.at(i); }
  std::size_t rank() const { return shape_.size(); }

  void* raw() { return buffer_.get(); }
  const void* raw() const { return buffer_.get(); }

  template <typename T>
  T* data() {
    check_dtype(dtype_of<T>());
    return static_cast<T*>(raw());
  }
  template <typename T>
  const T* data() const {
    check_dtype(dtype_of<T>());
    return static_cast<const T*>(raw());
  }
  template <typename T>
  std::span<T> values() {
    return {data<T>(), static_cast<std::size_t>(numel_)};
  }
  template <typename T>
  std::span<const T> values() const {
    return {data<T>(), static_cast<std::size_t>(numel_)};
  }

  // Same buffer, new shape with the same number of elements.
  Tensor reshaped(Shape shape) const;
  Tensor clone() const;
  std::string describe() const;  // "float32[1, 3, 224, 224]"

 private:
  void check_dtype(DType expected) const;

  DType dtype_ = DType::kFloat32;
  Shape shape_;
  int64_t numel_ = 0;
  std::shared_ptr<std::byte[]> buffer_;
};

}  // namespace conveyor
