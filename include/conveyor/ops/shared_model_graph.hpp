#pragma once
// One import per model file: every `onnx` stage and every worker reading the same file with the same
// `dims` shares one immutable graph (segment stages of a split model cut theirs out of it in memory).
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>

#include "conveyor/graph/graph.hpp"

namespace conveyor::ops {

// load_onnx(path) with `dims`, imported once per file version (path, size, modification time) and dims,
// and shared while anyone holds the result: the cache keeps no graph alive by itself. Thread-safe; two
// callers asking for the same model at once wait for one import. Throws what load_onnx throws, or
// GraphError when the file cannot be stat'ed.
std::shared_ptr<const Graph> shared_model_graph(const std::filesystem::path& path,
                                                const std::map<std::string, int64_t>& dims);

// How many imports shared_model_graph has run in this process (what sharing saves is visible in tests).
std::size_t model_graph_imports();

}  // namespace conveyor::ops
