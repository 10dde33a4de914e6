#pragma once
// Layers shared by the zoo's CNNs, written as torchvision's ONNX export writes them: bias-free Conv,
// separate BatchNormalization (eval mode), GlobalAveragePool + Flatten + Gemm classifier.
#include <cstdint>
#include <string>

#include "graph/zoo/graph_builder.hpp"

namespace conveyor::zoo::detail {

// "layer1.0.conv1" -> "/layer1/layer1.0/conv1": the exporter's node-name scope for a module path.
std::string scope_of(const std::string& module_path);

struct ConvSpec {
  int64_t in_channels = 0;
  int64_t out_channels = 0;
  int64_t kernel = 1;
  int64_t stride = 1;
  int64_t groups = 1;
};

// Conv with He-normal weights "<module_path>.weight" (std = sqrt(2 / fan_in)), padding kernel / 2.
std::string conv(GraphBuilder& builder, const std::string& x, const std::string& module_path,
                 const ConvSpec& spec);

// BatchNormalization with gamma ~ U(gamma_low, gamma_high) and plausible running statistics (var > 0).
std::string batch_norm(GraphBuilder& builder, const std::string& x, const std::string& module_path,
                       int64_t channels, float gamma_low = 0.8f, float gamma_high = 1.2f);

std::string relu(GraphBuilder& builder, const std::string& x, const std::string& module_path);

// GlobalAveragePool -> Flatten -> Gemm(transB=1) "<module_path>.weight/.bias", output named `output`.
std::string classifier_head(GraphBuilder& builder, const std::string& x, const std::string& module_path,
                            int64_t channels, int64_t classes, const std::string& output);

}  // namespace conveyor::zoo::detail
