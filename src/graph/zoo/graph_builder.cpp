#include "graph/zoo/graph_builder.hpp"

#include <bit>
#include <cstring>
#include <stdexcept>

namespace conveyor::zoo::detail {

static_assert(std::endian::native == std::endian::little, "ONNX raw_data is little-endian");

onnx::AttributeProto attr_int(const std::string& name, int64_t value) {
  onnx::AttributeProto attribute;
  attribute.set_name(name);
  attribute.set_type(onnx::AttributeProto::INT);
  attribute.set_i(value);
  return attribute;
}

onnx::AttributeProto attr_float(const std::string& name, float value) {
  onnx::AttributeProto attribute;
  attribute.set_name(name);
  attribute.set_type(onnx::AttributeProto::FLOAT);
  attribute.set_f(value);
  return attribute;
}

onnx::AttributeProto attr_ints(const std::string& name, const std::vector<int64_t>& values) {
  onnx::AttributeProto attribute;
  attribute.set_name(name);
  attribute.set_type(onnx::AttributeProto::INTS);
  for (int64_t value : values) attribute.add_ints(value);
  return attribute;
}

namespace {

int64_t element_count(const Dims& dims) {
  int64_t count = 1;
  for (int64_t dim : dims) count *= dim;
  return count;
}

template <typename T>
void set_raw(onnx::TensorProto& tensor, const std::vector<T>& values) {
  std::string bytes(values.size() * sizeof(T), '\0');
  if (!values.empty()) std::memcpy(bytes.data(), values.data(), bytes.size());
  tensor.set_raw_data(std::move(bytes));
}

void set_tensor_type(onnx::ValueInfoProto& value, onnx::TensorProto::DataType type, const Dims& dims) {
  onnx::TypeProto_Tensor* tensor_type = value.mutable_type()->mutable_tensor_type();
  tensor_type->set_elem_type(type);
  onnx::TensorShapeProto* shape = tensor_type->mutable_shape();
  for (int64_t dim : dims) {
    if (dim == kBatchDim)
      shape->add_dim()->set_dim_param("batch");
    else
      shape->add_dim()->set_dim_value(dim);
  }
}

}  // namespace

onnx::TensorProto& GraphBuilder::new_initializer(const std::string& name, const Dims& dims,
                                                 onnx::TensorProto::DataType type) {
  onnx::TensorProto& tensor = *graph_.add_initializer();
  tensor.set_name(name);
  tensor.set_data_type(type);
  for (int64_t dim : dims) tensor.add_dims(dim);
  return tensor;
}

std::string GraphBuilder::add_floats(const std::string& name, const Dims& dims,
                                     const std::vector<float>& values) {
  if (element_count(dims) != static_cast<int64_t>(values.size()))
    throw std::logic_error("zoo: initializer '" + name + "' has the wrong number of values");
  set_raw(new_initializer(name, dims, onnx::TensorProto::FLOAT), values);
  return name;
}

std::string GraphBuilder::add_int64s(const std::string& name, const Dims& dims,
                                     const std::vector<int64_t>& values) {
  if (element_count(dims) != static_cast<int64_t>(values.size()))
    throw std::logic_error("zoo: initializer '" + name + "' has the wrong number of values");
  set_raw(new_initializer(name, dims, onnx::TensorProto::INT64), values);
  return name;
}

std::string GraphBuilder::add_normal(const std::string& name, const Dims& dims, float stddev, float mean) {
  std::vector<float> values(static_cast<size_t>(element_count(dims)));
  for (float& value : values) value = rng_.normal(mean, stddev);
  return add_floats(name, dims, values);
}

std::string GraphBuilder::add_uniform(const std::string& name, const Dims& dims, float low, float high) {
  std::vector<float> values(static_cast<size_t>(element_count(dims)));
  for (float& value : values) value = rng_.uniform(low, high);
  return add_floats(name, dims, values);
}

std::string GraphBuilder::add_filled(const std::string& name, const Dims& dims, float value) {
  return add_floats(name, dims, std::vector<float>(static_cast<size_t>(element_count(dims)), value));
}

namespace {

template <typename T>
onnx::AttributeProto value_attribute(onnx::TensorProto::DataType type, const Dims& dims,
                                     const std::vector<T>& values) {
  if (element_count(dims) != static_cast<int64_t>(values.size()))
    throw std::logic_error("zoo: Constant has the wrong number of values");
  onnx::AttributeProto attribute;
  attribute.set_name("value");
  attribute.set_type(onnx::AttributeProto::TENSOR);
  onnx::TensorProto& tensor = *attribute.mutable_t();
  tensor.set_data_type(type);
  for (int64_t dim : dims) tensor.add_dims(dim);
  set_raw(tensor, values);
  return attribute;
}

}  // namespace

std::string GraphBuilder::add_constant(const Dims& dims, const std::vector<float>& values) {
  return add_node("Constant", {}, {value_attribute(onnx::TensorProto::FLOAT, dims, values)});
}

std::string GraphBuilder::add_constant_int64s(const Dims& dims, const std::vector<int64_t>& values) {
  return add_node("Constant", {}, {value_attribute(onnx::TensorProto::INT64, dims, values)});
}

void GraphBuilder::add_input(const std::string& name, onnx::TensorProto::DataType type, const Dims& dims) {
  onnx::ValueInfoProto& value = *graph_.add_input();
  value.set_name(name);
  set_tensor_type(value, type, dims);
}

void GraphBuilder::add_output(const std::string& name, onnx::TensorProto::DataType type, const Dims& dims) {
  onnx::ValueInfoProto& value = *graph_.add_output();
  value.set_name(name);
  set_tensor_type(value, type, dims);
}

std::string GraphBuilder::add_node(const std::string& op_type, const std::vector<std::string>& inputs,
                                   const std::vector<onnx::AttributeProto>& attributes,
                                   const std::string& output) {
  std::string node_name = scope_;
  node_name += '/';
  node_name += op_type;
  const int uses = node_name_uses_[node_name]++;
  if (uses > 0) {
    node_name += '_';
    node_name += std::to_string(uses);
  }

  onnx::NodeProto& node = *graph_.add_node();
  node.set_name(node_name);
  node.set_op_type(op_type);
  for (const std::string& input : inputs) node.add_input(input);
  for (const onnx::AttributeProto& attribute : attributes) *node.add_attribute() = attribute;
  const std::string output_name = output.empty() ? node_name + "_output_0" : output;
  node.add_output(output_name);
  return output_name;
}

}  // namespace conveyor::zoo::detail
