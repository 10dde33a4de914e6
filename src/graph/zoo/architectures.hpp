#pragma once
// One function per zoo architecture: fills `graph` (nodes, initializers, inputs, outputs) from the options.
// Options are validated by the caller except for architecture-specific limits, which throw
// std::invalid_argument here.
#include <onnx/onnx_pb.h>

#include "conveyor/graph/zoo.hpp"
#include "graph/zoo/graph_builder.hpp"

namespace conveyor::zoo::detail {

// The first dimension of the model's inputs and outputs: the batch, or symbolic with dynamic_batch.
inline int64_t io_batch(const ZooOptions& options) { return options.dynamic_batch ? kBatchDim : options.batch; }

void build_resnet(onnx::GraphProto& graph, const ZooOptions& options, int depth);  // depth 18 or 50
void build_mobilenet_v2(onnx::GraphProto& graph, const ZooOptions& options);
void build_bert(onnx::GraphProto& graph, const ZooOptions& options);
void build_bert_encoder(onnx::GraphProto& graph, const ZooOptions& options);  // no embeddings, no heads
void build_mlp(onnx::GraphProto& graph, const ZooOptions& options);
void build_tinycnn(onnx::GraphProto& graph, const ZooOptions& options);

}  // namespace conveyor::zoo::detail
