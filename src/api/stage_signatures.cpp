#include "api/stage_signatures.hpp"

#include <map>
#include <optional>

#include "conveyor/tensor/dtype.hpp"

namespace conveyor {
namespace {

// The latest declaration of a tensor by an earlier stage.
struct Written {
  TensorSignature tensor;
  std::size_t stage = 0;
};

// "float32 [1, 3, 224, 224]"; a tensor whose rank is not known is "float32 (any shape)".
std::string describe(const TensorSignature& tensor) {
  const std::string dtype(dtype_name(tensor.dtype));
  if (tensor.dims.empty()) return dtype + " (any shape)";
  std::string shown;  // -1 reads as "?"
  for (std::size_t i = 0; i < tensor.dims.size(); ++i)
    shown += (i ? ", " : "") + (tensor.dims[i] < 0 ? std::string("?") : std::to_string(tensor.dims[i]));
  return dtype + " [" + shown + "]";
}

// Why `want` cannot read what `have` holds, or nothing when it can (as far as both say).
std::optional<std::string> mismatch(const TensorSignature& have, const TensorSignature& want) {
  if (have.dtype != want.dtype)
    return std::string("the dtypes differ (") + std::string(dtype_name(have.dtype)) + " vs " +
           std::string(dtype_name(want.dtype)) + ")";
  if (have.dims.size() != want.dims.size()) return std::nullopt;  // a rank one side leaves open
  for (std::size_t d = 0; d < have.dims.size(); ++d)
    if (have.dims[d] >= 0 && want.dims[d] >= 0 && have.dims[d] != want.dims[d])
      return "dim " + std::to_string(d) + " is " + std::to_string(have.dims[d]) + ", not " +
             std::to_string(want.dims[d]);
  return std::nullopt;
}

std::string stage_text(const StageConfig& stage) {
  return "stage '" + stage.name + "' (" + stage.op + ")";
}

}  // namespace

void check_stage_signatures(const PipelineConfig& config, const std::vector<StageSpec>& specs) {
  std::map<std::string, Written> written;
  for (std::size_t i = 0; i < specs.size() && i < config.stages.size(); ++i) {
    const StageConfig& stage = config.stages[i];
    const auto fail = [&](const std::string& message) {
      throw ConfigError(config.file.string(), stage.line, "stages[" + std::to_string(i) + "]", message);
    };
    for (const TensorSignature& want : specs[i].signature.inputs) {
      const auto found = written.find(want.name);
      if (want.text || found == written.end() || found->second.tensor.text) continue;
      const TensorSignature& have = found->second.tensor;
      const StageConfig& writer = config.stages[found->second.stage];
      if (const auto why = mismatch(have, want))
        fail(stage_text(stage) + " reads '" + want.name + "' as " + describe(want) + ", but " +
             stage_text(writer) + " writes it as " + describe(have) + ": " + *why);
      if (want.min_last_dim > 0 && !have.dims.empty() && have.dims.back() >= 0 &&
          have.dims.back() < want.min_last_dim)
        fail(stage_text(stage) + " needs at least " + std::to_string(want.min_last_dim) +
             " elements along the last axis of '" + want.name + "' (" + want.min_last_dim_reason + "), but " +
             stage_text(writer) + " writes it as " + describe(have) + ", whose last axis holds " +
             std::to_string(have.dims.back()));
    }
    std::map<std::string, Written> outputs;  // after every input is read: a stage may write what it reads
    for (const TensorSignature& output : specs[i].signature.outputs) {
      Written entry{output, i};
      if (!output.dims_of_input.empty()) {
        const auto source = written.find(output.dims_of_input);
        entry.tensor.dims = source == written.end() || source->second.tensor.text
                                ? std::vector<int64_t>{}
                                : source->second.tensor.dims;
      }
      outputs[output.name] = std::move(entry);
    }
    for (auto& [name, entry] : outputs) written[name] = std::move(entry);
  }
}

std::vector<StageSpec> build_checked_stage_specs(const PipelineConfig& config,
                                                 const OperatorRegistry& registry) {
  std::vector<StageSpec> specs = build_stage_specs(config, registry);
  check_stage_signatures(config, specs);
  return specs;
}

}  // namespace conveyor
