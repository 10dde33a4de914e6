#include "conveyor/plan/arrival_history.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <sstream>
#include <stdexcept>

#include "printable_text.hpp"

namespace conveyor::plan {
namespace {

double median(std::vector<double> values) {
  const auto middle = values.begin() + static_cast<std::ptrdiff_t>(values.size() / 2);
  std::nth_element(values.begin(), middle, values.end());
  return *middle;
}

std::string trim(const std::string& text) {
  const auto first = text.find_first_not_of(" \t\r");
  if (first == std::string::npos) return "";
  return text.substr(first, text.find_last_not_of(" \t\r") - first + 1);
}

// The whole of `text` as a finite number, or false.
bool parse_number(const std::string& text, double& value) {
  if (text.empty()) return false;
  char* end = nullptr;
  value = std::strtod(text.c_str(), &end);
  return end == text.c_str() + text.size() && std::isfinite(value);
}

}  // namespace

std::vector<std::vector<double>> split_runs(const std::vector<double>& sorted_arrivals) {
  std::vector<std::vector<double>> runs;
  if (sorted_arrivals.empty()) return runs;
  double max_gap = kMinRunGap_s;
  if (sorted_arrivals.size() > 1) {
    std::vector<double> gaps;
    for (std::size_t i = 1; i < sorted_arrivals.size(); ++i)
      gaps.push_back(sorted_arrivals[i] - sorted_arrivals[i - 1]);
    max_gap = std::max(kMinRunGap_s, 50 * median(std::move(gaps)));
  }
  runs.push_back({sorted_arrivals.front()});
  for (std::size_t i = 1; i < sorted_arrivals.size(); ++i) {
    if (sorted_arrivals[i] - sorted_arrivals[i - 1] > max_gap) runs.emplace_back();
    runs.back().push_back(sorted_arrivals[i]);
  }
  return runs;
}

double recorded_span_s(const std::vector<double>& sorted_arrivals) {
  double span = 0;
  for (const auto& run : split_runs(sorted_arrivals)) span += run.back() - run.front();
  return span;
}

double mean_recorded_rate(const std::vector<double>& sorted_arrivals) {
  double requests = 0, seconds = 0;
  for (const auto& run : split_runs(sorted_arrivals)) {
    if (run.size() < 2 || !(run.back() > run.front())) continue;
    requests += static_cast<double>(run.size() - 1);  // n arrivals span n - 1 gaps
    seconds += run.back() - run.front();
  }
  if (seconds <= 0)
    throw std::invalid_argument("the arrival history has " + std::to_string(sorted_arrivals.size()) +
                                " arrival(s) and no run of two or more: no rate can be measured");
  return requests / seconds;
}

std::vector<double> interval_rates(const std::vector<double>& sorted_arrivals, double interval_s) {
  if (!(interval_s > 0)) throw std::invalid_argument("the forecast interval must be > 0 s");
  std::vector<double> rates;
  for (const auto& run : split_runs(sorted_arrivals)) {
    const double start = run.front();
    const auto whole = static_cast<std::size_t>(std::floor((run.back() - start) / interval_s + 1e-9));
    std::vector<double> counts(whole, 0);
    for (double t : run) {
      const auto i = static_cast<std::size_t>(std::floor((t - start) / interval_s));
      if (i < whole) ++counts[i];
    }
    for (double c : counts) rates.push_back(c / interval_s);
  }
  return rates;
}

std::vector<double> parse_arrivals_csv(const std::string& text, const std::string& origin) {
  if (text.empty())
    throw std::invalid_argument(origin +
                                ": the arrivals file is empty; it needs arrival times (unix seconds), "
                                "one a line");
  std::istringstream in(text);
  std::vector<double> arrivals;
  std::optional<std::string> header;
  int line_number = 0;
  for (std::string line; std::getline(in, line);) {
    ++line_number;
    const std::string content = trim(line);
    if (content.empty() || content.front() == '#') continue;
    const std::string field = trim(content.substr(0, content.find(',')));
    double value = 0;
    if (!parse_number(field, value)) {
      if (!header && arrivals.empty()) {  // a header such as "timestamp"
        header = content;
        continue;
      }
      throw std::invalid_argument(origin + ":" + std::to_string(line_number) + ": '" + printable(field) +
                                  "' is not an arrival time (unix seconds, e.g. 1718000000.25)");
    }
    if (value < 0)
      throw std::invalid_argument(origin + ":" + std::to_string(line_number) + ": arrival time " + field +
                                  " is negative");
    arrivals.push_back(value);
  }
  if (arrivals.empty())
    throw std::invalid_argument(origin +
                                ": the arrivals file has no arrival times (unix seconds, one a line): " +
                                (header ? "only a header line '" + printable(*header) + "'"
                                        : std::string("only blank or comment lines")));
  std::sort(arrivals.begin(), arrivals.end());
  return arrivals;
}

std::vector<double> read_arrivals_csv(const std::filesystem::path& file) {
  std::error_code error;
  if (std::filesystem::is_directory(file, error))
    throw std::invalid_argument(file.string() + ": is a directory, not an arrivals file");
  if (std::filesystem::exists(file, error) && !std::filesystem::is_regular_file(file, error))
    throw std::invalid_argument(file.string() + ": is not a regular file, so not an arrivals file");
  std::ifstream in(file, std::ios::binary);
  if (!in) throw std::invalid_argument(file.string() + ": cannot open the arrivals file");
  std::ostringstream text;
  text << in.rdbuf();
  return parse_arrivals_csv(text.str(), file.string());
}

}  // namespace conveyor::plan
