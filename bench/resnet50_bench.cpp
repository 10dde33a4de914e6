// ResNet-50 (or any single-input CNN .onnx) on conveyor's engine vs OpenCV DNN, at 1 and 2 threads, in
// one process. Prints median ms, GFLOP/s and the ratios, and the 2-thread speedup of a perfectly parallel
// reference kernel (as many parallel regions as the model has steps) timed in the same rounds: what the
// machine itself gives thread scaling while the benchmark runs.
//   resnet50_bench [model.onnx] [--iters N] [--no-opencv]
// Without a model path it writes ResNet-50 with the zoo (when the zoo is built in) to a temporary file.
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <opencv2/core.hpp>
#include <opencv2/dnn.hpp>
#include <string>
#include <vector>

#include "conveyor/engine/compiled_model.hpp"
#include "conveyor/graph/cost.hpp"
#include "conveyor/graph/onnx_import.hpp"
#include "parallel_reference.hpp"
#if __has_include("conveyor/graph/zoo.hpp")
#include "conveyor/graph/zoo.hpp"
#define CONVEYOR_HAVE_ZOO 1
#endif

namespace {

using Clock = std::chrono::steady_clock;

}  // namespace

int main(int argc, char** argv) {
  std::string path;
  int iters = 20;
  bool with_opencv = true;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--iters" && i + 1 < argc) iters = std::max(1, std::atoi(argv[++i]));
    else if (arg == "--no-opencv") with_opencv = false;
    else path = arg;
  }
  if (path.empty()) {
#ifdef CONVEYOR_HAVE_ZOO
    path = (std::filesystem::temp_directory_path() / "conveyor_bench_resnet50.onnx").string();
    conveyor::zoo::write("resnet50", {}, path);
#else
    std::fprintf(stderr, "usage: %s model.onnx [--iters N] [--no-opencv]\n", argv[0]);
    return 2;
#endif
  }
  try {
    const conveyor::Graph graph = conveyor::load_onnx(path);
    if (graph.inputs.size() != 1) throw std::runtime_error("the benchmark needs a model with one input");
    const conveyor::Value& in = graph.value(graph.inputs[0]);
    const double gflop = conveyor::graph_cost(graph).flops / 1e9;
    conveyor::Tensor input(conveyor::DType::kFloat32, in.shape);
    uint32_t s = 1;
    for (float& v : input.values<float>()) {
      s = s * 1664525u + 1013904223u;
      v = static_cast<float>(s >> 8) / static_cast<float>(1u << 24) - 0.5f;
    }
    cv::Mat blob(static_cast<int>(in.shape.size()), std::vector<int>(in.shape.begin(), in.shape.end()).data(), CV_32F,
                 input.raw());
    // --no-opencv: conveyor's thread scaling alone, with no other engine's threads in the process.
    cv::dnn::Net net;
    try {
      if (with_opencv) net = cv::dnn::readNetFromONNX(path);
    } catch (const cv::Exception& e) {
      std::printf("OpenCV DNN cannot load the model (%s); timing conveyor only\n", e.what());
    }
    const bool have_opencv = !net.empty();
    std::printf("model %s: %s, %.2f GFLOP, %zu nodes after optimisation\n", path.c_str(),
                conveyor::shape_str(in.shape).c_str(), gflop, graph.nodes.size());

    // Both thread counts and both engines are measured in interleaved rounds, so drift from other load on
    // the machine hits all four alike; medians over the rounds.
    conveyor::CompiledModel one = conveyor::CompiledModel::compile(graph, conveyor::EngineOptions{1});
    conveyor::CompiledModel two = conveyor::CompiledModel::compile(graph, conveyor::EngineOptions{2});
    std::printf("engine: %zu steps (%zu oneDNN, %zu reference, %zu reorders), arena %.1f MiB (%.1f MiB unplanned)\n",
                one.stats().steps, one.stats().dnnl_steps, one.stats().reference_steps, one.stats().reorders,
                static_cast<double>(one.stats().arena_bytes) / 1048576.0,
                static_cast<double>(one.stats().unplanned_bytes) / 1048576.0);
    std::vector<conveyor::Tensor> out;
    cv::Mat cv_out;
    auto time_ms = [](auto&& fn) {
      const auto t0 = Clock::now();
      fn();
      return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    };
    auto run_opencv = [&](int threads) {
      cv::setNumThreads(threads);
      net.setInput(blob);
      cv_out = net.forward();
    };
    const int regions = static_cast<int>(one.stats().steps);
    int64_t ideal_iterations = 0;
    std::vector<double> samples[6];  // conveyor 1, conveyor 2, OpenCV 1, OpenCV 2, ideal 1, ideal 2
    for (int round = -2; round < iters; ++round) {  // two warm-up rounds
      const double c1 = time_ms([&] { out = one.run({input}); });
      const double c2 = time_ms([&] { out = two.run({input}); });
      const double o1 = have_opencv ? time_ms([&] { run_opencv(1); }) : 0.0;
      const double o2 = have_opencv ? time_ms([&] { run_opencv(2); }) : 0.0;
      if (round == -1) ideal_iterations = conveyor::bench::calibrate_ideal_iterations(regions, c1);
      if (round < 0) continue;
      samples[0].push_back(c1);
      samples[1].push_back(c2);
      samples[2].push_back(o1);
      samples[3].push_back(o2);
      samples[4].push_back(conveyor::bench::ideal_parallel_ms(1, regions, ideal_iterations));
      samples[5].push_back(conveyor::bench::ideal_parallel_ms(2, regions, ideal_iterations));
    }
    double med[6], best[6];
    for (int k = 0; k < 6; ++k) {
      std::sort(samples[k].begin(), samples[k].end());
      med[k] = samples[k][samples[k].size() / 2];
      best[k] = samples[k].front();
    }
    double max_diff = 0;
    if (have_opencv) {
      const float* a = out[0].data<float>();
      const auto* b = reinterpret_cast<const float*>(cv_out.data);
      for (int64_t i = 0; i < std::min<int64_t>(out[0].numel(), static_cast<int64_t>(cv_out.total())); ++i)
        max_diff = std::max(max_diff, static_cast<double>(std::fabs(a[i] - b[i])));
    }
    for (int t = 0; t < 2; ++t) {
      std::printf("threads %d: conveyor %.2f ms (%.1f GFLOP/s)", t + 1, med[t], gflop / med[t] * 1e3);
      if (have_opencv)
        std::printf(" | OpenCV DNN %.2f ms (%.1f GFLOP/s) | OpenCV/conveyor %.2fx", med[2 + t],
                    gflop / med[2 + t] * 1e3, med[2 + t] / med[t]);
      std::printf("\n");
    }
    std::printf("2-thread speedup: conveyor %.2fx", med[0] / med[1]);
    if (have_opencv) std::printf(", OpenCV DNN %.2fx; max |conveyor - OpenCV| = %.3g", med[2] / med[3], max_diff);
    std::printf("\n");
    // Other load on the machine only ever adds time, so the fastest rounds are the closest to what the
    // hardware gives when quiet.
    std::printf(
        "reference (a perfectly parallel kernel, %d regions, %.1f ms on 1 thread): 2-thread speedup %.2fx "
        "median, %.2fx fastest rounds\n",
        regions, med[4], med[4] / med[5], best[4] / best[5]);
    std::printf("conveyor: 2-thread speedup %.2fx median, %.2fx fastest rounds; %.2f of the reference's\n",
                med[0] / med[1], best[0] / best[1], (med[0] / med[1]) / (med[4] / med[5]));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "resnet50_bench: %s\n", e.what());
    return 1;
  }
  return 0;
}
