#include "conveyor/graph/supported_ops.hpp"

#include <algorithm>

namespace conveyor {

const std::vector<SupportedOp>& supported_ops() {
  static const std::vector<SupportedOp> ops = [] {
    const std::string window = "kernel_shape, strides, pads, dilations, auto_pad";
    const std::string reduce = "axes (attribute, or input from opset 18), keepdims, noop_with_empty_axes";
    const std::string unary = "float32/float64 input";
    const std::string broadcast = "multidirectional broadcasting";
    std::vector<SupportedOp> table = {
        {"Abs", "-", ""},
        {"Add", "-", broadcast},
        {"And", "-", "bool inputs; " + broadcast},
        {"ArgMax", "axis, keepdims, select_last_index", ""},
        {"ArgMin", "axis, keepdims, select_last_index", ""},
        {"AveragePool", window + ", ceil_mode, count_include_pad", ""},
        {"BatchNormalization", "epsilon",
         "inference only (training_mode and the running-statistics outputs refused); "
         "folded into the Conv before it where there is one"},
        {"Cast", "to", "numeric and bool types (no strings)"},
        {"Ceil", "-", unary},
        {"Clip", "min, max (attributes, or constant inputs from opset 11)", "min/max must be constants"},
        {"Concat", "axis", ""},
        {"Constant", "value, value_float(s), value_int(s)", "no string or sparse values"},
        {"ConstantOfShape", "value", "the shape input must be a constant"},
        {"Conv", window + ", group", "1-D, 2-D and 3-D"},
        {"ConvTranspose", window + ", group, output_padding, output_shape", ""},
        {"Cos", "-", unary},
        {"Div", "-", broadcast},
        {"Dropout", "-", "inference: an identity (the mask output is all true)"},
        {"Elu", "alpha", unary},
        {"Equal", "-", broadcast},
        {"Erf", "-", unary},
        {"Exp", "-", unary},
        {"Expand", "-", "the shape input must be a constant"},
        {"Flatten", "axis", ""},
        {"Floor", "-", unary},
        {"Gather", "axis", ""},
        {"Gelu", "approximate (none, tanh)", unary},
        {"Gemm", "alpha, beta, transA, transB", ""},
        {"GlobalAveragePool", "-", ""},
        {"GlobalMaxPool", "-", ""},
        {"Greater", "-", broadcast},
        {"GreaterOrEqual", "-", broadcast},
        {"HardSigmoid", "alpha, beta", unary},
        {"HardSwish", "-", unary},
        {"Identity", "-", ""},
        {"LayerNormalization", "axis, epsilon", "the Mean and InvStdDev outputs are not produced"},
        {"LeakyRelu", "alpha", unary},
        {"Less", "-", broadcast},
        {"LessOrEqual", "-", broadcast},
        {"Log", "-", unary},
        {"LogSoftmax", "axis (opset < 13: 2-D coercion)", unary},
        {"MatMul", "-", "batched, with broadcasting of the batch dimensions"},
        {"Max", "-", "variadic; " + broadcast},
        {"MaxPool", window + ", ceil_mode", "the Indices output and storage_order=1 refused"},
        {"Mean", "-", "variadic; " + broadcast},
        {"Min", "-", "variadic; " + broadcast},
        {"Mod", "fmod", broadcast},
        {"Mul", "-", broadcast},
        {"Neg", "-", ""},
        {"Not", "-", "bool input"},
        {"Or", "-", "bool inputs; " + broadcast},
        {"Pad", "mode (constant, reflect, edge), pads, constant_value (attributes or constant inputs)",
         "pads must be constants; the axes input (opset 18) is refused"},
        {"Pow", "-", broadcast},
        {"PRelu", "-", "slope broadcast to the input"},
        {"Range", "-", "start, limit and delta must be constants"},
        {"Reciprocal", "-", unary},
        {"ReduceL1", reduce, ""},
        {"ReduceL2", reduce, ""},
        {"ReduceLogSumExp", reduce, ""},
        {"ReduceMax", reduce, ""},
        {"ReduceMean", reduce, ""},
        {"ReduceMin", reduce, ""},
        {"ReduceProd", reduce, ""},
        {"ReduceSum", reduce, ""},
        {"ReduceSumSquare", reduce, ""},
        {"Relu", "-", ""},
        {"Reshape", "allowzero", "the shape input must be a constant (or computable at import)"},
        {"Resize",
         "mode (nearest, linear, cubic), coordinate_transformation_mode, nearest_mode, extrapolation_value, "
         "scales or sizes",
         "tf_crop_and_resize refused; scales/sizes must be constants"},
        {"Round", "-", unary},
        {"Selu", "alpha, gamma", unary},
        {"Shape", "start, end", ""},
        {"Sigmoid", "-", unary},
        {"Sign", "-", ""},
        {"Sin", "-", unary},
        {"Size", "-", ""},
        {"Slice", "starts, ends, axes, steps (attributes, or constant inputs from opset 10)",
         "starts/ends/axes/steps must be constants"},
        {"Softmax", "axis (opset < 13: 2-D coercion)", unary},
        {"Softplus", "-", unary},
        {"Split", "axis, split (attribute, or constant input from opset 13)", ""},
        {"Sqrt", "-", unary},
        {"Squeeze", "axes (attribute, or constant input from opset 13)", ""},
        {"Sub", "-", broadcast},
        {"Swish", "-", "not an ONNX operator: what import makes of x * Sigmoid(x) (SiLU); " + unary},
        {"Sum", "-", "variadic; " + broadcast},
        {"Tanh", "-", unary},
        {"Tile", "-", "the repeats input must be a constant"},
        {"Transpose", "perm", ""},
        {"Unsqueeze", "axes (attribute, or constant input from opset 13)", ""},
        {"Where", "-", broadcast},
        {"Xor", "-", "bool inputs; " + broadcast},
    };
    std::sort(table.begin(), table.end(),
              [](const SupportedOp& a, const SupportedOp& b) { return a.op < b.op; });
    return table;
  }();
  return ops;
}

std::vector<std::string> supported_onnx_ops() {
  std::vector<std::string> names;
  for (const SupportedOp& op : supported_ops()) names.push_back(op.op);
  return names;
}

}  // namespace conveyor
