#pragma once
// OpenCV DNN as an independent oracle for CNNs (see ARCHITECTURE.md: use it for checking, never for serving).
#include <onnx/onnx_pb.h>

#include <cstring>
#include <opencv2/dnn.hpp>
#include <stdexcept>
#include <string>

namespace conveyor::testing {

// OpenCV 4.6 parses Clip only in its opset-6 form (min/max attributes; opencv/opencv#22424, fixed after
// 4.6), while exporters at opset >= 11 pass min/max as inputs. Rewrites those nodes for OpenCV only; the
// arithmetic is the same.
inline std::string opencv_compatible_bytes(onnx::ModelProto model) {
  onnx::GraphProto& graph = *model.mutable_graph();
  auto scalar = [&](const std::string& name) {
    for (const auto& t : graph.initializer())
      if (t.name() == name && t.raw_data().size() == sizeof(float)) {
        float v = 0;
        std::memcpy(&v, t.raw_data().data(), sizeof v);
        return v;
      }
    throw std::runtime_error("no float scalar initializer " + name);
  };
  for (auto& node : *graph.mutable_node()) {
    if (node.op_type() != "Clip" || node.input_size() != 3) continue;
    const float low = scalar(node.input(1)), high = scalar(node.input(2));
    node.mutable_input()->DeleteSubrange(1, 2);
    for (const auto& [name, value] : {std::pair{"min", low}, std::pair{"max", high}}) {
      auto* attribute = node.add_attribute();
      attribute->set_name(name);
      attribute->set_type(onnx::AttributeProto::FLOAT);
      attribute->set_f(value);
    }
  }
  return model.SerializeAsString();
}

// A net on OpenCV's own CPU backend, from serialized ONNX bytes (already OpenCV-compatible).
inline cv::dnn::Net load_in_opencv(const std::string& bytes) {
  cv::dnn::Net net = cv::dnn::readNetFromONNX(bytes.data(), bytes.size());
  net.setPreferableBackend(cv::dnn::DNN_BACKEND_OPENCV);
  net.setPreferableTarget(cv::dnn::DNN_TARGET_CPU);
  return net;
}

}  // namespace conveyor::testing
