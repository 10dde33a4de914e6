#include "cli/output_choice.hpp"

#include <algorithm>
#include <stdexcept>

namespace conveyor::cli {

std::optional<std::vector<std::string>> chosen_outputs(const std::vector<std::string>& asked,
                                                       const std::vector<std::string>& given,
                                                       const RunningPipeline& running) {
  const auto& made = running.stage_outputs();
  if (asked.empty()) {
    if (running.signature().outputs.empty()) return std::nullopt;
    std::vector<std::string> last;
    for (const auto& output : running.signature().outputs) last.push_back(output.name);
    return last;
  }
  if (!made) return asked;  // not known what the stages write: each line holds what it finds
  for (const auto& name : asked) {
    const bool known =
        std::any_of(made->begin(), made->end(), [&](const TensorSignature& s) { return s.name == name; }) ||
        std::find(given.begin(), given.end(), name) != given.end();
    if (known) continue;
    std::string list;
    for (const auto& s : *made) list += (list.empty() ? "'" : ", '") + s.name + "'";
    throw std::runtime_error("--outputs: the pipeline makes no '" + name + "'; it makes " +
                             (list.empty() ? std::string("nothing") : list));
  }
  return asked;
}

}  // namespace conveyor::cli
