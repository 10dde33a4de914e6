#include "conveyor/plan/load_forecast.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <stdexcept>

#include "conveyor/plan/arrival_history.hpp"

namespace conveyor::plan {
namespace {

constexpr double kAlphas[] = {0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 0.9};
constexpr double kBetas[] = {0, 0.02, 0.05, 0.1, 0.2, 0.4};

struct State {
  double level, trend;
};

// Least-squares line through the first few values, as the state before the first value (t = -1), so that
// the first one-step forecast is the line's value at t = 0.
State initial_state(const std::vector<double>& series) {
  const std::size_t m = std::min<std::size_t>(series.size(), 10);
  double mean_t = (static_cast<double>(m) - 1) / 2, mean_y = 0;
  for (std::size_t t = 0; t < m; ++t) mean_y += series[t] / static_cast<double>(m);
  double sxy = 0, sxx = 0;
  for (std::size_t t = 0; t < m; ++t) {
    sxy += (static_cast<double>(t) - mean_t) * (series[t] - mean_y);
    sxx += (static_cast<double>(t) - mean_t) * (static_cast<double>(t) - mean_t);
  }
  const double slope = sxx > 0 ? sxy / sxx : 0;
  return {mean_y - slope * (mean_t + 1), slope};
}

// Runs the smoother over `values` from `state`, adding squared one-step errors to `sse`.
State smooth(State state, const std::vector<double>& values, std::size_t from, double alpha, double beta,
             double& sse, std::vector<double>* forecasts = nullptr) {
  for (std::size_t t = from; t < values.size(); ++t) {
    const double forecast = state.level + state.trend;
    if (forecasts) forecasts->push_back(forecast);
    sse += (values[t] - forecast) * (values[t] - forecast);
    const double level = alpha * values[t] + (1 - alpha) * forecast;
    state.trend = beta * (level - state.level) + (1 - beta) * state.trend;
    state.level = level;
  }
  return state;
}

// 1 s, or the history cut into kTargetIntervals when it is shorter than that many seconds; at most
// kMaxIntervals intervals.
double choose_interval(double span_s) {
  const double target = static_cast<double>(kTargetIntervals);
  if (span_s < target) return span_s / target;
  return std::max(1.0, span_s / static_cast<double>(kMaxIntervals));
}

}  // namespace

HoltFit fit_holt(const std::vector<double>& series) {
  if (series.size() < 3)
    throw std::invalid_argument("Holt's method needs at least 3 intervals, got " +
                                std::to_string(series.size()));
  const State start = initial_state(series);
  HoltFit best;
  double best_sse = std::numeric_limits<double>::infinity();
  for (double alpha : kAlphas)
    for (double beta : kBetas) {
      double sse = 0;
      const State end = smooth(start, series, 0, alpha, beta, sse);
      if (sse < best_sse) {
        best_sse = sse;
        best = {alpha, beta, end.level, end.trend, std::sqrt(sse / static_cast<double>(series.size()))};
      }
    }
  return best;
}

std::vector<double> holt_one_step(HoltFit fit, const std::vector<double>& held_out) {
  std::vector<double> forecasts;
  double sse = 0;
  smooth({fit.level, fit.trend}, held_out, 0, fit.alpha, fit.beta, sse, &forecasts);
  return forecasts;
}

LoadForecast forecast_load(const std::vector<double>& sorted_arrivals, const ForecastOptions& options) {
  if (!std::is_sorted(sorted_arrivals.begin(), sorted_arrivals.end()))
    throw std::invalid_argument("forecast: the arrival times are not sorted");
  if (sorted_arrivals.size() < kMinArrivals)
    throw std::invalid_argument(fmt::format(
        "forecast: {} arrival(s) recorded; a forecast needs at least {} spread over {} or more intervals",
        sorted_arrivals.size(), kMinArrivals, kMinIntervals));
  if (!(options.holdout > 0 && options.holdout < 1))
    throw std::invalid_argument("forecast: the held-out fraction must be in (0, 1)");
  LoadForecast f;
  f.arrivals = sorted_arrivals.size();
  const double span = recorded_span_s(sorted_arrivals);
  f.interval_s = options.interval_s > 0 ? options.interval_s : choose_interval(span);
  if (!(f.interval_s > 0))
    throw std::invalid_argument("forecast: the arrivals span no time (all at one instant)");
  const std::vector<double> rates = interval_rates(sorted_arrivals, f.interval_s);
  f.intervals = rates.size();
  if (rates.size() < kMinIntervals)
    throw std::invalid_argument(fmt::format(
        "forecast: {} arrivals over {:.3g} s of runs make {} whole interval(s) of {:.3g} s; a forecast needs "
        "at least {} (record a longer run, or use a shorter interval)",
        sorted_arrivals.size(), span, rates.size(), f.interval_s, kMinIntervals));
  f.mean_rps = std::accumulate(rates.begin(), rates.end(), 0.0) / static_cast<double>(rates.size());

  f.fit = fit_holt(rates);
  f.forecast_rps = std::max(0.0, f.fit.level + f.fit.trend);
  f.z = options.z;
  f.peak_rps = f.forecast_rps + options.z * f.fit.residual_sd;

  // Backtest: at least 3 intervals to fit on and 1 to forecast.
  const auto held = std::clamp<std::size_t>(
      static_cast<std::size_t>(std::lround(options.holdout * static_cast<double>(rates.size()))), 1,
      rates.size() - 3);
  const std::vector<double> train(rates.begin(), rates.end() - static_cast<std::ptrdiff_t>(held));
  const std::vector<double> test(rates.end() - static_cast<std::ptrdiff_t>(held), rates.end());
  const std::vector<double> predicted = holt_one_step(fit_holt(train), test);
  double abs_pct = 0, sq = 0, actual_sum = 0;
  std::size_t nonzero = 0;
  for (std::size_t i = 0; i < test.size(); ++i) {
    const double error = test[i] - std::max(0.0, predicted[i]);
    sq += error * error;
    actual_sum += test[i];
    if (test[i] > 0) {
      abs_pct += std::abs(error) / test[i];
      ++nonzero;
    }
  }
  f.backtest_intervals = test.size();
  f.backtest_mape = nonzero ? abs_pct / static_cast<double>(nonzero) : 0;
  const double mean_actual = actual_sum / static_cast<double>(test.size());
  const double rmse = std::sqrt(sq / static_cast<double>(test.size()));
  f.backtest_rmse_rel = mean_actual > 0 ? rmse / mean_actual : rmse > 0 ? 1 : 0;
  return f;
}

std::string LoadForecast::describe() const {
  return fmt::format(
      "Holt forecast over {} intervals of {:.3g} s ({} arrivals, mean {:.1f} req/s; alpha {:g}, beta {:g}): "
      "next {:.1f} req/s, trend {:+.2f} req/s per interval, peak {:.1f} req/s (forecast + {:g} x "
      "residual sd {:.1f}); backtest on the last {} intervals: MAPE {:.1f}%, RMSE {:.1f}% of the mean",
      intervals, interval_s, arrivals, mean_rps, fit.alpha, fit.beta, forecast_rps, fit.trend, peak_rps, z,
      fit.residual_sd, backtest_intervals, backtest_mape * 100, backtest_rmse_rel * 100);
}

}  // namespace conveyor::plan
