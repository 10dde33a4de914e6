#pragma once
// Numbers typed on the command line: the whole text must be the number ("12x" and "" are not).
#include <optional>
#include <string>

namespace conveyor::cli {

inline std::optional<long long> integer_text(const std::string& text) {
  std::size_t used = 0;
  long long value = 0;
  try {
    value = std::stoll(text, &used);
  } catch (const std::exception&) {
    return std::nullopt;
  }
  if (used == 0 || used != text.size()) return std::nullopt;
  return value;
}

inline std::optional<double> number_text(const std::string& text) {
  std::size_t used = 0;
  double value = 0;
  try {
    value = std::stod(text, &used);
  } catch (const std::exception&) {
    return std::nullopt;
  }
  if (used == 0 || used != text.size()) return std::nullopt;
  return value;
}

}  // namespace conveyor::cli
