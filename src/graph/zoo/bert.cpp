#include <stdexcept>

#include "graph/zoo/architectures.hpp"

namespace conveyor::zoo::detail {
void build_bert(onnx::GraphProto&, const ZooOptions&) { throw std::invalid_argument("zoo: bert not yet"); }
}  // namespace conveyor::zoo::detail
