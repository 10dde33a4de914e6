#pragma once
// Small helper for writing ONNX graphs by hand: initializers filled from a seeded WeightRng, nodes named
// the way the PyTorch exporter names them ("/layer1/layer1.0/conv1/Conv", output "..._output_0").
#include <onnx/onnx_pb.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "graph/zoo/weight_rng.hpp"

namespace conveyor::zoo::detail {

using Dims = std::vector<int64_t>;

// An input's or output's dimension written as the symbolic "batch" (ZooOptions::dynamic_batch).
inline constexpr int64_t kBatchDim = -1;

onnx::AttributeProto attr_int(const std::string& name, int64_t value);
onnx::AttributeProto attr_float(const std::string& name, float value);
onnx::AttributeProto attr_ints(const std::string& name, const std::vector<int64_t>& values);

class GraphBuilder {
 public:
  GraphBuilder(onnx::GraphProto& graph, uint64_t seed) : graph_(graph), rng_(seed) {}

  WeightRng& rng() { return rng_; }

  // Initializers (stored as little-endian raw_data, as exporters do). Each returns `name`.
  std::string add_floats(const std::string& name, const Dims& dims, const std::vector<float>& values);
  std::string add_int64s(const std::string& name, const Dims& dims, const std::vector<int64_t>& values);
  std::string add_normal(const std::string& name, const Dims& dims, float stddev, float mean = 0.0f);
  std::string add_uniform(const std::string& name, const Dims& dims, float low, float high);
  std::string add_filled(const std::string& name, const Dims& dims, float value);
  std::string add_scalar(const std::string& name, float value) { return add_floats(name, {}, {value}); }

  // Constant nodes (what exporters emit for scalars and shape tensors); each returns the output's name.
  std::string add_constant(const Dims& dims, const std::vector<float>& values);
  std::string add_constant_int64s(const Dims& dims, const std::vector<int64_t>& values);

  void add_input(const std::string& name, onnx::TensorProto::DataType type, const Dims& dims);
  void add_output(const std::string& name, onnx::TensorProto::DataType type, const Dims& dims);

  // Adds a one-output node named "<scope>/<op_type>" (made unique) and returns its output's name, which
  // is `output` when given, else "<node name>_output_0".
  std::string add_node(const std::string& op_type, const std::vector<std::string>& inputs,
                       const std::vector<onnx::AttributeProto>& attributes = {},
                       const std::string& output = "");

  // Node-name prefix, e.g. "/layer1/layer1.0/conv1".
  void set_scope(const std::string& scope) { scope_ = scope; }

 private:
  onnx::TensorProto& new_initializer(const std::string& name, const Dims& dims,
                                     onnx::TensorProto::DataType type);

  onnx::GraphProto& graph_;
  WeightRng rng_;
  std::string scope_;
  std::map<std::string, int> node_name_uses_;
};

}  // namespace conveyor::zoo::detail
