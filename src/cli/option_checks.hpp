#pragma once
// Checks for numeric command-line options, with messages that say what is wanted. CLI11's PositiveNumber
// prints its range as "0.000000 to 17976931348623157081452742373170435679807..." and accepts nan, and an
// unsigned option silently turns "-1" into 2^64 - 1.
#include <CLI/CLI.hpp>
#include <cmath>
#include <cstdint>
#include <string>

#include "cli/number_text.hpp"

namespace conveyor::cli {

// A whole number from `lo` to `hi` (lo >= 0), written in decimal digits: no sign, so "-1" is refused
// before an unsigned option could wrap it around.
inline CLI::Validator whole_number(int64_t lo, int64_t hi) {
  const std::string wanted = "a whole number from " + std::to_string(lo) + " to " + std::to_string(hi);
  return CLI::Validator(
      [lo, hi, wanted](std::string& text) -> std::string {
        const bool digits = !text.empty() && text.find_first_not_of("0123456789") == std::string::npos;
        if (!digits || text.size() > 18 || std::stoll(text) < lo || std::stoll(text) > hi)
          return "must be " + wanted + ", got '" + text + "'";
        return "";
      },
      "INT " + std::to_string(lo) + ".." + std::to_string(hi));
}

// A finite number > 0.
inline CLI::Validator positive_number() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        const auto value = number_text(text);
        if (!value || !std::isfinite(*value) || *value <= 0)
          return "must be a finite number > 0, got '" + text + "'";
        return "";
      },
      "NUMBER > 0");
}

// Upper bounds on counts the commands take: far above any real use, low enough that a typo cannot ask for
// terabytes.
inline constexpr int64_t kMaxRequests = 1'000'000'000;       // bench / demo requests (constant memory)
inline constexpr int64_t kMaxSimulatedRequests = 2'000'000;  // simulate / plan keep every request's times
inline constexpr int64_t kMaxConcurrency = 1 << 20;          // requests in flight
inline constexpr int64_t kMaxSeed = 999'999'999'999'999'999;  // 18 digits: what whole_number reads

}  // namespace conveyor::cli
