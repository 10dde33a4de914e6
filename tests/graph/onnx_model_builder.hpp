#pragma once
// Assembles small ONNX models in tests (no files from elsewhere needed).
#include <onnx/onnx_pb.h>

#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "conveyor/graph/onnx_import.hpp"
#include "conveyor/tensor/tensor.hpp"

namespace conveyor::testing {

class ModelBuilder {
 public:
  explicit ModelBuilder(int64_t opset = 17) {
    model_.set_ir_version(8);
    auto* os = model_.add_opset_import();
    os->set_domain("");
    os->set_version(opset);
    model_.mutable_graph()->set_name("test");
  }

  // dims < 0 become the symbolic dim "batch"
  ModelBuilder& input(const std::string& name, const std::vector<int64_t>& dims, DType dtype = DType::kFloat32) {
    auto* vi = model_.mutable_graph()->add_input();
    vi->set_name(name);
    auto* tt = vi->mutable_type()->mutable_tensor_type();
    tt->set_elem_type(static_cast<int32_t>(dtype));
    auto* shape = tt->mutable_shape();
    for (int64_t d : dims) {
      auto* dim = shape->add_dim();
      if (d < 0) dim->set_dim_param("batch");
      else dim->set_dim_value(d);
    }
    return *this;
  }

  ModelBuilder& output(const std::string& name) {
    model_.mutable_graph()->add_output()->set_name(name);
    return *this;
  }

  ModelBuilder& initializer(const std::string& name, const Tensor& t) {
    auto* init = model_.mutable_graph()->add_initializer();
    fill_tensor(*init, name, t);
    return *this;
  }

  onnx::NodeProto& node(const std::string& op, const std::vector<std::string>& inputs,
                        const std::vector<std::string>& outputs, const std::string& name = "") {
    auto* n = model_.mutable_graph()->add_node();
    n->set_op_type(op);
    n->set_name(name.empty() ? op + "_" + std::to_string(model_.graph().node_size()) : name);
    for (const auto& i : inputs) n->add_input(i);
    for (const auto& o : outputs) n->add_output(o);
    return *n;
  }

  static void attr(onnx::NodeProto& n, const std::string& name, int64_t v) {
    auto* a = n.add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::INT);
    a->set_i(v);
  }
  static void attr(onnx::NodeProto& n, const std::string& name, float v) {
    auto* a = n.add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::FLOAT);
    a->set_f(v);
  }
  static void attr(onnx::NodeProto& n, const std::string& name, const std::vector<int64_t>& v) {
    auto* a = n.add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::INTS);
    for (int64_t x : v) a->add_ints(x);
  }
  static void attr(onnx::NodeProto& n, const std::string& name, const std::string& v) {
    auto* a = n.add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::STRING);
    a->set_s(v);
  }

  static void fill_tensor(onnx::TensorProto& proto, const std::string& name, const Tensor& t) {
    proto.set_name(name);
    proto.set_data_type(static_cast<int32_t>(t.dtype()));
    for (int64_t d : t.shape()) proto.add_dims(d);
    proto.set_raw_data(std::string(static_cast<const char*>(t.raw()), t.nbytes()));
  }

  onnx::ModelProto& proto() { return model_; }
  std::string bytes() const { return model_.SerializeAsString(); }
  void save(const std::string& path) const {
    std::ofstream out(path, std::ios::binary);
    out << bytes();
  }

 private:
  onnx::ModelProto model_;
};

inline Tensor random_tensor(Shape shape, uint32_t seed, float scale = 1.0f) {
  Tensor t(DType::kFloat32, std::move(shape));
  uint32_t s = seed * 2654435761u + 12345u;
  for (float& v : t.values<float>()) {
    s = s * 1664525u + 1013904223u;
    v = scale * (static_cast<float>(s >> 8) / static_cast<float>(1u << 24) * 2.0f - 1.0f);
  }
  return t;
}

// The builder's model through the importer (with or without the optimisation passes).
inline Graph parse_model(const ModelBuilder& builder, bool optimize = true) {
  const std::string bytes = builder.bytes();
  ImportOptions options;
  options.optimize = optimize;
  return parse_onnx(bytes.data(), bytes.size(), options);
}

// x -> A(Relu) -> a; a -> B(Sigmoid) -> b; a -> C(Tanh) -> c; D = Add(b, c) -> y. Each activation is
// [1, 256] floats (1 KiB).
inline ModelBuilder diamond_model() {
  ModelBuilder b;
  b.input("x", {1, 256}).output("y");
  b.node("Relu", {"x"}, {"a"}, "A");
  b.node("Sigmoid", {"a"}, {"b"}, "B");
  b.node("Tanh", {"a"}, {"c"}, "C");
  b.node("Add", {"b", "c"}, {"y"}, "D");
  return b;
}

}  // namespace conveyor::testing
