#pragma once
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "conveyor/runtime/pipeline.hpp"

namespace conveyor::cli {

// What each line of `conveyor run`'s results holds.
struct ResultLineOptions {
  // The tensors and texts a line holds, by name; nullopt: every tensor but the request's own, every text.
  std::optional<std::vector<std::string>> outputs;
  std::set<std::string> inputs;   // the tensors each request gave
  std::size_t max_values = 1000;  // tensor data in the line only up to this many elements
  // Not empty: tensors are written to output_dir/<stem>/<tensor>.npy and the line names the file.
  std::filesystem::path output_dir;
};

// {"input", "ok", "latency_ms", "outputs": {name: {dtype, shape, data | file}}, "texts"}, or the error.
// `stem` names the request's folder under output_dir. Throws when a tensor file cannot be written.
nlohmann::json result_json(const Result& result, const std::string& stem, const ResultLineOptions& options);

// A line for a request that failed before or outside the pipeline (an unreadable file).
nlohmann::json error_json(const std::string& input, const std::string& stage, const std::string& message);

}  // namespace conveyor::cli
