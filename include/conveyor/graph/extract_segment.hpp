#pragma once
// Model segments in memory: the part of an imported graph between given boundary tensors, as a graph of
// its own that the engine compiles like a whole model (no ONNX file written or parsed again).
#include <string>
#include <vector>

#include "conveyor/graph/graph.hpp"

namespace conveyor {

// The sub-graph of `graph` computing `outputs` from `inputs` (value names of `graph`): the nodes met walking
// back from the outputs until an input or a constant, in `graph`'s order, with the values they touch (their
// constants share the buffers of `graph`'s). Its inputs and outputs are in the order given; it is named
// `segment_name` (empty: `graph`'s name). Throws GraphError naming the segment and the tensor when a name is
// unknown or given twice, an input is a constant, an output is an input or a constant, an output needs a
// runtime value that is not among the inputs, or an input is also computed inside the segment.
Graph extract_segment(const Graph& graph, const std::vector<std::string>& inputs,
                      const std::vector<std::string>& outputs, const std::string& segment_name = "");

}  // namespace conveyor
