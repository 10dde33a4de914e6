#pragma once
#include <cstddef>

#include "conveyor/graph/graph.hpp"

namespace conveyor {

// Types every node in topological order (infer_node) and folds each node whose inputs are all constant
// (and Shape/Size of any statically shaped value) into constants, so shape arithmetic disappears.
// Folded outputs above max_folded_bytes are left to run time. Errors name the node.
void type_and_fold(Graph& graph, std::size_t max_folded_bytes);

// Identity, inference-mode Dropout and shape-preserving no-ops (Reshape/Expand/Cast to the same shape or
// dtype) are bypassed; a Dropout mask that is read becomes a constant of ones.
void remove_identities(Graph& graph);

// Conv -> BatchNormalization with constant parameters becomes one Conv with rescaled weights and bias.
void fold_batchnorm_into_conv(Graph& graph);

// The exporter pattern x * 0.5 * (1 + erf(x / sqrt(2))) (any operand order) becomes one Gelu node.
void fuse_gelu(Graph& graph);

// x * Sigmoid(x) (SiLU) becomes one Swish node, and x * HardSigmoid(x) with alpha 1/6 and beta 0.5 (how
// PyTorch exports hardswish before opset 14) one HardSwish node: single-input activations the engine runs in
// one pass or as a convolution's post-op.
void fuse_swish(Graph& graph);

// The exporter pattern of LayerNorm over the last axis (ReduceMean, Sub, Pow 2, ReduceMean, Add eps, Sqrt,
// Div, then optionally Mul gamma and Add beta) becomes one LayerNormalization node.
void fuse_layernorm(Graph& graph);

// All of the above (after import): remove_identities, fold_batchnorm_into_conv, fuse_gelu, fuse_swish,
// fuse_layernorm,
// then dead-node removal. Post-op fusion (Conv + bias + residual Add + Relu as one oneDNN primitive) is not
// a graph pass: the engine fuses what its backend can run fused when it compiles.
void optimize_graph(Graph& graph);

}  // namespace conveyor
