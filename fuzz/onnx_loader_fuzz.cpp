// libFuzzer target for the ONNX loader: any byte string must load or fail with GraphError — never crash,
// hang, leak, read out of bounds or throw anything else. Everything after parsing is exercised too
// (shape inference, constant folding with the reference kernels, passes, cost).
#include <cstddef>
#include <cstdint>

#include "conveyor/graph/cost.hpp"
#include "conveyor/graph/onnx_import.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  conveyor::ImportOptions options;
  options.max_model_bytes = std::size_t{64} << 20;  // keep fuzzed dims from allocating much
  options.max_folded_bytes = std::size_t{1} << 20;
  try {
    const conveyor::Graph graph = conveyor::parse_onnx(data, size, options);
    (void)conveyor::graph_cost(graph);
  } catch (const conveyor::GraphError&) {
    // the expected outcome for malformed input
  }
  return 0;
}
