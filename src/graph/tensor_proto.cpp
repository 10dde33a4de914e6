#include "tensor_proto.hpp"

#include <cstring>
#include <filesystem>
#include <fstream>

#include "conveyor/graph/graph.hpp"

namespace conveyor::detail {
namespace {

template <typename Src, typename Dst>
void copy_field(const google::protobuf::RepeatedField<Src>& field, Tensor& t, const std::string& what) {
  if (static_cast<int64_t>(field.size()) != t.numel())
    throw GraphError(what + ": has " + std::to_string(field.size()) + " values for shape " + shape_str(t.shape()));
  Dst* out = static_cast<Dst*>(t.raw());
  for (int i = 0; i < field.size(); ++i) out[i] = static_cast<Dst>(field.Get(i));
}

void read_external(const onnx::TensorProto& proto, const std::string& base_dir, Tensor& t, const std::string& what) {
  std::string location;
  uint64_t offset = 0;
  int64_t length = -1;
  for (const auto& entry : proto.external_data()) {
    try {
      if (entry.key() == "location") location = entry.value();
      else if (entry.key() == "offset") offset = std::stoull(entry.value());
      else if (entry.key() == "length") length = std::stoll(entry.value());
    } catch (const std::exception&) {
      throw GraphError(what + ": bad external_data entry " + entry.key() + "='" + entry.value() + "'");
    }
  }
  if (base_dir.empty()) throw GraphError(what + ": external data needs the model's folder (load from a file)");
  const std::filesystem::path rel(location);
  if (location.empty() || rel.is_absolute())
    throw GraphError(what + ": external data location '" + location + "' must be a relative path");
  for (const auto& part : rel)
    if (part == "..") throw GraphError(what + ": external data location '" + location + "' leaves the model folder");
  const std::filesystem::path file = std::filesystem::path(base_dir) / rel;
  std::ifstream in(file, std::ios::binary);
  if (!in) throw GraphError(what + ": cannot open external data file " + file.string());
  in.seekg(0, std::ios::end);
  const auto file_size = static_cast<uint64_t>(in.tellg());
  if (length >= 0 && static_cast<uint64_t>(length) != t.nbytes())
    throw GraphError(what + ": external length " + std::to_string(length) + " != " + std::to_string(t.nbytes()) +
                     " bytes for " + t.describe());
  if (offset > file_size || file_size - offset < t.nbytes())
    throw GraphError(what + ": external data file " + file.string() + " is too short for " + t.describe() +
                     " at offset " + std::to_string(offset));
  in.seekg(static_cast<std::streamoff>(offset));
  in.read(static_cast<char*>(t.raw()), static_cast<std::streamsize>(t.nbytes()));
  if (!in) throw GraphError(what + ": failed reading " + file.string());
}

}  // namespace

Tensor tensor_from_proto(const onnx::TensorProto& proto, const std::string& base_dir, std::size_t max_bytes,
                         const std::string& what) {
  DType dtype;
  if (!dtype_from_onnx(proto.data_type(), dtype))
    throw GraphError(what + ": unsupported data type " + onnx::TensorProto_DataType_Name(proto.data_type()) + " (" +
                     std::to_string(proto.data_type()) + ")");
  if (proto.has_segment()) throw GraphError(what + ": segmented tensors are not supported");
  Shape shape;
  for (int64_t d : proto.dims()) {
    if (d < 0) throw GraphError(what + ": negative dim " + std::to_string(d));
    shape.push_back(d);
  }
  int64_t numel = 0;
  try {
    numel = shape_numel(shape);
  } catch (const std::exception& e) {
    throw GraphError(what + ": " + e.what());
  }
  const std::size_t elem = dtype_size(dtype);
  if (static_cast<uint64_t>(numel) > max_bytes / elem)
    throw GraphError(what + ": " + shape_str(shape) + " exceeds the size limit of " + std::to_string(max_bytes) + " bytes");
  // Never allocate more than the file can provide: check the data size before allocating.
  const bool external = proto.data_location() == onnx::TensorProto_DataLocation_EXTERNAL;
  if (!external && proto.has_raw_data() && proto.raw_data().size() != static_cast<std::size_t>(numel) * elem)
    throw GraphError(what + ": raw_data has " + std::to_string(proto.raw_data().size()) + " bytes, expected " +
                     std::to_string(static_cast<std::size_t>(numel) * elem) + " for " + shape_str(shape));
  if (!external && !proto.has_raw_data()) {
    const int64_t count = proto.float_data_size() + proto.int32_data_size() + proto.int64_data_size() +
                          proto.double_data_size() + proto.uint64_data_size();
    if (count != numel)
      throw GraphError(what + ": has " + std::to_string(count) + " values for shape " + shape_str(shape));
  }
  Tensor t(dtype, shape);
  if (external) {
    read_external(proto, base_dir, t, what);
    return t;
  }
  if (proto.has_raw_data()) {
    if (t.nbytes() != 0) std::memcpy(t.raw(), proto.raw_data().data(), t.nbytes());
    if (dtype == DType::kBool) {  // any non-zero byte is true; a bool must hold exactly 0 or 1
      auto* bytes = static_cast<uint8_t*>(t.raw());
      for (int64_t i = 0; i < numel; ++i) bytes[i] = bytes[i] != 0 ? 1 : 0;
    }
    return t;
  }
  switch (dtype) {
    case DType::kFloat32: copy_field<float, float>(proto.float_data(), t, what); break;
    case DType::kFloat64: copy_field<double, double>(proto.double_data(), t, what); break;
    case DType::kInt64: copy_field<int64_t, int64_t>(proto.int64_data(), t, what); break;
    case DType::kInt32: copy_field<int32_t, int32_t>(proto.int32_data(), t, what); break;
    case DType::kInt8: copy_field<int32_t, int8_t>(proto.int32_data(), t, what); break;
    case DType::kUInt8: copy_field<int32_t, uint8_t>(proto.int32_data(), t, what); break;
    case DType::kBool: {
      const auto& field = proto.int32_data();
      if (field.size() != t.numel()) throw GraphError(what + ": value count does not match the shape");
      bool* out = t.data<bool>();
      for (int i = 0; i < field.size(); ++i) out[i] = field.Get(i) != 0;
      break;
    }
  }
  return t;
}

}  // namespace conveyor::detail
