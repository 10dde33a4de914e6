#include "compiler.hpp"

#include <algorithm>
#include <climits>

#include "conveyor/engine/memory_plan.hpp"

namespace conveyor {

bool dnnl_type(DType dtype, dt& out) {
  switch (dtype) {
    case DType::kFloat32: out = dt::f32; return true;
    case DType::kInt32: out = dt::s32; return true;
    case DType::kInt8: out = dt::s8; return true;
    case DType::kUInt8: out = dt::u8; return true;
    default: return false;
  }
}

dnnl::memory::dims to_dims(const Shape& shape) {
  if (shape.empty()) return {1};
  return dnnl::memory::dims(shape.begin(), shape.end());
}

// Row-major layout. Types oneDNN has no name for (int64, bool, double) are described as raw bytes.
md_t plain_md(const Shape& shape, DType dtype) {
  dt type;
  if (!dnnl_type(dtype, type) || shape.size() > DNNL_MAX_NDIMS)
    return md_t({static_cast<int64_t>(shape_numel(shape) * static_cast<int64_t>(dtype_size(dtype)))}, dt::u8,
                dnnl::memory::format_tag::a);
  const auto dims = to_dims(shape);
  dnnl::memory::dims strides(dims.size(), 1);
  for (std::size_t i = dims.size(); i-- > 1;) strides[i - 1] = strides[i] * std::max<int64_t>(dims[i], 1);
  return md_t(dims, type, strides);
}

Compiler::Compiler(const Graph& graph, CompiledModel::Impl& impl)
    : original_(graph),
      fusion_(fuse_post_ops(graph)),
      graph_(fusion_.graph),
      impl_(impl),
      slots_(graph_.values.size()),
      last_use_(graph_.values.size(), -1),
      output_index_(graph_.values.size(), -1) {
  // A fused node reads what its chain's nodes read (they are compiled in its place when it is declined).
  for (std::size_t n = 0; n < graph_.nodes.size(); ++n) {
    for (int in : graph_.nodes[n].inputs)
      if (in >= 0) last_use_[static_cast<std::size_t>(in)] = static_cast<int>(n);
    for (int member : fusion_.nodes[n].members)
      for (int in : original_.nodes[static_cast<std::size_t>(member)].inputs)
        if (in >= 0) last_use_[static_cast<std::size_t>(in)] = static_cast<int>(n);
  }
  for (std::size_t i = graph_.outputs.size(); i-- > 0;) {
    last_use_[static_cast<std::size_t>(graph_.outputs[i])] = INT_MAX;
    output_index_[static_cast<std::size_t>(graph_.outputs[i])] = static_cast<int>(i);
  }
}

std::string Compiler::label_of(const Node& node) const { return node.where(); }

int Compiler::new_storage(Storage::Kind kind, std::size_t bytes, const std::string& name) {
  Storage s;
  s.kind = kind;
  s.bytes = bytes;
  s.name = name;
  impl_.storages.push_back(s);
  storage_last_use_.push_back(-1);
  return static_cast<int>(impl_.storages.size()) - 1;
}

int Compiler::constant_storage(const Tensor& t, const std::string& name) {
  impl_.owned.push_back(t);
  const int id = new_storage(Storage::Kind::kConstant, t.nbytes(), name);
  impl_.storages[static_cast<std::size_t>(id)].fixed = t.raw();
  impl_.stats.constant_bytes += t.nbytes();
  return id;
}

void Compiler::keep_alive(int storage, int value) {
  int& last = storage_last_use_[static_cast<std::size_t>(storage)];
  last = std::max(last, last_use_[static_cast<std::size_t>(value)]);
}

const Slot& Compiler::slot(int id) {
  auto& s = slots_[static_cast<std::size_t>(id)];
  if (!s) {
    const Value& v = value(id);
    if (!v.is_constant()) throw EngineError("value '" + v.name + "' is read before it is computed");
    s = Slot{constant_storage(v.constant, v.name), plain_md(v.shape, v.dtype), true};
  }
  return *s;
}

Slot Compiler::plain(int id) {
  const Slot& s = slot(id);
  if (s.plain) return s;
  if (auto it = plain_cache_.find(id); it != plain_cache_.end()) return it->second;
  const Value& v = value(id);
  const md_t md = plain_md(v.shape, v.dtype);
  const int storage = new_storage(Storage::Kind::kArena, md.get_size(), v.name + "(plain)");
  keep_alive(storage, id);
  add_reorder(s.storage, s.md, storage, md, "reorder '" + v.name + "' to plain");
  ++impl_.stats.reorders;
  Slot p{storage, md, true};
  plain_cache_[id] = p;
  return p;
}

Slot Compiler::in_layout(int id, const md_t& md) {
  const Slot& s = slot(id);
  if (s.md == md) return s;
  if (md == plain_md(value(id).shape, value(id).dtype)) return plain(id);
  const int storage = new_storage(Storage::Kind::kArena, md.get_size(), value(id).name + "(reordered)");
  storage_last_use_[static_cast<std::size_t>(storage)] = current_;
  add_reorder(s.storage, s.md, storage, md, "reorder '" + value(id).name + "'");
  ++impl_.stats.reorders;
  return Slot{storage, md, false};
}

Slot Compiler::define(int id, const md_t& md, int storage) {
  const Value& v = value(id);
  const bool plain = md == plain_md(v.shape, v.dtype);
  if (storage < 0) {
    const int out = output_index_[static_cast<std::size_t>(id)];
    if (plain && out >= 0 && impl_.output_storage[static_cast<std::size_t>(out)] < 0) {
      storage = new_storage(Storage::Kind::kOutput, md.get_size(), v.name);
      impl_.storages[static_cast<std::size_t>(storage)].index = out;
      impl_.output_storage[static_cast<std::size_t>(out)] = storage;
    } else {
      storage = new_storage(Storage::Kind::kArena, md.get_size(), v.name);
    }
  }
  keep_alive(storage, id);
  slots_[static_cast<std::size_t>(id)] = Slot{storage, md, plain};
  return *slots_[static_cast<std::size_t>(id)];
}

void Compiler::define_view(int id, int source) {
  const Slot src = plain(source);
  const Value& v = value(id);
  keep_alive(src.storage, id);
  slots_[static_cast<std::size_t>(id)] = Slot{src.storage, plain_md(v.shape, v.dtype), true};
}

bool Compiler::can_overwrite(int id) const {
  const auto& s = slots_[static_cast<std::size_t>(id)];
  if (!s) return false;
  const auto st = static_cast<std::size_t>(s->storage);
  return impl_.storages[st].kind == Storage::Kind::kArena && storage_last_use_[st] <= current_;
}

dnnl::memory Compiler::memory(DnnlStep& step, int arg, const md_t& md, int storage) {
  dnnl::memory mem(md, impl_.engine, DNNL_MEMORY_NONE);
  step.args[arg] = mem;
  step.bindings.emplace_back(arg, storage);
  step.storages.push_back(storage);
  return mem;
}

void Compiler::add_dnnl(std::unique_ptr<DnnlStep> step, const dnnl::primitive_desc_base& pd) {
  const std::size_t scratch = pd.scratchpad_desc().get_size();
  if (scratch > 0) {
    scratchpad_bytes_ = std::max(scratchpad_bytes_, scratch);
    memory(*step, DNNL_ARG_SCRATCHPAD, pd.scratchpad_desc(), scratchpad_storage_);
  }
  ++impl_.stats.dnnl_steps;
  impl_.steps.push_back(std::move(step));
}

dnnl::primitive_attr Compiler::make_attr(const dnnl::post_ops& ops) const {
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  attr.set_post_ops(ops);
  return attr;
}

void Compiler::add_reorder(int src_storage, const md_t& src_md, int dst_storage, const md_t& dst_md,
                           const std::string& label) {
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  dnnl::reorder::primitive_desc pd(impl_.engine, src_md, impl_.engine, dst_md, attr);
  auto step = std::make_unique<DnnlStep>();
  step->label = label;
  step->primitive = dnnl::reorder(pd);
  memory(*step, DNNL_ARG_FROM, src_md, src_storage);
  memory(*step, DNNL_ARG_TO, dst_md, dst_storage);
  add_dnnl(std::move(step), pd);
}

void Compiler::add_copy(int src_storage, int dst_storage, std::size_t bytes, const std::string& label) {
  auto step = std::make_unique<CopyStep>();
  step->label = label;
  step->src = src_storage;
  step->dst = dst_storage;
  step->bytes = bytes;
  step->storages = {src_storage, dst_storage};
  impl_.steps.push_back(std::move(step));
}

void Compiler::emit_reference(const Node& node) {
  if (!has_reference_kernel(node.op_type) || !node.post_ops.empty())
    throw EngineError(node.where() + ": no kernel for these inputs (dtype " +
                      std::string(dtype_name(value(node.inputs.at(0)).dtype)) + ")");
  auto step = std::make_unique<RefStep>();
  step->label = label_of(node) + " [reference]";
  try {
    step->kernel = make_node_kernel(graph_, node);
  } catch (const GraphError& e) {
    throw EngineError(e.what());
  }
  for (int in : node.inputs) {
    const int storage = in < 0 ? -1 : plain(in).storage;
    step->inputs.push_back(storage);
    if (storage >= 0) step->storages.push_back(storage);
  }
  for (int out : node.outputs) {
    const int storage = out < 0 ? -1 : define(out, plain_md(value(out).shape, value(out).dtype)).storage;
    step->outputs.push_back(storage);
    if (storage >= 0) step->storages.push_back(storage);
  }
  step->in_ptrs.resize(step->inputs.size());
  step->out_ptrs.resize(step->outputs.size());
  ++impl_.stats.reference_steps;
  impl_.steps.push_back(std::move(step));
}

bool Compiler::emit(const Node& n) {
  const std::string& op = n.op_type;
  // oneDNN handles f32 tensors of non-zero size; everything else goes to reference kernels.
  for (int id : n.inputs)
    if (id >= 0 && (shape_numel(value(id).shape) == 0 || value(id).shape.size() > DNNL_MAX_NDIMS)) return false;
  for (int id : n.outputs)
    if (id >= 0 && shape_numel(value(id).shape) == 0) return false;
  if (op == "Conv" || op == "ConvTranspose") return emit_conv(n);
  if (op == "MaxPool" || op == "AveragePool" || op == "GlobalAveragePool" || op == "GlobalMaxPool") return emit_pool(n);
  if (op == "BatchNormalization") return emit_batchnorm(n);
  if (op == "LayerNormalization") return emit_layernorm(n);
  if (op == "MatMul") return emit_matmul(n);
  if (op == "Gemm") return emit_gemm(n);
  if (op == "Softmax" || op == "LogSoftmax") return emit_softmax(n);
  if (op.rfind("Reduce", 0) == 0) return emit_reduce(n);
  if (op == "Concat") return emit_concat(n);
  if (op == "Transpose") return emit_transpose(n);
  if (op == "Slice" || op == "Split") return emit_slice(n);
  if (op == "Reshape" || op == "Flatten" || op == "Squeeze" || op == "Unsqueeze" || op == "Identity" ||
      op == "Dropout")
    return emit_view(n);
  if (op == "Add" || op == "Sub" || op == "Mul" || op == "Div" || op == "Max" || op == "Min" || op == "Pow")
    return emit_binary(n);
  return emit_eltwise(n);
}

Compiler::Checkpoint Compiler::checkpoint() const {
  return Checkpoint{impl_.storages.size(), impl_.steps.size(), impl_.owned.size(),
                    scratchpad_bytes_,     impl_.stats,        slots_,
                    plain_cache_,          storage_last_use_,  impl_.output_storage};
}

void Compiler::roll_back(Checkpoint&& to) {
  impl_.storages.resize(to.storages);
  impl_.steps.resize(to.steps);
  impl_.owned.resize(to.owned);
  scratchpad_bytes_ = to.scratchpad_bytes;
  impl_.stats = to.stats;
  slots_ = std::move(to.slots);
  plain_cache_ = std::move(to.plain_cache);
  storage_last_use_ = std::move(to.storage_last_use);
  impl_.output_storage = std::move(to.output_storage);
}

void Compiler::compile_node(const Node& node, int origin) {
  const std::size_t first_step = impl_.steps.size();
  try {
    if (!emit(node)) emit_reference(node);
  } catch (const dnnl::error& e) {
    throw EngineError(node.where() + ": oneDNN refused it: " + e.what());
  } catch (const EngineError&) {
    throw;
  } catch (const std::exception& e) {
    throw EngineError(node.where() + ": " + e.what());
  }
  for (std::size_t s = first_step; s < impl_.steps.size(); ++s) impl_.steps[s]->node = origin;
}

bool Compiler::compile_fused(const Node& node, int origin) {
  Checkpoint before = checkpoint();
  const std::size_t first_step = impl_.steps.size();
  bool emitted = false;
  try {
    emitted = emit(node);
  } catch (const dnnl::error&) {  // no implementation for these post-ops (or this primitive at all)
  } catch (const EngineError&) {  // a post-op the compiler cannot express
  }
  if (!emitted) {
    roll_back(std::move(before));
    return false;
  }
  for (std::size_t s = first_step; s < impl_.steps.size(); ++s) impl_.steps[s]->node = origin;
  ++impl_.stats.fused_chains;
  return true;
}

void Compiler::compile() {
  impl_.output_storage.assign(graph_.outputs.size(), -1);
  scratchpad_storage_ = new_storage(Storage::Kind::kScratchpad, 0, "scratchpad");
  for (std::size_t i = 0; i < graph_.inputs.size(); ++i) {
    const int id = graph_.inputs[i];
    const Value& v = value(id);
    impl_.inputs.push_back({v.name, v.dtype, v.shape});
    const md_t md = plain_md(v.shape, v.dtype);
    const int storage = new_storage(Storage::Kind::kInput, md.get_size(), v.name);
    impl_.storages[static_cast<std::size_t>(storage)].index = static_cast<int>(i);
    impl_.input_storage.push_back(storage);
    slots_[static_cast<std::size_t>(id)] = Slot{storage, md, true};
  }
  for (int id : graph_.outputs) impl_.outputs.push_back({value(id).name, value(id).dtype, value(id).shape});

  for (std::size_t n = 0; n < graph_.nodes.size(); ++n) {
    current_ = static_cast<int>(n);
    const FusedNode& fused = fusion_.nodes[n];
    if (fused.members.empty()) {
      compile_node(graph_.nodes[n], fused.origin);
    } else if (!compile_fused(graph_.nodes[n], fused.origin)) {
      for (int member : fused.members)
        compile_node(original_.nodes[static_cast<std::size_t>(member)], member);
      ++impl_.stats.declined_fusions;
    }
  }
  current_ = static_cast<int>(graph_.nodes.size());

  // Outputs not computed straight into their output storage (views, inputs, constants, blocked layouts).
  for (std::size_t i = 0; i < graph_.outputs.size(); ++i) {
    if (impl_.output_storage[i] >= 0) {
      const int id = graph_.outputs[i];
      if (slot(id).storage == impl_.output_storage[i]) continue;
    }
    const int id = graph_.outputs[i];
    const Value& v = value(id);
    const std::size_t first_step = impl_.steps.size();
    const md_t md = plain_md(v.shape, v.dtype);
    const int storage = new_storage(Storage::Kind::kOutput, md.get_size(), v.name);
    impl_.storages[static_cast<std::size_t>(storage)].index = static_cast<int>(i);
    impl_.output_storage[i] = storage;
    const Slot& s = slot(id);
    if (s.plain) add_copy(s.storage, storage, md.get_size(), "copy output '" + v.name + "'");
    else add_reorder(s.storage, s.md, storage, md, "reorder output '" + v.name + "'");
    // (to the chain's first node also when a declined chain's last node computed the value)
    const int origin = v.producer < 0 ? -1 : fusion_.nodes[static_cast<std::size_t>(v.producer)].origin;
    for (std::size_t k = first_step; k < impl_.steps.size(); ++k) impl_.steps[k]->node = origin;
  }
  impl_.graph_nodes = original_.nodes.size();

  // Memory plan over step indices.
  const std::size_t ns = impl_.storages.size();
  std::vector<int> first(ns, INT_MAX), last(ns, -1);
  for (std::size_t s = 0; s < impl_.steps.size(); ++s)
    for (int st : impl_.steps[s]->storages) {
      first[static_cast<std::size_t>(st)] = std::min(first[static_cast<std::size_t>(st)], static_cast<int>(s));
      last[static_cast<std::size_t>(st)] = std::max(last[static_cast<std::size_t>(st)], static_cast<int>(s));
    }
  std::vector<BufferLifetime> requests;
  std::vector<int> planned;
  for (std::size_t st = 0; st < ns; ++st) {
    if (impl_.storages[st].kind != Storage::Kind::kArena || last[st] < 0) continue;
    requests.push_back({impl_.storages[st].bytes, first[st], last[st]});
    planned.push_back(static_cast<int>(st));
    impl_.stats.unplanned_bytes += impl_.storages[st].bytes;
  }
  const MemoryPlan plan = plan_memory(requests);
  impl_.arena = Tensor(DType::kUInt8, {static_cast<int64_t>(std::max<std::size_t>(plan.total_bytes, 1))});
  impl_.scratchpad = Tensor(DType::kUInt8, {static_cast<int64_t>(std::max<std::size_t>(scratchpad_bytes_, 1))});
  impl_.stats.arena_bytes = plan.total_bytes;
  impl_.stats.scratchpad_bytes = scratchpad_bytes_;
  impl_.ptrs.assign(ns, nullptr);
  for (std::size_t k = 0; k < planned.size(); ++k)
    impl_.ptrs[static_cast<std::size_t>(planned[k])] = static_cast<std::byte*>(impl_.arena.raw()) + plan.offsets[k];
  for (std::size_t st = 0; st < ns; ++st) {
    if (impl_.storages[st].kind == Storage::Kind::kConstant) impl_.ptrs[st] = const_cast<void*>(impl_.storages[st].fixed);
    if (impl_.storages[st].kind == Storage::Kind::kScratchpad) impl_.ptrs[st] = impl_.scratchpad.raw();
  }
  for (auto& step : impl_.steps) {
    auto* d = dynamic_cast<DnnlStep*>(step.get());
    if (!d) continue;
    for (const auto& [arg, st] : d->bindings) {
      const Storage::Kind kind = impl_.storages[static_cast<std::size_t>(st)].kind;
      if (kind == Storage::Kind::kInput || kind == Storage::Kind::kOutput)
        impl_.external_memories.emplace_back(d->args[arg], st);
      else
        d->args[arg].set_data_handle(impl_.ptrs[static_cast<std::size_t>(st)]);
    }
  }
  impl_.stats.steps = impl_.steps.size();
}

void compile_graph(const Graph& graph, CompiledModel::Impl& impl) { Compiler(graph, impl).compile(); }

}  // namespace conveyor
