#include "conveyor/graph/onnx_import.hpp"

#include <onnx/onnx_pb.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <limits>
#include <set>
#include <unordered_map>

#include "conveyor/graph/passes.hpp"
#include "conveyor/graph/shape_inference.hpp"
#include "tensor_proto.hpp"

namespace conveyor {
namespace {

constexpr int64_t kMinOpset = 1;  // tested: 11..17; older models load where the operators agree
constexpr int64_t kMaxOpset = 17;
constexpr int kMaxNodes = 1 << 20;

std::string join_names(const std::set<std::string>& names) {
  std::string text;
  for (const auto& name : names) text += (text.empty() ? "'" : ", '") + name + "'";
  return text;
}

std::string read_file(const std::string& path, std::size_t max_bytes) {
  std::error_code ec;
  if (std::filesystem::exists(path, ec) && !std::filesystem::is_regular_file(path, ec))
    throw GraphError("'" + path + "' is not a regular file (a directory or a device?)");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw GraphError("cannot open ONNX model '" + path + "'");
  in.seekg(0, std::ios::end);
  const auto size = static_cast<std::size_t>(in.tellg());
  if (size > max_bytes) throw GraphError("'" + path + "' is " + std::to_string(size) + " bytes, above the limit");
  std::string bytes(size, '\0');
  in.seekg(0);
  in.read(bytes.data(), static_cast<std::streamsize>(size));
  if (!in) throw GraphError("failed reading '" + path + "'");
  return bytes;
}

AttrValue convert_attribute(const onnx::AttributeProto& a, const std::string& where, std::size_t max_bytes) {
  using A = onnx::AttributeProto;
  if (!a.ref_attr_name().empty()) throw GraphError(where + ": attribute references (functions) are not supported");
  switch (a.type()) {
    case A::INT: return a.i();
    case A::FLOAT: return a.f();
    case A::STRING: return a.s();
    case A::INTS: return std::vector<int64_t>(a.ints().begin(), a.ints().end());
    case A::FLOATS: return std::vector<float>(a.floats().begin(), a.floats().end());
    case A::STRINGS: return std::vector<std::string>(a.strings().begin(), a.strings().end());
    case A::TENSOR: return detail::tensor_from_proto(a.t(), "", max_bytes, where + " attribute '" + a.name() + "'");
    default:
      throw GraphError(where + ": attribute '" + a.name() + "' has unsupported type " +
                       A::AttributeType_Name(a.type()) + " (subgraphs and sparse tensors are not supported)");
  }
}

// A Constant node's value as a tensor.
Tensor constant_node_value(const Attributes& attrs, const std::string& where) {
  if (const Tensor* t = attrs.get_tensor("value")) return *t;
  if (attrs.has("value_float")) {
    const float v = attrs.get_float("value_float", 0);
    return Tensor::from<float>({}, std::span<const float>(&v, 1));
  }
  if (attrs.has("value_int")) {
    const int64_t v = attrs.get_int("value_int", 0);
    return Tensor::from<int64_t>({}, std::span<const int64_t>(&v, 1));
  }
  if (attrs.has("value_floats")) {
    const auto v = attrs.get_floats("value_floats");
    return Tensor::from<float>({static_cast<int64_t>(v.size())}, v);
  }
  if (attrs.has("value_ints")) {
    const auto v = attrs.get_ints("value_ints");
    return Tensor::from<int64_t>({static_cast<int64_t>(v.size())}, v);
  }
  throw GraphError(where + ": needs a value, value_float(s) or value_int(s) attribute (strings are not supported)");
}

class Importer {
 public:
  Importer(const ImportOptions& options, std::string base_dir, std::string origin)
      : options_(options), base_dir_(std::move(base_dir)), origin_(std::move(origin)) {}

  Graph run(const onnx::ModelProto& model) {
    read_opset(model);
    if (!model.has_graph()) throw GraphError(origin_ + ": the model has no graph");
    const onnx::GraphProto& gp = model.graph();
    graph_.name = gp.name();
    if (gp.sparse_initializer_size() > 0) throw GraphError(origin_ + ": sparse initializers are not supported");
    if (gp.node_size() > kMaxNodes) throw GraphError(origin_ + ": too many nodes");
    for (const auto& init : gp.initializer()) add_initializer(init);
    for (const auto& in : gp.input()) add_input(in);
    for (const auto& [name, size] : options_.dims)
      if (!dim_params_.count(name))
        throw GraphError(origin_ + ": no graph input has a symbolic dimension '" + name + "'" +
                         (dim_params_.empty() ? " (every input dimension is fixed)"
                                              : "; the symbolic dimensions are " + join_names(dim_params_)));
    for (const auto& [name, tensor] : options_.frozen_inputs)
      if (!frozen_used_.count(name)) throw GraphError(origin_ + ": frozen input '" + name + "' is no graph input");
    // Outputs first, inputs second: a graph listed out of order (or with a cycle) reaches the sort.
    for (int i = 0; i < gp.node_size(); ++i) add_node(gp.node(i), i);
    for (int i = 0, k = 0; i < gp.node_size(); ++i)
      if (gp.node(i).op_type() != "Constant") resolve_inputs(gp.node(i), graph_.nodes[static_cast<std::size_t>(k++)]);
    for (const auto& out : gp.output()) {
      const auto it = ids_.find(out.name());
      if (it == ids_.end())
        throw GraphError(origin_ + ": graph output '" + out.name() + "' is produced by no node, input or initializer");
      graph_.outputs.push_back(it->second);
    }
    if (graph_.outputs.empty()) throw GraphError(origin_ + ": the graph has no outputs");
    try {
      graph_.sort_topologically();
      type_and_fold(graph_, options_.max_folded_bytes);
      graph_.remove_dead_nodes();
      if (options_.optimize) optimize_graph(graph_);
    } catch (const GraphError& e) {
      throw GraphError(origin_ + ": " + e.what());
    }
    check_sizes();
    return std::move(graph_);
  }

 private:
  void read_opset(const onnx::ModelProto& model) {
    for (const auto& os : model.opset_import())
      if (os.domain().empty() || os.domain() == "ai.onnx") graph_.opset = os.version();
    if (graph_.opset == 0) throw GraphError(origin_ + ": no opset_import for the default ONNX domain");
    if (graph_.opset < kMinOpset || graph_.opset > kMaxOpset)
      throw GraphError(origin_ + ": opset " + std::to_string(graph_.opset) + " is not supported (supported: " +
                       std::to_string(kMinOpset) + ".." + std::to_string(kMaxOpset) + ")");
  }

  int define(const std::string& name, const std::string& where) {
    if (name.empty()) throw GraphError(origin_ + ": " + where + " has an empty name");
    if (ids_.count(name)) throw GraphError(origin_ + ": value '" + name + "' is defined twice (" + where + ")");
    Value v;
    v.name = name;
    const int id = graph_.add_value(std::move(v));
    ids_[name] = id;
    return id;
  }

  void add_initializer(const onnx::TensorProto& init) {
    const std::string what = "initializer '" + init.name() + "'";
    const int id = define(init.name(), what);
    Value& v = graph_.value(id);
    v.constant = detail::tensor_from_proto(init, base_dir_, options_.max_model_bytes, origin_ + ": " + what);
    v.dtype = v.constant.dtype();
    v.shape = v.constant.shape();
    v.typed = true;
  }

  void add_input(const onnx::ValueInfoProto& in) {
    if (ids_.count(in.name())) {  // old exporters list initializers as inputs too
      if (graph_.value(ids_[in.name()]).is_constant()) return;
    }
    const std::string what = "graph input '" + in.name() + "'";
    const int id = define(in.name(), what);
    Value& v = graph_.value(id);
    if (const auto frozen = options_.frozen_inputs.find(in.name()); frozen != options_.frozen_inputs.end()) {
      frozen_used_[in.name()] = true;
      v.constant = frozen->second;
      v.dtype = v.constant.dtype();
      v.shape = v.constant.shape();
      v.typed = true;
      return;
    }
    if (!in.type().has_tensor_type()) throw GraphError(origin_ + ": " + what + " is not a tensor");
    const auto& tt = in.type().tensor_type();
    if (!dtype_from_onnx(tt.elem_type(), v.dtype))
      throw GraphError(origin_ + ": " + what + " has unsupported element type " +
                       onnx::TensorProto_DataType_Name(tt.elem_type()));
    if (const auto forced = options_.input_shapes.find(in.name()); forced != options_.input_shapes.end()) {
      if (tt.has_shape() && tt.shape().dim_size() != static_cast<int>(forced->second.size()))
        throw GraphError(origin_ + ": " + what + " has rank " + std::to_string(tt.shape().dim_size()) +
                         ", the given shape " + shape_str(forced->second) + " does not");
      v.shape = forced->second;
    } else {
      if (!tt.has_shape()) throw GraphError(origin_ + ": " + what + " has no shape; give one in ImportOptions::input_shapes");
      for (const auto& d : tt.shape().dim()) {
        int64_t size = options_.default_dim;
        if (d.has_dim_value() && d.dim_value() < -1)  // -1: "unknown", as some converters write it
          throw GraphError(origin_ + ": " + what + " has a negative dimension " +
                           std::to_string(d.dim_value()));
        const bool fixed = d.has_dim_value() && d.dim_value() >= 0;
        v.dim_names.push_back(fixed ? "" : d.dim_param());
        if (fixed)
          size = d.dim_value();
        else if (d.has_dim_param()) {
          dim_params_.insert(d.dim_param());
          if (const auto it = options_.dims.find(d.dim_param()); it != options_.dims.end()) size = it->second;
        }
        v.shape.push_back(size);
      }
    }
    for (int64_t d : v.shape)
      if (d < 0) throw GraphError(origin_ + ": " + what + " has a negative dim in " + shape_str(v.shape));
    try {
      if (static_cast<uint64_t>(shape_numel(v.shape)) * dtype_size(v.dtype) > options_.max_model_bytes)
        throw GraphError("too large");
    } catch (const std::exception&) {
      throw GraphError(origin_ + ": " + what + " " + shape_str(v.shape) + " is absurdly large");
    }
    v.typed = true;
    graph_.inputs.push_back(id);
  }

  void add_node(const onnx::NodeProto& np, int index) {
    Node node;
    node.op_type = np.op_type();
    node.name = np.name().empty() ? np.op_type() + "_" + std::to_string(index) : np.name();
    const std::string where = origin_ + ": " + node.where();
    if (!np.domain().empty() && np.domain() != "ai.onnx")
      throw GraphError(where + ": operators of domain '" + np.domain() + "' are not supported");
    for (const auto& a : np.attribute()) node.attrs.set(a.name(), convert_attribute(a, where, options_.max_model_bytes));
    if (node.op_type == "Constant") {
      if (np.output_size() != 1) throw GraphError(where + ": must have one output");
      const int id = define(np.output(0), where + " output");
      Value& v = graph_.value(id);
      try {
        v.constant = constant_node_value(node.attrs, where);
      } catch (const GraphError& e) {
        throw GraphError(std::string(e.what()));
      }
      v.dtype = v.constant.dtype();
      v.shape = v.constant.shape();
      v.typed = true;
      return;
    }
    if (!is_known_op(node.op_type)) throw GraphError(where + ": unsupported operator " + node.op_type);
    for (const auto& name : np.output()) node.outputs.push_back(name.empty() ? -1 : define(name, where + " output"));
    graph_.nodes.push_back(std::move(node));
  }

  void resolve_inputs(const onnx::NodeProto& np, Node& node) {
    const std::string where = origin_ + ": " + node.where();
    for (const auto& name : np.input()) {
      if (name.empty()) {
        node.inputs.push_back(-1);
        continue;
      }
      const auto it = ids_.find(name);
      if (it == ids_.end())
        throw GraphError(where + " reads '" + name +
                         "', which is no graph input, initializer or node output (missing initializer?)");
      node.inputs.push_back(it->second);
    }
  }

  // Refuses shapes whose buffers could not be allocated sensibly (a fuzzed or corrupt model).
  void check_sizes() const {
    for (const Node& node : graph_.nodes)
      for (int out : node.outputs) {
        if (out < 0) continue;
        const Value& v = graph_.value(out);
        if (static_cast<uint64_t>(shape_numel(v.shape)) > options_.max_model_bytes / dtype_size(v.dtype))
          throw GraphError(origin_ + ": " + node.where() + " output '" + v.name + "' " + shape_str(v.shape) +
                           " exceeds the size limit");
      }
  }

  const ImportOptions& options_;
  std::string base_dir_;
  std::string origin_;
  Graph graph_;
  std::unordered_map<std::string, int> ids_;
  std::unordered_map<std::string, bool> frozen_used_;
  std::set<std::string> dim_params_;  // the inputs' symbolic dimension names
};

}  // namespace

Graph parse_onnx(const void* bytes, std::size_t size, const ImportOptions& options, const std::string& base_dir,
                 const std::string& origin) {
  if (size > static_cast<std::size_t>(std::numeric_limits<int>::max()))
    throw GraphError(origin + ": larger than 2 GiB; store weights as external data");
  onnx::ModelProto model;
  if (!model.ParseFromArray(bytes, static_cast<int>(size)))
    throw GraphError(origin + ": not a valid ONNX ModelProto (truncated or corrupt protobuf)");
  return Importer(options, base_dir, origin).run(model);
}

Graph load_onnx(const std::string& path, const ImportOptions& options) {
  const std::string bytes = read_file(path, options.max_model_bytes);
  const std::string dir = std::filesystem::path(path).parent_path().string();
  return parse_onnx(bytes.data(), bytes.size(), options, dir.empty() ? "." : dir, path);
}

Tensor read_tensor_proto(const std::string& path) {
  const std::string bytes = read_file(path, std::size_t{4} << 30);
  onnx::TensorProto proto;
  if (bytes.size() > static_cast<std::size_t>(std::numeric_limits<int>::max()) ||
      !proto.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())))
    throw GraphError("'" + path + "' is not a valid onnx.TensorProto");
  const std::string dir = std::filesystem::path(path).parent_path().string();
  return detail::tensor_from_proto(proto, dir.empty() ? "." : dir, std::size_t{4} << 30, "'" + path + "'");
}

}  // namespace conveyor
