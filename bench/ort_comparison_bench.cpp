// conveyor's executor against ONNX Runtime (onnxruntime-node, CPU, all graph optimisations) on the same
// models, threads, batch and synthetic inputs, rounds alternating between the two so that drift hits both
// alike. Prints each engine's median ms per run, the ratio ORT / conveyor (>= 1: conveyor is at least as
// fast), conveyor's GFLOP/s and its fraction of this machine's FMA peak measured in the same run, and for
// each model run at 1 and 2 threads the speedups of both engines and of a perfectly parallel reference
// kernel.
//   scripts/setup_ort_bench.sh && bench/export_zoo.py ~/.cache/conveyor/zoo      (once)
//   build/bench/ort_comparison_bench [--zoo DIR] [--models a,b] [--threads 1,2] [--batch 1,8] [--rounds R]
//                                    [--seconds S]
// Run from anywhere; the ORT runner is bench/ort/run_model.js of this source tree.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "conveyor/api/runtime.hpp"
#include "conveyor/graph/cost.hpp"
#include "parallel_reference.hpp"
#include "runtime/thread_pinning.hpp"

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

struct Options {
  fs::path zoo = fs::path(std::getenv("HOME") ? std::getenv("HOME") : ".") / ".cache/conveyor/zoo";
  std::vector<std::string> models;  // empty: every .onnx in the zoo
  std::vector<int> threads{1, 2};
  std::vector<int> batches{1, 8};
  int rounds = 3;
  double seconds = 1.0;  // per engine and round: runs enough to fill it (at least 3)
};

std::vector<std::string> split(const std::string& text) {
  std::vector<std::string> parts;
  std::stringstream in(text);
  for (std::string part; std::getline(in, part, ',');)
    if (!part.empty()) parts.push_back(part);
  return parts;
}

std::vector<int> numbers(const std::string& text) {
  std::vector<int> values;
  for (const auto& part : split(text)) values.push_back(std::max(1, std::stoi(part)));
  return values;
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values.empty() ? 0 : values[(values.size() - 1) / 2];
}

std::string quoted(const std::string& text) {
  return "'" + text + "'";
}

// The calling thread (and the OpenMP team it starts) on cores 0 .. threads-1, where ORT's rounds run too.
void pin_to_first_cores(int threads) {
  std::vector<int> cores;
  for (int c = 0; c < threads; ++c) cores.push_back(c);
  conveyor::pin_current_thread(cores, threads);
}

// One ORT round in a child process on the same cores; its own warm-up, then `runs` timed runs.
std::vector<double> ort_round(const fs::path& model, int threads, int batch, int warmup, int runs) {
  const std::string command =
      fmt::format("taskset -c 0-{} node {} {} --threads {} --warmup {} --runs {} --dim batch={} 2>&1",
                  threads - 1, quoted((fs::path(CONVEYOR_SOURCE_DIR) / "bench/ort/run_model.js").string()),
                  quoted(model.string()), threads, warmup, runs, batch);
  FILE* pipe = popen(command.c_str(), "r");
  if (!pipe) throw std::runtime_error("cannot start node");
  std::string out;
  char buffer[4096];
  while (std::fgets(buffer, sizeof buffer, pipe)) out += buffer;
  if (pclose(pipe) != 0) throw std::runtime_error("ONNX Runtime: " + out);
  return nlohmann::json::parse(out)["ms"].get<std::vector<double>>();
}

struct Row {
  double conveyor_ms = 0, ort_ms = 0, gflops = 0;
};

Row compare(conveyor::Runtime& runtime, const fs::path& model, int threads, int batch, const Options& o) {
  pin_to_first_cores(threads);
  conveyor::ModelOptions options;
  options.threads = threads;
  options.dims["batch"] = batch;
  conveyor::Model compiled = runtime.load_model(model, options);
  const std::vector<conveyor::Tensor> inputs = compiled.synthetic_inputs();
  // Runs per round from one timed run, so that a round takes about o.seconds.
  const auto start = Clock::now();
  compiled.run(inputs);
  const double first_ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
  const int runs = std::clamp(static_cast<int>(o.seconds * 1e3 / std::max(first_ms, 1e-3)), 3, 1000);
  const int warmup = std::max(1, runs / 5);
  std::vector<double> ours, theirs;
  for (int round = 0; round < o.rounds; ++round) {
    for (int i = 0; i < warmup; ++i) compiled.run(inputs);
    for (int i = 0; i < runs; ++i) {
      const auto t0 = Clock::now();
      compiled.run(inputs);
      ours.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    }
    for (double ms : ort_round(model, threads, batch, warmup, runs)) theirs.push_back(ms);
  }
  Row row;
  row.conveyor_ms = median(ours);
  row.ort_ms = median(theirs);
  row.gflops = conveyor::graph_cost(compiled.graph()).flops / 1e9;
  return row;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string arg = argv[i], value = argv[i + 1];
    if (arg == "--zoo")
      o.zoo = value;
    else if (arg == "--models")
      o.models = split(value);
    else if (arg == "--threads")
      o.threads = numbers(value);
    else if (arg == "--batch")
      o.batches = numbers(value);
    else if (arg == "--rounds")
      o.rounds = std::max(1, std::stoi(value));
    else if (arg == "--seconds")
      o.seconds = std::stod(value);
    else {
      std::fprintf(stderr, "unknown option %s\n", arg.c_str());
      return 2;
    }
  }
  if (o.models.empty() && fs::is_directory(o.zoo))
    for (const auto& entry : fs::directory_iterator(o.zoo))
      if (entry.path().extension() == ".onnx") o.models.push_back(entry.path().stem().string());
  std::sort(o.models.begin(), o.models.end());
  if (o.models.empty()) {
    std::fprintf(stderr, "no models in %s: run bench/export_zoo.py %s first\n", o.zoo.c_str(), o.zoo.c_str());
    return 1;
  }

  conveyor::Runtime runtime;
  std::map<int, double> peak;  // threads -> FMA GFLOP/s
  for (int t : o.threads) {
    pin_to_first_cores(t);
    peak[t] = conveyor::bench::fma_peak_gflops(t);
  }
  std::printf("%s; FMA peak (register-only kernel, this run):", runtime.topology().describe().c_str());
  for (const auto& [t, gflops] : peak) std::printf(" %d thread%s %.0f GFLOP/s", t, t > 1 ? "s" : "", gflops);
  std::printf(
      "\nmedian ms per run over %d alternating rounds; ratio = ORT / conveyor (>= 1.00: conveyor as "
      "fast)\n\n",
      o.rounds);
  std::printf("%-20s %5s %7s %12s %10s %7s %9s %7s\n", "model", "batch", "threads", "conveyor ms", "ORT ms",
              "ratio", "GFLOP/s", "of peak");
  int below = 0, rows = 0;
  for (const auto& name : o.models) {
    const fs::path model = o.zoo / (name + ".onnx");
    for (int batch : o.batches) {
      std::map<int, Row> by_threads;
      for (int t : o.threads) {
        try {
          const Row row = compare(runtime, model, t, batch, o);
          by_threads[t] = row;
          const double ratio = row.ort_ms / row.conveyor_ms;
          const double gflop_per_s = row.gflops / (row.conveyor_ms / 1e3);
          ++rows;
          below += ratio < 1.0;
          std::printf("%-20s %5d %7d %12.3f %10.3f %7.2f %9.1f %6.0f%%%s\n", name.c_str(), batch, t,
                      row.conveyor_ms, row.ort_ms, ratio, gflop_per_s, 100 * gflop_per_s / peak[t],
                      ratio < 1.0 ? "  below" : "");
        } catch (const std::exception& e) {
          std::printf("%-20s %5d %7d failed: %s\n", name.c_str(), batch, t, e.what());
        }
        std::fflush(stdout);
      }
      if (by_threads.count(1) && by_threads.count(2))
        std::printf("%-20s %5d   1->2 speedup: conveyor %.2fx, ORT %.2fx, reference kernel %.2fx\n",
                    name.c_str(), batch, by_threads[1].conveyor_ms / by_threads[2].conveyor_ms,
                    by_threads[1].ort_ms / by_threads[2].ort_ms, peak[2] / peak[1]);
    }
  }
  std::printf("\n%d of %d rows below 1.00\n", below, rows);
  return 0;
}
