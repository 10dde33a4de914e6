#include "conveyor/tensor/npy.hpp"

#include <algorithm>
#include <cstring>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <vector>

#include "tensor/npy_header.hpp"

namespace conveyor {
namespace {

constexpr char kMagic[] = "\x93NUMPY";

std::string descr_of(DType dtype) {
  switch (dtype) {
    case DType::kFloat32: return "<f4";
    case DType::kFloat64: return "<f8";
    case DType::kInt64: return "<i8";
    case DType::kInt32: return "<i4";
    case DType::kInt8: return "|i1";
    case DType::kUInt8: return "|u1";
    case DType::kBool: return "|b1";
  }
  throw TensorError("npy: no descr for dtype");
}

DType dtype_of_descr(const std::string& descr, const std::string& origin) {
  for (DType d : {DType::kFloat32, DType::kFloat64, DType::kInt64, DType::kInt32, DType::kInt8,
                  DType::kUInt8, DType::kBool}) {
    const std::string want = descr_of(d);
    // Single-byte types may be written with '<', '>' , '|' or '='.
    if (descr == want || (dtype_size(d) == 1 && descr.size() == 3 && descr.substr(1) == want.substr(1)))
      return d;
  }
  throw TensorError(origin + ": unsupported .npy dtype '" + descr +
                    "' (supported: <f4 <f8 <i8 <i4 |i1 |u1 |b1, little-endian)");
}

// The magic, version and header of a .npy file: its dtype, shape and where the data starts. `size` may be a
// prefix of the file (the header's length is in its first 12 bytes).
struct NpyPrefix {
  DType dtype;
  Shape shape;
  std::size_t data_offset;
};

NpyPrefix parse_npy_prefix(const unsigned char* p, std::size_t size, const std::string& origin) {
  if (size < 10 || std::memcmp(p, kMagic, 6) != 0) throw TensorError(origin + ": not a .npy file (bad magic)");
  const int major = p[6];
  std::size_t header_len = 0, offset = 0;
  if (major == 1) {
    header_len = p[8] | (p[9] << 8);
    offset = 10;
  } else if (major == 2 || major == 3) {
    if (size < 12) throw TensorError(origin + ": truncated .npy header");
    header_len = p[8] | (p[9] << 8) | (p[10] << 16) | (static_cast<std::size_t>(p[11]) << 24);
    offset = 12;
  } else {
    throw TensorError(origin + ": unsupported .npy version " + std::to_string(major));
  }
  if (offset + header_len > size) throw TensorError(origin + ": truncated .npy header");
  tensor_detail::NpyHeader header = tensor_detail::parse_npy_header(
      std::string(reinterpret_cast<const char*>(p + offset), header_len), origin);
  const DType dtype = dtype_of_descr(header.descr, origin);
  if (header.fortran_order) throw TensorError(origin + ": Fortran-order .npy arrays are not supported");
  return {dtype, std::move(header.shape), offset + header_len};
}

}  // namespace

Tensor parse_npy(const void* bytes, std::size_t size, const std::string& origin) {
  const auto* p = static_cast<const unsigned char*>(bytes);
  const NpyPrefix prefix = parse_npy_prefix(p, size, origin);
  const DType dtype = prefix.dtype;
  const Shape& shape = prefix.shape;

  const std::size_t data_offset = prefix.data_offset;
  int64_t numel = 0;
  try {
    numel = shape_numel(shape);
  } catch (const std::invalid_argument& error) {
    throw TensorError(origin + ": .npy " + error.what());
  }
  const std::size_t need = static_cast<std::size_t>(numel) * dtype_size(dtype);
  if (numel > 0 && need / static_cast<std::size_t>(numel) != dtype_size(dtype))
    throw TensorError(origin + ": .npy shape too large");
  if (size - data_offset < need)
    throw TensorError(origin + ": .npy data truncated: shape " + shape_str(shape) + " needs " +
                      std::to_string(need) + " bytes, file has " + std::to_string(size - data_offset));
  Tensor t(dtype, shape);
  std::memcpy(t.raw(), p + data_offset, need);
  return t;
}

Tensor read_npy(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw TensorError(path + ": cannot open");
  std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return parse_npy(bytes.data(), bytes.size(), path);
}

NpyInfo read_npy_info(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw TensorError(path + ": cannot open");
  // The header's length is in the first 10 (v1) or 12 (v2, v3) bytes: read those, then the header.
  constexpr std::size_t kLengthBytes = 12, kMaxHeader = std::size_t{1} << 20;  // numpy writes ~100 bytes
  std::vector<unsigned char> bytes(kLengthBytes);
  in.read(reinterpret_cast<char*>(bytes.data()), kLengthBytes);
  bytes.resize(static_cast<std::size_t>(in.gcount()));
  if (bytes.size() == kLengthBytes && std::memcmp(bytes.data(), kMagic, 6) == 0) {
    const bool v1 = bytes[6] == 1;
    const std::size_t header_len = v1 ? bytes[8] | (bytes[9] << 8)
                                      : bytes[8] | (bytes[9] << 8) | (bytes[10] << 16) |
                                            (static_cast<std::size_t>(bytes[11]) << 24);
    const std::size_t want = (v1 ? 10 : 12) + std::min(header_len, kMaxHeader);
    if (want > kLengthBytes) {
      bytes.resize(want);
      in.read(reinterpret_cast<char*>(bytes.data()) + kLengthBytes, static_cast<std::streamsize>(want - kLengthBytes));
      bytes.resize(kLengthBytes + static_cast<std::size_t>(in.gcount()));
    }
  }
  NpyPrefix prefix = parse_npy_prefix(bytes.data(), bytes.size(), path);
  return {prefix.dtype, std::move(prefix.shape)};
}

void write_npy(const std::string& path, const Tensor& tensor) {
  std::string shape = "(";
  for (std::size_t i = 0; i < tensor.rank(); ++i) shape += std::to_string(tensor.dim(i)) + (tensor.rank() == 1 ? "," : (i + 1 < tensor.rank() ? ", " : ""));
  shape += ")";
  std::string header = "{'descr': '" + descr_of(tensor.dtype()) + "', 'fortran_order': False, 'shape': " + shape + ", }";
  const std::size_t unpadded = 10 + header.size() + 1;
  header.append((64 - unpadded % 64) % 64, ' ');
  header += '\n';
  std::ofstream out(path, std::ios::binary);
  if (!out) throw TensorError(path + ": cannot open for writing");
  out.write(kMagic, 6);
  const unsigned char version[2] = {1, 0};
  out.write(reinterpret_cast<const char*>(version), 2);
  const unsigned char len[2] = {static_cast<unsigned char>(header.size() & 0xff),
                                static_cast<unsigned char>(header.size() >> 8)};
  out.write(reinterpret_cast<const char*>(len), 2);
  out.write(header.data(), static_cast<std::streamsize>(header.size()));
  out.write(static_cast<const char*>(tensor.raw()), static_cast<std::streamsize>(tensor.nbytes()));
  if (!out) throw TensorError(path + ": write failed");
}

}  // namespace conveyor
