#pragma once
#include <filesystem>
#include <string>
#include <vector>

namespace conveyor::plan {

// A pipeline's request-arrival history (unix seconds) as a load: the runs it was recorded in, their mean
// rate, and per-interval rates for forecasting.

// Arrivals split where the gap between two is longer than max(kMinRunGap_s, 50 x the median gap): the
// store only sees arrivals while `run`/`bench` run, and the time between runs is not zero load.
constexpr double kMinRunGap_s = 10;
std::vector<std::vector<double>> split_runs(const std::vector<double>& sorted_arrivals);

// Requests per second while the pipeline was running: (arrivals - 1) / duration summed over the runs of at
// least two arrivals. Throws std::invalid_argument when no run has two arrivals.
double mean_recorded_rate(const std::vector<double>& sorted_arrivals);

// Each run cut into whole intervals of `interval_s` from its first arrival (a partial last interval is
// dropped), concatenated: requests/s per interval, oldest first.
std::vector<double> interval_rates(const std::vector<double>& sorted_arrivals, double interval_s);

// Seconds of history covered by the runs (sum of last - first).
double recorded_span_s(const std::vector<double>& sorted_arrivals);

// A CSV of arrival times: one unix time in seconds (a decimal number) per line, first column; an optional
// header line that is not a number; blank lines and lines starting with '#' are skipped. Returns them
// sorted. Errors (std::invalid_argument) name the file and the line, and say so when the file is empty,
// holds no arrival times, or (read_arrivals_csv) is not a regular file.
std::vector<double> parse_arrivals_csv(const std::string& text, const std::string& origin);
std::vector<double> read_arrivals_csv(const std::filesystem::path& file);

}  // namespace conveyor::plan
