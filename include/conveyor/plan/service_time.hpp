#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace conveyor::plan {

// The distribution of one stage's per-item service time, in seconds: its mean and squared coefficient of
// variation (variance / mean^2), plus the measured samples when there are any. The analytic model uses
// the first two moments; the simulator draws from the samples, or from a fitted distribution without them.
struct ServiceTime {
  double mean = 0;
  double cv2 = 0;
  std::vector<double> samples;  // seconds; may be empty

  // The longest sample from_samples takes (about 11.6 days): no item takes that long, and it keeps sums
  // and squares of samples far from overflowing.
  static constexpr double kMaxSeconds = 1e6;

  // Throws std::invalid_argument on no samples, or a sample that is negative, NaN or above kMaxSeconds.
  static ServiceTime from_samples(std::vector<double> seconds);
  static ServiceTime deterministic(double mean);
  static ServiceTime exponential(double mean);
  static ServiceTime with_cv2(double mean, double cv2);

  double variance() const { return cv2 * mean * mean; }
  // q in [0, 1]: the empirical quantile when there are samples, else a gamma approximation.
  double quantile(double q) const;
  // Service time of `count` items run back to back by one worker (means and variances add).
  static ServiceTime sum(const std::vector<ServiceTime>& parts);
};

// The q-quantile of a gamma distribution with this mean and squared coefficient of variation
// (Wilson-Hilferty; within ~1-2% for cv2 <= 1 at q in [0.5, 0.999]). cv2 == 0 gives the mean.
double gamma_quantile(double mean, double cv2, double q);

// Quantile of the standard normal distribution (Acklam's rational approximation, |error| < 1.2e-9).
double normal_quantile(double q);

}  // namespace conveyor::plan
