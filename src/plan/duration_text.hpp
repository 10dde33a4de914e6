#pragma once
// Durations in the planners' notes: three significant digits in milliseconds; "inf ms" for a stage or
// pipeline that cannot keep up.
#include <fmt/format.h>

#include <cmath>
#include <string>

namespace conveyor::plan {

inline std::string ms(double seconds) {
  if (std::isinf(seconds)) return "inf ms";
  return fmt::format("{:.3g} ms", seconds * 1e3);
}

}  // namespace conveyor::plan
