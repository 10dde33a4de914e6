#include "cli/result_line.hpp"

#include "cli/output_file_name.hpp"
#include "cli/tensor_json.hpp"
#include "conveyor/tensor/npy.hpp"

namespace conveyor::cli {
namespace {

namespace fs = std::filesystem;

// The request's tensors as files: {dtype, shape, file}.
nlohmann::json written_tensor(const Tensor& tensor, const fs::path& dir, const std::string& name,
                              std::set<std::string>& taken) {
  const fs::path file = dir / output_file_name(name, taken);
  write_npy(file.string(), tensor);
  return {{"dtype", dtype_name(tensor.dtype())}, {"shape", tensor.shape()}, {"file", file.string()}};
}

}  // namespace

nlohmann::json result_json(const Result& r, const std::string& stem, const ResultLineOptions& o) {
  nlohmann::json j{{"input", r.sample.source}, {"ok", r.ok()}};
  if (!r.ok()) {
    j["error"] = {{"stage", r.error->stage}, {"message", r.error->message}};
    return j;
  }
  const auto& times = r.sample.stage_times;
  if (!times.empty())
    j["latency_ms"] =
        std::chrono::duration<double, std::milli>(times.back().finished - r.sample.submitted).count();

  std::vector<std::string> names;
  if (o.outputs) {
    names = *o.outputs;
  } else {
    for (const auto& [name, tensor] : r.sample.tensors)
      if (!o.inputs.count(name)) names.push_back(name);
    for (const auto& [name, text] : r.sample.texts) names.push_back(name);
  }
  const fs::path dir = o.output_dir.empty() ? fs::path() : o.output_dir / stem;
  if (!dir.empty()) {
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) throw std::runtime_error("cannot create '" + dir.string() + "': " + ec.message());
  }
  std::set<std::string> taken;
  nlohmann::json outputs = nlohmann::json::object(), texts = nlohmann::json::object();
  for (const auto& name : names) {
    if (const auto t = r.sample.tensors.find(name); t != r.sample.tensors.end())
      outputs[name] =
          dir.empty() ? tensor_json(t->second, o.max_values) : written_tensor(t->second, dir, name, taken);
    else if (const auto s = r.sample.texts.find(name); s != r.sample.texts.end())
      texts[name] = s->second;
  }
  j["outputs"] = outputs;
  if (!texts.empty()) j["texts"] = texts;
  return j;
}

nlohmann::json error_json(const std::string& input, const std::string& stage, const std::string& message) {
  return {{"input", input}, {"ok", false}, {"error", {{"stage", stage}, {"message", message}}}};
}

}  // namespace conveyor::cli
