#include "conveyor/plan/service_time.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

namespace conveyor::plan {

ServiceTime ServiceTime::from_samples(std::vector<double> seconds) {
  if (seconds.empty()) throw std::invalid_argument("service time: no samples");
  double sum = 0;
  for (double s : seconds) {
    if (!(s >= 0) || !(s <= kMaxSeconds))  // also rejects NaN
      throw std::invalid_argument("service time: sample " + std::to_string(s) +
                                  " s is not a duration from 0 to " +
                                  std::to_string(static_cast<int64_t>(kMaxSeconds)) + " s");
    sum += s;
  }
  const double n = static_cast<double>(seconds.size());
  const double mean = sum / n;
  double squares = 0;
  for (double s : seconds) squares += (s - mean) * (s - mean);
  ServiceTime t;
  t.mean = mean;
  t.cv2 = mean > 0 ? (squares / n) / (mean * mean) : 0;
  std::sort(seconds.begin(), seconds.end());
  t.samples = std::move(seconds);
  return t;
}

ServiceTime ServiceTime::deterministic(double mean) {
  return with_cv2(mean, 0);
}
ServiceTime ServiceTime::exponential(double mean) {
  return with_cv2(mean, 1);
}

ServiceTime ServiceTime::with_cv2(double mean, double cv2) {
  if (!(mean > 0) || !std::isfinite(mean))
    throw std::invalid_argument("service time: mean " + std::to_string(mean) + " s must be > 0");
  if (!(cv2 >= 0) || !std::isfinite(cv2))
    throw std::invalid_argument("service time: cv^2 " + std::to_string(cv2) + " must be >= 0");
  ServiceTime t;
  t.mean = mean;
  t.cv2 = cv2;
  return t;
}

double ServiceTime::quantile(double q) const {
  if (samples.empty()) return gamma_quantile(mean, cv2, q);
  std::vector<double> sorted = samples;
  if (!std::is_sorted(sorted.begin(), sorted.end())) std::sort(sorted.begin(), sorted.end());
  const double pos = std::clamp(q, 0.0, 1.0) * static_cast<double>(sorted.size() - 1);
  const auto lo = static_cast<std::size_t>(pos);
  const std::size_t hi = std::min(lo + 1, sorted.size() - 1);
  return sorted[lo] + (pos - static_cast<double>(lo)) * (sorted[hi] - sorted[lo]);
}

ServiceTime ServiceTime::sum(const std::vector<ServiceTime>& parts) {
  if (parts.empty()) throw std::invalid_argument("service time: sum of nothing");
  double mean = 0, variance = 0;
  for (const auto& p : parts) {
    mean += p.mean;
    variance += p.variance();
  }
  return with_cv2(mean, mean > 0 ? variance / (mean * mean) : 0);
}

double normal_quantile(double q) {
  if (!(q > 0 && q < 1)) throw std::invalid_argument("normal quantile: q must be in (0, 1)");
  static constexpr double a[] = {-3.969683028665376e+01, 2.209460984245205e+02,  -2.759285104469687e+02,
                                 1.383577518672690e+02,  -3.066479806614716e+01, 2.506628277459239e+00};
  static constexpr double b[] = {-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
                                 6.680131188771972e+01, -1.328068155288572e+01};
  static constexpr double c[] = {-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
                                 -2.549732539343734e+00, 4.374664141464968e+00,  2.938163982698783e+00};
  static constexpr double d[] = {7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
                                 3.754408661907416e+00};
  constexpr double low = 0.02425;
  if (q < low) {
    const double r = std::sqrt(-2 * std::log(q));
    return (((((c[0] * r + c[1]) * r + c[2]) * r + c[3]) * r + c[4]) * r + c[5]) /
           ((((d[0] * r + d[1]) * r + d[2]) * r + d[3]) * r + 1);
  }
  if (q > 1 - low) return -normal_quantile(1 - q);
  const double u = q - 0.5, r = u * u;
  return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * u /
         (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}

double gamma_quantile(double mean, double cv2, double q) {
  if (mean <= 0) return 0;
  if (cv2 <= 1e-12) return mean;
  if (q <= 0) return 0;
  // Gamma(shape k, scale mean/k) with k = 1/cv2; Wilson-Hilferty maps it to a normal.
  const double k = 1 / cv2;
  const double z = normal_quantile(std::min(q, 1 - 1e-12));
  const double h = 1 / (9 * k);
  const double cube = 1 - h + z * std::sqrt(h);
  return cube <= 0 ? 0 : mean * cube * cube * cube;
}

}  // namespace conveyor::plan
