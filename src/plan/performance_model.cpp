#include "conveyor/plan/performance_model.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <stdexcept>

namespace conveyor::plan {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

void validate(const std::vector<ModelStage>& stages, const Workload& load) {
  if (stages.empty()) throw std::invalid_argument("performance model: no stages");
  for (const auto& s : stages) {
    if (s.workers < 1) throw std::invalid_argument("stage '" + s.name + "': workers must be >= 1");
    if (!(s.service.mean > 0))
      throw std::invalid_argument("stage '" + s.name + "': service time must be > 0");
    if (s.shared_group >= 0 && s.workers != 1)
      throw std::invalid_argument("stage '" + s.name + "': a stage sharing a core has one worker");
  }
  if (load.rate_rps && !(*load.rate_rps > 0)) throw std::invalid_argument("arrival rate must be > 0");
  if (!load.rate_rps && load.concurrency < 1) throw std::invalid_argument("concurrency must be >= 1");
}

// Summed service time of each shared group.
std::map<int, double> group_loads(const std::vector<ModelStage>& stages) {
  std::map<int, double> sum;
  for (const auto& s : stages)
    if (s.shared_group >= 0) sum[s.shared_group] += s.service.mean;
  return sum;
}

double stage_capacity(const ModelStage& s, const std::map<int, double>& groups) {
  return s.shared_group >= 0 ? 1 / groups.at(s.shared_group) : s.workers / s.service.mean;
}

void fill_latency(Prediction& p, double mean, double variance) {
  p.latency_mean_s = mean;
  const double cv2 = mean > 0 ? variance / (mean * mean) : 0;
  p.latency_p50_s = gamma_quantile(mean, cv2, 0.50);
  p.latency_p99_s = gamma_quantile(mean, cv2, 0.99);
}

}  // namespace

Workload Workload::open(double rate_rps, std::size_t max_in_flight) {
  Workload w;
  w.rate_rps = rate_rps;
  w.max_in_flight = max_in_flight;
  return w;
}

Workload Workload::closed(int concurrency, std::size_t max_in_flight) {
  Workload w;
  w.concurrency = concurrency;
  w.max_in_flight = max_in_flight;
  return w;
}

std::string Workload::describe() const {
  if (rate_rps) {
    char buffer[64];
    std::snprintf(buffer, sizeof buffer, "Poisson arrivals at %g req/s", *rate_rps);
    return buffer;
  }
  return "closed loop, " + std::to_string(concurrency) + " in flight";
}

double erlang_c(int servers, double a) {
  if (servers < 1) throw std::invalid_argument("erlang_c: servers must be >= 1");
  if (a <= 0) return 0;
  if (a >= servers) return 1;
  double b = 1;  // Erlang B by the stable recursion B(k) = a B(k-1) / (k + a B(k-1))
  for (int k = 1; k <= servers; ++k) b = a * b / (k + a * b);
  const double rho = a / servers;
  return b / (1 - rho * (1 - b));
}

double ggc_mean_wait(int servers, double mean_service, double arrival_rate, double ca2, double cs2) {
  const double a = arrival_rate * mean_service;
  if (a >= servers) return kInf;
  return erlang_c(servers, a) / (servers / mean_service - arrival_rate) * (ca2 + cs2) / 2;
}

double batch_time(const std::vector<ModelStage>& stages, std::size_t n) {
  if (n == 0) return 0;
  validate(stages, Workload::closed(1));
  const auto groups = group_loads(stages);
  double sum = 0, period = 0;
  for (const auto& s : stages) {
    sum += s.service.mean;
    period = std::max(period, 1 / stage_capacity(s, groups));
  }
  return sum + static_cast<double>(n - 1) * period;
}

Prediction predict(const std::vector<ModelStage>& stages, const Workload& load) {
  validate(stages, load);
  const auto groups = group_loads(stages);
  Prediction p;
  p.capacity_rps = kInf;
  for (std::size_t i = 0; i < stages.size(); ++i) {
    const double capacity = stage_capacity(stages[i], groups);
    p.stages.push_back({stages[i].name, capacity, 0, 0, 0});
    p.service_sum_s += stages[i].service.mean;
    if (capacity < p.capacity_rps) {
      p.capacity_rps = capacity;
      p.bottleneck = i;
    }
  }
  // Little's law: N admitted requests, each needing at least sum T, cannot exceed N / sum T.
  const double in_flight_cap =
      load.max_in_flight ? static_cast<double>(load.max_in_flight) / p.service_sum_s : kInf;
  const double stage_capacity_rps = p.capacity_rps;
  p.capacity_rps = std::min(p.capacity_rps, in_flight_cap);

  if (!load.rate_rps) {
    // The client keeps `concurrency` outstanding; at most max_in_flight of them hold tokens in the pipeline.
    const double n = load.concurrency;
    double admitted = n;
    if (load.max_in_flight) admitted = std::min(n, static_cast<double>(load.max_in_flight));
    p.throughput_rps = std::min(stage_capacity_rps, admitted / p.service_sum_s);
    double service_variance = 0;
    for (std::size_t i = 0; i < stages.size(); ++i) {
      auto& sp = p.stages[i];
      sp.utilization = p.throughput_rps / sp.capacity_rps;
      sp.sojourn_s = stages[i].service.mean;
      service_variance += stages[i].service.variance();
    }
    // What N / X adds to sum T is queueing (for a token, then in front of the bottleneck): about `ahead`
    // items, each leaving after a bottleneck service (variance sigma^2 / r^2 per item).
    const double mean = n / p.throughput_rps;
    const double queueing = std::max(0.0, mean - p.service_sum_s);
    const ModelStage& b = stages[p.bottleneck];
    const double per_item = 1 / p.stages[p.bottleneck].capacity_rps;
    const double ahead = queueing / per_item;
    const int r = b.shared_group >= 0 ? 1 : b.workers;
    p.stages[p.bottleneck].wait_s = queueing;
    p.stages[p.bottleneck].sojourn_s += queueing;
    fill_latency(p, mean, service_variance + ahead * b.service.variance() / (r * r));
    return p;
  }

  const double rate = *load.rate_rps;
  p.throughput_rps = std::min(rate, p.capacity_rps);
  p.stable = rate < p.capacity_rps;
  double ca2 = 1;  // Poisson
  double mean = 0, variance = 0;
  for (std::size_t i = 0; i < stages.size(); ++i) {
    const ModelStage& s = stages[i];
    auto& sp = p.stages[i];
    sp.utilization = rate / sp.capacity_rps;
    const double rho = sp.utilization;
    const double cs2 = s.service.cv2;
    double sojourn_variance = 0;
    if (rho >= 1) {
      sp.wait_s = sp.sojourn_s = kInf;
    } else if (s.shared_group >= 0) {
      // Processor sharing: the core runs the group's busy workers in turn, slowing each by 1 / (1 - rho).
      sp.sojourn_s = s.service.mean / (1 - rho);
      sp.wait_s = sp.sojourn_s - s.service.mean;
      sojourn_variance = sp.sojourn_s * sp.sojourn_s * (cs2 + rho);
    } else {
      sp.wait_s = ggc_mean_wait(s.workers, s.service.mean, rate, ca2, cs2);
      sp.sojourn_s = sp.wait_s + s.service.mean;
      // The wait is 0 with probability 1 - Pw, else about exponential with mean wait / Pw.
      const double pw = std::clamp(erlang_c(s.workers, rate * s.service.mean), 1e-12, 1.0);
      const double m = sp.wait_s / pw;
      sojourn_variance = s.service.variance() + pw * 2 * m * m - sp.wait_s * sp.wait_s;
    }
    mean += sp.sojourn_s;
    variance += sojourn_variance;
    const int c = s.shared_group >= 0 ? 1 : s.workers;
    const double rho_clamped = std::min(rho, 1.0);
    ca2 = 1 + (1 - rho_clamped * rho_clamped) * (ca2 - 1) +
          rho_clamped * rho_clamped * (cs2 - 1) / std::sqrt(c);
    ca2 = std::max(ca2, 0.0);
  }
  if (!p.stable) {
    p.latency_mean_s = p.latency_p50_s = p.latency_p99_s = kInf;
    return p;
  }
  fill_latency(p, mean, variance);
  return p;
}

}  // namespace conveyor::plan
