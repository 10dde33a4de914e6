// ResNet-50 (or any single-input CNN .onnx) on conveyor's engine vs OpenCV DNN, at 1 and 2 threads, in
// one process. Prints median ms, GFLOP/s and the ratios.
//   resnet50_bench [model.onnx] [--iters N]
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
#if __has_include("conveyor/graph/zoo.hpp")
#include "conveyor/graph/zoo.hpp"
#define CONVEYOR_HAVE_ZOO 1
#endif

namespace {

using Clock = std::chrono::steady_clock;

template <typename Fn>
double median_ms(int iters, Fn&& fn) {
  fn();  // warm-up
  fn();
  std::vector<double> ms;
  for (int i = 0; i < iters; ++i) {
    const auto t0 = Clock::now();
    fn();
    ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
  }
  std::sort(ms.begin(), ms.end());
  return ms[ms.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  std::string path;
  int iters = 20;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--iters" && i + 1 < argc) iters = std::max(1, std::atoi(argv[++i]));
    else path = arg;
  }
  if (path.empty()) {
#ifdef CONVEYOR_HAVE_ZOO
    path = (std::filesystem::temp_directory_path() / "conveyor_bench_resnet50.onnx").string();
    conveyor::zoo::write("resnet50", {}, path);
#else
    std::fprintf(stderr, "usage: %s model.onnx [--iters N]\n", argv[0]);
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
    cv::dnn::Net net;
    try {
      net = cv::dnn::readNetFromONNX(path);
    } catch (const cv::Exception& e) {
      std::printf("OpenCV DNN cannot load the model (%s); timing conveyor only\n", e.what());
    }
    const bool have_opencv = !net.empty();
    std::printf("model %s: %s, %.2f GFLOP, %zu nodes after optimisation\n", path.c_str(),
                conveyor::shape_str(in.shape).c_str(), gflop, graph.nodes.size());

    double conveyor_ms[3] = {0, 0, 0}, opencv_ms[3] = {0, 0, 0};
    double max_diff = 0;
    for (int threads : {1, 2}) {
      conveyor::CompiledModel model = conveyor::CompiledModel::compile(graph, conveyor::EngineOptions{threads});
      std::vector<conveyor::Tensor> out;
      conveyor_ms[threads] = median_ms(iters, [&] { out = model.run({input}); });
      if (have_opencv) {
        cv::setNumThreads(threads);
        cv::Mat cv_out;
        opencv_ms[threads] = median_ms(iters, [&] {
          net.setInput(blob);
          cv_out = net.forward();
        });
        const float* a = out[0].data<float>();
        const auto* b = reinterpret_cast<const float*>(cv_out.data);
        for (int64_t i = 0; i < std::min<int64_t>(out[0].numel(), static_cast<int64_t>(cv_out.total())); ++i)
          max_diff = std::max(max_diff, static_cast<double>(std::fabs(a[i] - b[i])));
      }
      if (threads == 1)
        std::printf("engine: %zu steps (%zu oneDNN, %zu reference, %zu reorders), arena %.1f MiB (%.1f MiB unplanned)\n",
                    model.stats().steps, model.stats().dnnl_steps, model.stats().reference_steps, model.stats().reorders,
                    static_cast<double>(model.stats().arena_bytes) / 1048576.0,
                    static_cast<double>(model.stats().unplanned_bytes) / 1048576.0);
      std::printf("threads %d: conveyor %.2f ms (%.1f GFLOP/s) | OpenCV DNN %.2f ms (%.1f GFLOP/s) | OpenCV/conveyor %.2fx\n",
                  threads, conveyor_ms[threads], gflop / conveyor_ms[threads] * 1e3, opencv_ms[threads],
                  gflop / opencv_ms[threads] * 1e3, opencv_ms[threads] / conveyor_ms[threads]);
    }
    std::printf("2-thread speedup: conveyor %.2fx, OpenCV DNN %.2fx; max |conveyor - OpenCV| = %.3g\n",
                conveyor_ms[1] / conveyor_ms[2], opencv_ms[1] / opencv_ms[2], max_diff);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "resnet50_bench: %s\n", e.what());
    return 1;
  }
  return 0;
}
