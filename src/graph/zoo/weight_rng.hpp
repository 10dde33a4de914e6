#pragma once
#include <cstdint>
#include <random>

namespace conveyor::zoo::detail {

// Seeded source of weights. Uses std::mt19937_64 for the bits and its own transforms (not the
// std:: distributions, whose algorithms differ between standard libraries) so a seed gives the same
// model everywhere.
class WeightRng {
 public:
  explicit WeightRng(uint64_t seed) : engine_(seed) {}

  double unit();  // uniform in [0, 1)
  float uniform(float low, float high);
  float normal(float mean, float stddev);

 private:
  std::mt19937_64 engine_;
  bool has_spare_ = false;
  double spare_ = 0.0;
};

}  // namespace conveyor::zoo::detail
