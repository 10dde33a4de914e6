#pragma once
// Graph -> steps. One Compiler per compile(); emit_* methods live in compiler_*.cpp by operator family.
#include <optional>

#include "model_impl.hpp"
#include "post_op_fusion.hpp"

namespace conveyor {

using md_t = dnnl::memory::desc;
using dt = dnnl::memory::data_type;

// Where and how a value lives: a storage and the oneDNN layout of its bytes.
struct Slot {
  int storage = -1;
  md_t md;
  bool plain = true;
};

// Compiles the post-op-fused form of the graph (fuse_post_ops). A fused chain oneDNN declines to build as
// one primitive is compiled node by node instead. Steps count against the original graph's node indices.
class Compiler {
 public:
  Compiler(const Graph& graph, CompiledModel::Impl& impl);
  void compile();

 private:
  // Everything compiling one node changes, so that a declined fused chain can be undone.
  struct Checkpoint {
    std::size_t storages = 0, steps = 0, owned = 0, scratchpad_bytes = 0;
    EngineStats stats;
    std::vector<std::optional<Slot>> slots;
    std::unordered_map<int, Slot> plain_cache;
    std::vector<int> storage_last_use, output_storage;
  };
  Checkpoint checkpoint() const;
  void roll_back(Checkpoint&& to);
  // Compiles graph node `node`, charging its steps to original node `origin`; errors name the node.
  void compile_node(const Node& node, int origin);
  // The fused chain as one primitive; false (and nothing emitted) when oneDNN or the compiler declines it.
  bool compile_fused(const Node& node, int origin);

  // --- values and storages
  int new_storage(Storage::Kind kind, std::size_t bytes, const std::string& name);
  int constant_storage(const Tensor& t, const std::string& name);
  // A constant's bytes (described by src_md) converted once, at compile time, into want_md.
  int prepared_constant(const Tensor& t, const md_t& src_md, const md_t& want_md, const std::string& name);
  const Slot& slot(int value);                      // current materialization (constants on demand)
  Slot plain(int value);                            // plain row-major layout, reordering once if needed
  Slot in_layout(int value, const md_t& md);        // the value reordered into `md`
  Slot define(int value, const md_t& md, int storage = -1);  // a node output
  void define_view(int value, int source);          // output shares the source's plain storage
  bool can_overwrite(int value) const;              // its storage dies at the current node
  void keep_alive(int storage, int value);

  // --- steps
  dnnl::memory memory(DnnlStep& step, int arg, const md_t& md, int storage);
  void add_dnnl(std::unique_ptr<DnnlStep> step, const dnnl::primitive_desc_base& pd);
  void add_reorder(int src_storage, const md_t& src_md, int dst_storage, const md_t& dst_md, const std::string& label);
  void add_copy(int src_storage, int dst_storage, std::size_t bytes, const std::string& label);
  void emit_reference(const Node& node);

  // --- operator families; false: not handled by oneDNN here, fall back to a reference kernel
  bool emit(const Node& node);
  bool emit_conv(const Node& node);
  bool emit_pool(const Node& node);
  bool emit_batchnorm(const Node& node);
  bool emit_layernorm(const Node& node);
  bool emit_matmul(const Node& node);
  bool emit_gemm(const Node& node);
  bool emit_eltwise(const Node& node);
  bool emit_binary(const Node& node);
  bool emit_softmax(const Node& node);
  bool emit_reduce(const Node& node);
  bool emit_concat(const Node& node);
  bool emit_transpose(const Node& node);
  bool emit_slice(const Node& node);  // Slice and Split
  // y = the elements of x from `begin` every `step` (per axis), plain, by one reorder.
  void add_strided_copy(int x, int y, const std::vector<int64_t>& begin, const std::vector<int64_t>& step,
                        const std::string& label);
  bool emit_view(const Node& node);
  bool add_eltwise_step(const Node& node, int x, int y, dnnl::algorithm algorithm, float alpha, float beta);

  // Post-ops of `node` appended to `ops`; sets *sum_input to the residual value (or -1).
  void append_post_ops(const Node& node, dnnl::post_ops& ops, int* sum_input) const;
  // The dst storage for a node with a sum post-op: the residual's own storage when it dies here and has the
  // layout, else a fresh one the residual is copied into first.
  Slot define_with_residual(const Node& node, int residual, int out_value, const md_t& dst_md);
  dnnl::primitive_attr make_attr(const dnnl::post_ops& ops) const;

  const Value& value(int id) const { return graph_.value(id); }
  bool is_f32(int id) const { return id >= 0 && value(id).dtype == DType::kFloat32; }
  std::string label_of(const Node& node) const;

  const Graph& original_;
  const PostOpFusion fusion_;
  const Graph& graph_;  // fusion_.graph
  CompiledModel::Impl& impl_;
  std::vector<std::optional<Slot>> slots_;
  std::unordered_map<int, Slot> plain_cache_;
  std::vector<int> last_use_;          // per value: index of the last node reading it
  std::vector<int> storage_last_use_;  // per storage: latest last_use_ of the values living in it
  std::vector<int> output_index_;      // per value: graph output index or -1
  int current_ = 0;                    // node being compiled
  std::size_t scratchpad_bytes_ = 0;
  int scratchpad_storage_ = -1;
};

// Helpers shared by the compiler files.
md_t plain_md(const Shape& shape, DType dtype);
bool dnnl_type(DType dtype, dt& out);
dnnl::memory::dims to_dims(const Shape& shape);

}  // namespace conveyor
