#include "conveyor/plan/load_forecast.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "conveyor/plan/arrival_history.hpp"

namespace conveyor::plan {
namespace {

using ::testing::HasSubstr;

// Arrivals whose rate grows linearly, r(t) = r0 + slope x t: the k-th arrives when the expected count
// r0 t + slope t^2 / 2 reaches k.
std::vector<double> linear_trend(double r0, double slope, double seconds, double start = 1.7e9) {
  std::vector<double> t;
  for (int k = 0;; ++k) {
    const double at = (-r0 + std::sqrt(r0 * r0 + 2 * slope * k)) / slope;
    if (at >= seconds) break;
    t.push_back(start + at);
  }
  return t;
}

std::vector<double> steady(double rate, double seconds, double start = 1.7e9) {
  std::vector<double> t;
  for (int k = 0; k / rate < seconds; ++k) t.push_back(start + k / rate);
  return t;
}

std::vector<double> poisson(double rate, double seconds, uint64_t seed, double start = 1.7e9) {
  std::mt19937_64 rng(seed);
  std::exponential_distribution<double> gap(rate);
  std::vector<double> t;
  for (double at = gap(rng); at < seconds; at += gap(rng)) t.push_back(start + at);
  return t;
}

TEST(LoadForecast, LinearTrendIsRecoveredAndBacktestsWell) {
  // 50 req/s growing by 2 req/s every second, for 60 s.
  const LoadForecast f = forecast_load(linear_trend(50, 2, 60));
  EXPECT_DOUBLE_EQ(f.interval_s, 1);
  EXPECT_EQ(f.intervals, 59u);  // the partial last second is dropped
  EXPECT_NEAR(f.fit.trend, 2, 0.3);
  // The next interval, [59, 60): 50 x 60 + 60^2 - (50 x 59 + 59^2) = 169 arrivals.
  EXPECT_NEAR(f.forecast_rps, 169, 169 * 0.02);
  EXPECT_GE(f.peak_rps, f.forecast_rps);
  EXPECT_LT(f.backtest_mape, 0.02);
  EXPECT_LT(f.backtest_rmse_rel, 0.02);
  EXPECT_EQ(f.backtest_intervals, 12u);  // 20% of 59
}

TEST(LoadForecast, ConstantPoissonRateIsForecastNearTheRate) {
  const LoadForecast f = forecast_load(poisson(80, 300, 7));
  EXPECT_NEAR(f.mean_rps, 80, 80 * 0.05);
  EXPECT_NEAR(f.forecast_rps, 80, 80 * 0.15);
  EXPECT_NEAR(f.fit.trend, 0, 0.5);
  // Per-second counts of a Poisson stream at 80/s vary by about sqrt(80) = 9: the peak sits above.
  EXPECT_GT(f.peak_rps, f.forecast_rps + 5);
  EXPECT_LT(f.peak_rps, f.forecast_rps + 30);
  EXPECT_LT(f.backtest_mape, 0.25);
}

TEST(LoadForecast, ShortHistoryGetsNarrowerIntervals) {
  const LoadForecast f = forecast_load(poisson(200, 3, 3));
  EXPECT_NEAR(f.interval_s, 0.1, 0.01);
  EXPECT_GE(f.intervals, kMinIntervals);
  EXPECT_NEAR(f.forecast_rps, 200, 200 * 0.3);
}

TEST(LoadForecast, TooShortHistorySaysHowMuchIsNeeded) {
  try {
    forecast_load({1, 2, 3, 4, 5});
    FAIL() << "expected an error";
  } catch (const std::invalid_argument& e) {
    EXPECT_THAT(e.what(), HasSubstr("5 arrival(s)"));
    EXPECT_THAT(e.what(), HasSubstr("at least 20"));
  }
  ForecastOptions seconds;
  seconds.interval_s = 1;
  try {
    forecast_load(poisson(10, 5, 1), seconds);
    FAIL() << "expected an error";
  } catch (const std::invalid_argument& e) {
    EXPECT_THAT(e.what(), HasSubstr("at least 10"));
  }
  EXPECT_THROW(fit_holt({1, 2}), std::invalid_argument);
}

TEST(LoadForecast, RunsAreForecastWithoutTheGapsBetweenThem) {
  // Two 30 s runs at 100 req/s an hour apart: the hour between them is not a lull.
  std::vector<double> arrivals = steady(100, 30);
  for (double t : steady(100, 30, 1.7e9 + 3600)) arrivals.push_back(t);
  EXPECT_EQ(split_runs(arrivals).size(), 2u);
  EXPECT_NEAR(mean_recorded_rate(arrivals), 100, 0.5);
  const LoadForecast f = forecast_load(arrivals);
  EXPECT_NEAR(f.mean_rps, 100, 1);
  EXPECT_NEAR(f.forecast_rps, 100, 2);
}

TEST(LoadForecast, HoltOneStepTracksAnExactLine) {
  std::vector<double> line;
  for (int t = 0; t < 20; ++t) line.push_back(10 + 3 * t);
  const HoltFit fit = fit_holt(line);
  EXPECT_NEAR(fit.level, 10 + 3 * 19, 1e-6);
  EXPECT_NEAR(fit.trend, 3, 1e-6);
  EXPECT_NEAR(fit.residual_sd, 0, 1e-6);
  const std::vector<double> next = holt_one_step(fit, {70, 73});
  ASSERT_EQ(next.size(), 2u);
  EXPECT_NEAR(next[0], 70, 1e-6);
  EXPECT_NEAR(next[1], 73, 1e-6);
}

TEST(ArrivalHistory, CsvWithHeaderCommentsAndExtraColumns) {
  const std::vector<double> t =
      parse_arrivals_csv("timestamp,route\n# a comment\n1700000002.5,/a\n\n1700000001.25,/b\n", "in.csv");
  ASSERT_EQ(t.size(), 2u);
  EXPECT_DOUBLE_EQ(t[0], 1700000001.25);
  EXPECT_DOUBLE_EQ(t[1], 1700000002.5);
}

TEST(ArrivalHistory, CsvErrorsNameTheFileAndLine) {
  try {
    parse_arrivals_csv("t\n1.5\nsoon\n", "arrivals.csv");
    FAIL() << "expected an error";
  } catch (const std::invalid_argument& e) {
    EXPECT_THAT(e.what(), HasSubstr("arrivals.csv:3"));
    EXPECT_THAT(e.what(), HasSubstr("'soon'"));
  }
  EXPECT_THROW(parse_arrivals_csv("1\n-2\n", "x.csv"), std::invalid_argument);
  EXPECT_THROW(read_arrivals_csv("/nonexistent/arrivals.csv"), std::invalid_argument);
}

std::string csv_error(const std::string& text) {
  try {
    parse_arrivals_csv(text, "a.csv");
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  ADD_FAILURE() << "no error for: " << text;
  return "";
}

TEST(ArrivalHistory, CsvWithoutArrivalsSaysWhatIsWrongWithIt) {
  EXPECT_EQ(csv_error(""),
            "a.csv: the arrivals file is empty; it needs arrival times (unix seconds), one a line");
  EXPECT_EQ(csv_error("timestamp\n"),
            "a.csv: the arrivals file has no arrival times (unix seconds, one a line): only a header line "
            "'timestamp'");
  EXPECT_EQ(csv_error("\n\n# note\n"),
            "a.csv: the arrivals file has no arrival times (unix seconds, one a line): only blank or comment "
            "lines");
}

TEST(ArrivalHistory, CsvErrorsEscapeBinaryBytesAndKeepWhatFollowsANul) {
  const std::string text = std::string("time\n\xff\xfe", 7) + std::string(1, '\0') + "abc\n1700000000\n";
  EXPECT_EQ(csv_error(text),
            "a.csv:2: '\\xff\\xfe\\x00abc' is not an arrival time (unix seconds, e.g. 1718000000.25)");
  const std::string long_header(100000, '1');  // too large a number to be one: read as the header
  EXPECT_EQ(csv_error(long_header + "\n"),
            "a.csv: the arrivals file has no arrival times (unix seconds, one a line): only a header line '" +
                std::string(60, '1') + "...'");
}

TEST(ArrivalHistory, ADirectoryIsNotAnArrivalsFile) {
  try {
    read_arrivals_csv(::testing::TempDir());
    FAIL() << "expected an error";
  } catch (const std::invalid_argument& e) {
    EXPECT_THAT(e.what(), HasSubstr("is a directory, not an arrivals file"));
  }
}

TEST(ArrivalHistory, IntervalRatesDropThePartialLastInterval) {
  const std::vector<double> rates = interval_rates({0, 0.2, 0.4, 1.1, 2.5}, 1);
  ASSERT_EQ(rates.size(), 2u);
  EXPECT_DOUBLE_EQ(rates[0], 3);
  EXPECT_DOUBLE_EQ(rates[1], 1);
  EXPECT_THROW(mean_recorded_rate({5}), std::invalid_argument);
}

}  // namespace
}  // namespace conveyor::plan
