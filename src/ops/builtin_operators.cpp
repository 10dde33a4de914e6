#include "ops/builtin_ops.hpp"

namespace conveyor {

const OperatorRegistry& builtin_operators() {
  static const OperatorRegistry registry = [] {
    OperatorRegistry r;
    ops::add_image_decode(r);
    ops::add_image_preprocess(r);
    ops::add_text_wordpiece(r);
    ops::add_post_softmax(r);
    ops::add_post_topk(r);
    ops::add_post_argmax(r);
    ops::add_post_threshold(r);
    ops::add_onnx_model(r);
    return r;
  }();
  return registry;
}

}  // namespace conveyor
