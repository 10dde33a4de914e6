#pragma once
#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "conveyor/kernels/kernel_attributes.hpp"
#include "conveyor/tensor/tensor.hpp"

namespace conveyor {

// Every failure of the graph layer (bad file, unsupported operator, impossible shapes) is a GraphError whose
// message says what failed, where (file, node name and op) and why.
class GraphError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

using AttrValue = AttributeValue;

// A node's attributes by name. Getters with a fallback return it when the attribute is absent and throw
// GraphError when it is present with another type.
class Attributes {
 public:
  bool has(const std::string& name) const { return values_.has(name); }
  int64_t get_int(const std::string& name, int64_t fallback) const;
  float get_float(const std::string& name, float fallback) const;
  std::string get_string(const std::string& name, const std::string& fallback) const;
  std::vector<int64_t> get_ints(const std::string& name, const std::vector<int64_t>& fallback = {}) const;
  std::vector<float> get_floats(const std::string& name, const std::vector<float>& fallback = {}) const;
  const Tensor* get_tensor(const std::string& name) const;  // nullptr when absent

  void set(const std::string& name, AttrValue value) { values_.set(name, std::move(value)); }
  void erase(const std::string& name) { values_.erase(name); }
  const std::map<std::string, AttrValue>& all() const { return values_.all(); }
  // The same attributes as the kernels layer takes them (see make_node_kernel).
  const KernelAttributes& for_kernels() const { return values_; }

 private:
  KernelAttributes values_;
};

// An operation fused into the node that precedes it (the engine fuses them when it compiles; graph passes
// leave post_ops empty), applied in order to the node's result: kSum adds node.inputs[input_index] (same
// shape as the result, a residual); kEltwise applies the unary op `op_type` (Relu, Clip, LeakyRelu,
// Sigmoid, Tanh, Gelu, HardSwish, Elu, ...) with its parameters alpha/beta (Clip: min/max; LeakyRelu/Elu:
// alpha; Gelu: alpha=1 for the tanh form).
struct PostOp {
  enum class Kind { kSum, kEltwise };
  Kind kind = Kind::kEltwise;
  std::string op_type;
  float alpha = 0.0f;
  float beta = 0.0f;
  int input_index = -1;
};

struct Value {
  std::string name;
  DType dtype = DType::kFloat32;
  Shape shape;
  bool typed = false;   // dtype and shape are known (true for every value after import)
  Tensor constant;      // initializers and folded values; empty for runtime values
  int producer = -1;    // index of the producing node, -1 for graph inputs and constants
  // A graph input's dimensions as the model declares them: the symbolic name (dim_param, "batch") of each
  // dimension the import fixed from ImportOptions::dims or default_dim, "" for a fixed one. Empty for every
  // other value (and for inputs whose shape ImportOptions::input_shapes gave).
  std::vector<std::string> dim_names{};

  bool is_constant() const { return !constant.empty(); }
};

struct Node {
  std::string name;
  std::string op_type;
  std::vector<int> inputs;   // value ids; -1 marks an optional input left out
  std::vector<int> outputs;  // value ids; -1 marks an optional output nobody uses
  Attributes attrs;
  std::vector<PostOp> post_ops;

  int input(std::size_t i) const { return i < inputs.size() ? inputs[i] : -1; }
  int output(std::size_t i) const { return i < outputs.size() ? outputs[i] : -1; }
  std::string where() const { return "node '" + name + "' (" + op_type + ")"; }
};

// A static-shape dataflow graph. Nodes are kept in topological order; values are addressed by index.
// Removing nodes leaves their values in `values` (unreferenced); ids stay valid.
class Graph {
 public:
  std::string name;
  int64_t opset = 0;             // of the default ONNX domain
  std::vector<Value> values;
  std::vector<Node> nodes;
  std::vector<int> inputs;       // runtime inputs, in the model's order
  std::vector<int> outputs;

  int add_value(Value value);
  int find_value(const std::string& value_name) const;  // -1 when absent
  Value& value(int id) { return values.at(static_cast<std::size_t>(id)); }
  const Value& value(int id) const { return values.at(static_cast<std::size_t>(id)); }

  // Orders nodes so that every value is produced before it is read; throws GraphError naming a node on a
  // cycle or on a value read but produced by nobody. Recomputes Value::producer.
  void sort_topologically();
  // Drops nodes whose outputs reach no graph output (and constants' producers), then re-sorts.
  void remove_dead_nodes();
  // For each value id, the indices of nodes reading it (a node reading a value twice appears twice).
  std::vector<std::vector<int>> consumers() const;
  bool is_output(int value_id) const;
  // Count of nodes per op type, e.g. "Conv x53, Relu x49"
  std::string summary() const;
};

}  // namespace conveyor
