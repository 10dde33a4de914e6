#include "conveyor/api/timeline_plot.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "api/gnuplot_process.hpp"

namespace conveyor {
namespace {

namespace fs = std::filesystem;

enum class PlotFormat { kSvg, kPng };

PlotFormat plot_format(const fs::path& file) {
  std::string extension = file.extension().string();
  std::transform(extension.begin(), extension.end(), extension.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  if (extension == ".svg") return PlotFormat::kSvg;
  if (extension == ".png") return PlotFormat::kPng;
  throw std::invalid_argument("plot file '" + file.string() + "': its name must end in .svg or .png, not '" +
                              extension + "'");
}

// A fresh folder under the system's temporary directory, removed with everything in it.
class TempFolder {
 public:
  TempFolder() {
    std::string pattern = (fs::temp_directory_path() / "conveyor-plot-XXXXXX").string();
    if (!::mkdtemp(pattern.data()))
      throw std::runtime_error("cannot create a temporary folder for the plot's data (" + pattern +
                               "): " + std::strerror(errno));
    path_ = pattern;
  }
  ~TempFolder() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  TempFolder(const TempFolder&) = delete;
  TempFolder& operator=(const TempFolder&) = delete;
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

// Text inside a gnuplot single-quoted string: a quote is doubled, line breaks would end the command.
std::string gnuplot_string(const std::string& text) {
  std::string out = "'";
  for (const char c : text) {
    if (c == '\'')
      out += "''";
    else if (c == '\n' || c == '\r')
      out += ' ';
    else
      out += c;
  }
  return out + "'";
}

class DataFile {
 public:
  explicit DataFile(fs::path path) : path_(std::move(path)), out_(path_) {
    if (!out_) throw std::runtime_error("cannot write the plot's data file '" + path_.string() + "'");
  }
  void row(double x, double y) { out_ << fmt::format("{:.9g} {:.9g}\n", x, y); }
  std::string name() const { return gnuplot_string(path_.string()); }

 private:
  fs::path path_;
  std::ofstream out_;
};

// Bins for the series over time: enough to see fill and drain, few enough that each holds about 20 requests.
std::size_t bin_count(std::size_t requests) {
  return std::clamp<std::size_t>(requests / 20, 1, 60);
}

const PredictedStage* predicted_stage(const std::optional<Predictions>& p, const Timeline& t, std::size_t s) {
  if (!p) return nullptr;
  for (const auto& stage : p->stages)
    if (stage.name == t.stages[s].name) return &stage;
  return p->stages.size() == t.stages.size() ? &p->stages[s] : nullptr;
}

std::string line_style(std::size_t series) {
  return fmt::format("lc {}", series + 1);
}

// A value for a key entry: whole above 100, else three significant digits.
std::string short_number(double value) {
  return value >= 100 ? fmt::format("{:.0f}", value) : fmt::format("{:.3g}", value);
}

// Dashed (simulator) and dotted (analytic) horizontal lines at predicted values; `what` starts their titles.
std::string predicted_lines(const std::string& style, double simulated, double analytic,
                            const std::string& what, const std::string& unit) {
  std::string out;
  if (std::isfinite(simulated) && simulated > 0)
    out += fmt::format(", {:.9g} with lines {} dt 2 lw 1.5 title {}", simulated, style,
                       gnuplot_string(what + "predicted (simulator) " + short_number(simulated) + unit));
  if (std::isfinite(analytic) && analytic > 0)
    out += fmt::format(", {:.9g} with lines {} dt 3 lw 1.5 title {}", analytic, style,
                       gnuplot_string(what + "predicted (analytic) " + short_number(analytic) + unit));
  return out;
}

std::string utilisation_panel(const Timeline& t, const std::optional<Predictions>& p, const fs::path& dir,
                              std::size_t bins, double span) {
  const double width = span / static_cast<double>(bins);
  std::string plot;
  for (std::size_t s = 0; s < t.stages.size(); ++s) {
    DataFile data(dir / fmt::format("utilisation_{}.dat", s));
    const auto busy = busy_fractions(t, s, bins, span);
    for (std::size_t b = 0; b < bins; ++b) data.row((static_cast<double>(b) + 0.5) * width, 100 * busy[b]);
    plot +=
        fmt::format("{}{} using 1:2 with linespoints {} lw 2 pt 7 ps 0.5 title {}", plot.empty() ? "" : ", ",
                    data.name(), line_style(s), gnuplot_string(t.stages[s].name));
    if (const PredictedStage* ps = predicted_stage(p, t, s))
      plot += predicted_lines(line_style(s), 100 * ps->simulated_utilization, 100 * ps->analytic_utilization,
                              t.stages[s].name + " ", "%");
  }
  return "set title 'stage utilisation: share of worker time serving'\n"
         "set ylabel 'busy %'\nset yrange [0:105]\nplot " +
         plot + "\n";
}

std::string queue_panel(const Timeline& t, const fs::path& dir, std::size_t bins, double span) {
  const double width = span / static_cast<double>(bins);
  auto write_means = [&](const std::string& file, const std::vector<TimelinePoint>& series) {
    DataFile data(dir / file);
    const auto means = mean_over_bins(series, bins, span);
    for (std::size_t b = 0; b < bins; ++b) data.row((static_cast<double>(b) + 0.5) * width, means[b]);
    return data.name();
  };
  std::string plot;
  for (std::size_t s = 0; s < t.stages.size(); ++s)
    plot +=
        fmt::format("{}{} using 1:2 with linespoints {} lw 2 pt 7 ps 0.5 title {}", plot.empty() ? "" : ", ",
                    write_means(fmt::format("queue_{}.dat", s), queue_depth_series(t, s)), line_style(s),
                    gnuplot_string("queue " + t.stages[s].name));
  plot += fmt::format(", {} using 1:2 with lines lc rgb '#404040' lw 1 title 'in flight'",
                      write_means("in_flight.dat", in_flight_series(t)));
  return fmt::format(
             "set title 'queue depth (waiting for a worker) and requests in flight, mean per {} ms'\n",
             short_number(width * 1e3)) +
         "set ylabel 'requests'\nset yrange [0:*]\nplot " + plot + "\n";
}

std::string throughput_panel(const Timeline& t, const std::optional<Predictions>& p, const fs::path& dir,
                             std::size_t bins, double span) {
  const double width = span / static_cast<double>(bins);
  DataFile data(dir / "throughput.dat");
  const auto counts = finished_counts(t, bins, span);
  for (std::size_t b = 0; b < bins; ++b)
    data.row((static_cast<double>(b) + 0.5) * width, static_cast<double>(counts[b]) / width);
  std::string plot = data.name() + " using 1:2 with linespoints lc 1 lw 2 pt 7 ps 0.5 title 'measured'";
  if (p)
    plot += predicted_lines("lc 2", p->simulated.throughput_rps, p->analytic.throughput_rps, "", " req/s");
  return "set title 'throughput: requests finished per second'\nset ylabel 'req/s'\nset yrange [0:*]\nplot " +
         plot + "\n";
}

std::string latency_panel(const Timeline& t, const std::optional<Predictions>& p, const fs::path& dir) {
  const auto ms = latencies_ms(t);
  std::string out =
      "set title 'latency distribution: submit to last stage, successful requests'\n"
      "set xlabel 'latency ms'\nset ylabel 'fraction of requests'\nset yrange [0:1.02]\nset xrange [0:*]\n";
  if (ms.empty())
    return out +
           "set xrange [0:1]\nset label 1 'no request succeeded' at graph 0.5,0.5 center\nplot NaN notitle\n";
  DataFile data(dir / "latency.dat");
  data.row(0, 0);
  for (std::size_t i = 0; i < ms.size(); ++i)
    data.row(ms[i], static_cast<double>(i + 1) / static_cast<double>(ms.size()));
  std::string plot = data.name() + " using 1:2 with steps lc 1 lw 2 title 'measured'";
  auto markers = [&](const std::string& file, const PredictedNumbers& n, const std::string& title,
                     int point) {
    DataFile marks(dir / file);
    bool any = false;
    for (const auto& [value, fraction] : {std::pair{n.p50_ms, 0.5}, std::pair{n.p99_ms, 0.99}})
      if (std::isfinite(value) && value > 0) {
        marks.row(value, fraction);
        any = true;
      }
    if (any)
      plot += fmt::format(", {} using 1:2 with points lc {} pt {} ps 1.6 title {}", marks.name(),
                          point == 7 ? 2 : 3, point, gnuplot_string(title));
  };
  if (p) {
    markers("predicted_simulated.dat", p->simulated, "predicted p50, p99 (simulator)", 7);
    markers("predicted_analytic.dat", p->analytic, "predicted p50, p99 (analytic)", 5);
  }
  return out + "plot " + plot + "\n";
}

std::string script(const Timeline& t, const std::optional<Predictions>& p, const fs::path& dir,
                   const fs::path& file, PlotFormat format) {
  const std::size_t bins = bin_count(t.requests.size());
  const double span = std::max(t.span_seconds(), 1e-3);
  std::string title = fmt::format("{}: {} requests over {:.3g} s", t.pipeline, t.requests.size(), span);
  if (t.dropped > 0)
    title += fmt::format(" (the first {}; {} later ones not kept)", t.requests.size(), t.dropped);
  if (p) title += " - predicted for " + p->workload;
  std::string s =
      format == PlotFormat::kSvg
          ? "set terminal svg size 1000,1400 dynamic noenhanced font 'sans,11' background '#ffffff'\n"
          : "set terminal pngcairo size 1000,1400 noenhanced font 'sans,10' background '#ffffff'\n";
  s += "set output " + gnuplot_string(fs::absolute(file).string()) + "\n";
  s += "set multiplot layout 4,1 title " + gnuplot_string(title) + "\n";
  // Fixed margins, so the panels' time axes line up whatever their keys' widths.
  s += "set key outside right top\nset grid\nset lmargin at screen 0.08\nset rmargin at screen 0.68\n";
  s += "set offsets 0, 0, graph 0.05, 0\n";  // headroom above autoscaled values (the in-flight line)
  s += fmt::format("set xrange [0:{:.9g}]\nset xlabel 'seconds since the first request'\n", span);
  s += utilisation_panel(t, p, dir, bins, span);
  s += queue_panel(t, dir, bins, span);
  s += throughput_panel(t, p, dir, bins, span);
  s += latency_panel(t, p, dir);
  return s + "unset multiplot\nset output\n";
}

}  // namespace

void check_plot_file(const fs::path& file) {
  plot_format(file);
  const fs::path folder = fs::absolute(file).parent_path();
  std::error_code ec;
  if (!fs::is_directory(folder, ec))
    throw std::invalid_argument("plot file '" + file.string() + "': no folder '" + folder.string() + "'");
  if (!find_gnuplot())
    throw std::runtime_error(
        "cannot plot '" + file.string() +
        "': gnuplot is not installed: install the Debian package gnuplot-nox (scripts/setup.sh)");
}

void plot_timeline(const Timeline& timeline, const std::optional<Predictions>& predicted,
                   const fs::path& file) {
  check_plot_file(file);
  if (timeline.requests.empty())
    throw std::invalid_argument("nothing to plot into '" + file.string() + "': no request was recorded");
  const TempFolder dir;
  const fs::path script_file = dir.path() / "plot.gp";
  {
    std::ofstream out(script_file);
    out << script(timeline, predicted, dir.path(), file, plot_format(file));
    if (!out) throw std::runtime_error("cannot write the gnuplot script '" + script_file.string() + "'");
  }
  try {
    run_gnuplot(script_file);
  } catch (const std::runtime_error& e) {
    throw std::runtime_error("plotting '" + file.string() + "': " + e.what());
  }
  std::error_code ec;
  if (fs::file_size(file, ec) == 0 || ec)
    throw std::runtime_error("plotting '" + file.string() + "': gnuplot wrote nothing there");
}

}  // namespace conveyor
