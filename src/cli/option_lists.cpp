#include "cli/option_lists.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <limits>
#include <set>
#include <stdexcept>

#include "cli/number_text.hpp"
#include "cli/cli_runtime.hpp"
#include "conveyor/runtime/topology.hpp"


namespace conveyor::cli {
namespace {

int parse_int(const std::string& text, const std::string& what) {
  const auto value = integer_text(text);
  if (!value || *value < std::numeric_limits<int>::min() || *value > std::numeric_limits<int>::max())
    throw std::invalid_argument(what + ": '" + text + "' is not a number");
  return static_cast<int>(*value);
}

std::vector<std::string> split(const std::string& text, char separator) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= text.size(); ++i)
    if (i == text.size() || text[i] == separator) {
      parts.push_back(text.substr(start, i - start));
      start = i + 1;
    }
  return parts;
}

}  // namespace

std::string profile_command_hint(const std::string& pipeline_file, const std::string& threads) {
  return fmt::format("conveyor profile {} --input FILES... --threads {}", pipeline_file, threads);
}

std::vector<int> parse_core_budget(const std::string& text) {
  if (text.empty()) throw std::invalid_argument("--cores: empty");
  const bool is_list = text.find_first_of(",-") != std::string::npos;
  if (!is_list) {
    const int n = parse_int(text, "--cores");
    if (n < 1) throw std::invalid_argument("--cores: needs at least 1 core");
    if (n > 4096)
      throw std::invalid_argument("--cores: " + text + " cores is more than the planner handles (4096)");
    return core_budget(n, cli_runtime().topology());
  }
  try {
    return parse_cpu_list(text);
  } catch (const std::invalid_argument& error) {
    throw std::invalid_argument(std::string("--cores: ") + error.what());
  }
}

std::vector<int> parse_thread_counts(const std::string& text) {
  std::set<int> counts;
  for (const auto& part : split(text, ',')) {
    if (part.empty()) throw std::invalid_argument("--threads: empty entry in '" + text + "'");
    const auto dots = part.find("..");
    const int first = parse_int(part.substr(0, dots), "--threads");
    const int last = dots == std::string::npos ? first : parse_int(part.substr(dots + 2), "--threads");
    if (first < 1 || last < first)
      throw std::invalid_argument("--threads: bad range '" + part + "' (counts are >= 1)");
    for (int t = first; t <= last; ++t) counts.insert(t);
  }
  if (counts.empty()) throw std::invalid_argument("--threads: no thread counts in '" + text + "'");
  return {counts.begin(), counts.end()};
}

}  // namespace conveyor::cli
