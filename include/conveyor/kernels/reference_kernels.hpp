#pragma once
#include <functional>
#include <string>

#include "conveyor/kernels/kernel_error.hpp"
#include "conveyor/kernels/kernel_signature.hpp"

namespace conveyor {

// Plain C++ implementations of the ONNX operators on dense row-major buffers. Constant folding evaluates
// graph nodes with them; the engine runs them for the operators (or dtypes) oneDNN has no primitive for.
// A kernel is prepared once from a signature and then called with one pointer per input and output,
// nullptr for optional ones left out. Kernels run on the calling thread only.
//
// Attributes are expected in canonical form, as the graph layer's shape inference leaves them: every axis
// non-negative, Slice's begin/step per dim, Split's split sizes, Reduce*'s axes, Resize's scales (and roi),
// Pad's pads, Clip's min/max and Softmax's coerce2d (opset < 13) as attributes rather than inputs.
using RefKernel = std::function<void(const void* const* inputs, void* const* outputs)>;

bool has_reference_kernel(const std::string& op_type);
// Throws KernelError (starting with signature.where) when there is no reference implementation for these
// dtypes/attributes.
RefKernel make_reference_kernel(const KernelSignature& signature);

}  // namespace conveyor
