#include "graph/zoo/cnn_layers.hpp"

#include <cmath>

namespace conveyor::zoo::detail {

std::string scope_of(const std::string& module_path) {
  std::string scope;
  size_t dot = 0;
  while (true) {
    const size_t next = module_path.find('.', dot);
    scope += '/';
    scope.append(module_path, 0, next);
    if (next == std::string::npos) break;
    dot = next + 1;
  }
  return scope;
}

std::string conv(GraphBuilder& builder, const std::string& x, const std::string& module_path,
                 const ConvSpec& spec) {
  const int64_t fan_in = spec.in_channels / spec.groups * spec.kernel * spec.kernel;
  const float he_std = static_cast<float>(std::sqrt(2.0 / static_cast<double>(fan_in)));
  const std::string weight = builder.add_normal(
      module_path + ".weight", {spec.out_channels, spec.in_channels / spec.groups, spec.kernel, spec.kernel},
      he_std);
  const int64_t pad = spec.kernel / 2;
  builder.set_scope(scope_of(module_path));
  return builder.add_node(
      "Conv", {x, weight},
      {attr_ints("dilations", {1, 1}), attr_int("group", spec.groups),
       attr_ints("kernel_shape", {spec.kernel, spec.kernel}), attr_ints("pads", {pad, pad, pad, pad}),
       attr_ints("strides", {spec.stride, spec.stride})});
}

std::string batch_norm(GraphBuilder& builder, const std::string& x, const std::string& module_path,
                       int64_t channels, float gamma_low, float gamma_high) {
  const std::string gamma = builder.add_uniform(module_path + ".weight", {channels}, gamma_low, gamma_high);
  const std::string beta = builder.add_normal(module_path + ".bias", {channels}, 0.05f);
  const std::string mean = builder.add_normal(module_path + ".running_mean", {channels}, 0.1f);
  const std::string var = builder.add_uniform(module_path + ".running_var", {channels}, 0.5f, 1.5f);
  builder.set_scope(scope_of(module_path));
  return builder.add_node("BatchNormalization", {x, gamma, beta, mean, var},
                          {attr_float("epsilon", 1e-5f), attr_float("momentum", 0.9f)});
}

std::string relu(GraphBuilder& builder, const std::string& x, const std::string& module_path) {
  builder.set_scope(scope_of(module_path));
  return builder.add_node("Relu", {x});
}

std::string classifier_head(GraphBuilder& builder, const std::string& x, const std::string& module_path,
                            int64_t channels, int64_t classes, const std::string& output) {
  builder.set_scope("");
  const std::string pooled = builder.add_node("GlobalAveragePool", {x});
  const std::string flat = builder.add_node("Flatten", {pooled}, {attr_int("axis", 1)});
  const float stddev = static_cast<float>(1.0 / std::sqrt(static_cast<double>(channels)));
  const std::string weight = builder.add_normal(module_path + ".weight", {classes, channels}, stddev);
  const std::string bias = builder.add_normal(module_path + ".bias", {classes}, 0.01f);
  builder.set_scope(scope_of(module_path));
  return builder.add_node("Gemm", {flat, weight, bias},
                          {attr_float("alpha", 1.0f), attr_float("beta", 1.0f), attr_int("transB", 1)},
                          output);
}

}  // namespace conveyor::zoo::detail
