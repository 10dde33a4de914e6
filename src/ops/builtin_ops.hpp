#pragma once
#include "conveyor/ops/registry.hpp"

// Each built-in operator adds itself to a registry; builtin_operators() calls them all once.
namespace conveyor::ops {

void add_image_decode(OperatorRegistry& registry);
void add_image_preprocess(OperatorRegistry& registry);
void add_text_wordpiece(OperatorRegistry& registry);
void add_post_softmax(OperatorRegistry& registry);
void add_post_topk(OperatorRegistry& registry);
void add_post_argmax(OperatorRegistry& registry);
void add_post_threshold(OperatorRegistry& registry);
void add_onnx_model(OperatorRegistry& registry);

}  // namespace conveyor::ops
