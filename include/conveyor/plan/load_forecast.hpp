#pragma once
#include <cstddef>
#include <string>
#include <vector>

namespace conveyor::plan {

// Forecasting a pipeline's arrival rate from its history with Holt's linear trend (double exponential
// smoothing): level l and trend b per interval,
//   l_t = alpha y_t + (1 - alpha)(l_{t-1} + b_{t-1}),   b_t = beta (l_t - l_{t-1}) + (1 - beta) b_{t-1},
// one-step forecast l + b. alpha and beta are chosen from a small grid by the least one-step-ahead squared
// error over the history.

struct HoltFit {
  double alpha = 0, beta = 0;
  double level = 0, trend = 0;  // after the last observation; trend per interval
  double residual_sd = 0;       // root mean squared one-step error over the history
};

// Fits the series (oldest first; at least 3 values). Level and trend start from a least-squares line
// through the first few values.
HoltFit fit_holt(const std::vector<double>& series);

// One-step forecasts of `held_out` by the fitted model, updating its state with each actual value but not
// re-choosing alpha and beta. Returns the forecasts, one per held-out value.
std::vector<double> holt_one_step(HoltFit fit, const std::vector<double>& held_out);

struct ForecastOptions {
  double interval_s = 0;  // bucket width; 0: 1 s, narrower when the history is short (see below)
  double z = 1.645;       // peak = forecast + z x residual sd (1.645: one-sided 95% for normal errors)
  double holdout = 0.2;   // fraction of the intervals held out for the backtest
};

// The history needs kMinArrivals arrivals and, once bucketed, kMinIntervals whole intervals. With the
// default interval, a history spanning less than kTargetIntervals seconds is cut into kTargetIntervals.
constexpr std::size_t kMinArrivals = 20;
constexpr std::size_t kMinIntervals = 10;
constexpr std::size_t kTargetIntervals = 30;
constexpr std::size_t kMaxIntervals = 100000;  // longer histories get wider intervals

struct LoadForecast {
  std::size_t arrivals = 0;
  double interval_s = 1;
  std::size_t intervals = 0;
  double mean_rps = 0;      // over the intervals
  HoltFit fit;              // in requests/s per interval
  double forecast_rps = 0;  // the next interval (never below 0)
  // What to plan for: the forecast plus z residual sds. The one-step residuals measure how far an interval
  // strays from the smoothed trend (Poisson noise, bursts), so the peak covers ~95% of next intervals.
  double peak_rps = 0;
  double z = 0;
  // Backtest: fitted on the first (1 - holdout) of the intervals, each held-out interval forecast one step
  // ahead. MAPE over the held-out intervals with arrivals; RMSE divided by their mean rate.
  std::size_t backtest_intervals = 0;
  double backtest_mape = 0;
  double backtest_rmse_rel = 0;

  std::string describe() const;  // one line, for notes
};

// Throws std::invalid_argument saying how much history is needed when there is too little.
LoadForecast forecast_load(const std::vector<double>& sorted_arrivals, const ForecastOptions& options = {});

}  // namespace conveyor::plan
