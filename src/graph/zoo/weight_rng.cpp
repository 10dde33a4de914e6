#include "graph/zoo/weight_rng.hpp"

#include <cmath>
#include <numbers>

namespace conveyor::zoo::detail {

double WeightRng::unit() {
  // The top 53 bits make an exactly representable double in [0, 1).
  return static_cast<double>(engine_() >> 11) * 0x1.0p-53;
}

float WeightRng::uniform(float low, float high) {
  return static_cast<float>(low + (static_cast<double>(high) - low) * unit());
}

float WeightRng::normal(float mean, float stddev) {
  // Box-Muller: two uniforms give two independent standard normals; keep the second for the next call.
  if (has_spare_) {
    has_spare_ = false;
    return static_cast<float>(mean + stddev * spare_);
  }
  const double u1 = 1.0 - unit();  // (0, 1]: log stays finite
  const double u2 = unit();
  const double radius = std::sqrt(-2.0 * std::log(u1));
  const double angle = 2.0 * std::numbers::pi * u2;
  spare_ = radius * std::sin(angle);
  has_spare_ = true;
  return static_cast<float>(mean + stddev * radius * std::cos(angle));
}

}  // namespace conveyor::zoo::detail
