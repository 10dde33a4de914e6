// The BERT-style encoder (zoo "bert_encoder": float32 hidden states in, L transformer layers, no embeddings)
// on conveyor's engine vs OpenCV DNN 4.6 (fusion off: with fusion on it mis-computes q@kᵀ/√d), at 1 and 2
// threads, in one process and interleaved rounds. Prints median ms, GFLOP/s, the ratios and the largest
// difference between the two outputs. "cores busy" is process CPU time over wall time while each engine
// ran: it shows how many threads each really kept busy (spin-waiting team members count).
//   bert_bench [--iters N] [--layers L] [--hidden H] [--heads A] [--seq S] [--batch B] [--seed K]
// (defaults: 20 rounds, 4 layers, hidden 256, 4 heads, seq 128, batch 1).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <opencv2/core.hpp>
#include <opencv2/dnn.hpp>
#include <string>
#include <vector>

#include "conveyor/engine/compiled_model.hpp"
#include "conveyor/graph/cost.hpp"
#include "conveyor/graph/onnx_import.hpp"
#include "conveyor/graph/zoo.hpp"

namespace {

using Clock = std::chrono::steady_clock;

int usage(const char* program) {
  std::fprintf(
      stderr,
      "usage: %s [--iters N] [--layers L] [--hidden H] [--heads A] [--seq S] [--batch B] [--seed K]\n",
      program);
  return 2;
}

double median(std::vector<double> samples) {
  std::sort(samples.begin(), samples.end());
  return samples[samples.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  conveyor::zoo::ZooOptions options;  // defaults: 4 layers, hidden 256, 4 heads, seq 128
  options.seed = 1;
  int iters = 20;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (i + 1 >= argc) return usage(argv[0]);
    const int value = std::atoi(argv[++i]);
    if (arg == "--iters")
      iters = std::max(1, value);
    else if (arg == "--layers")
      options.layers = value;
    else if (arg == "--hidden")
      options.hidden = value;
    else if (arg == "--heads")
      options.heads = value;
    else if (arg == "--seq")
      options.seq_len = value;
    else if (arg == "--seed")
      options.seed = static_cast<uint64_t>(value);
    else if (arg == "--batch")
      options.batch = value;
    else
      return usage(argv[0]);
  }
  try {
    const std::string bytes = conveyor::zoo::serialize("bert_encoder", options);  // checker + shape inference
    const conveyor::Graph graph = conveyor::parse_onnx(bytes.data(), bytes.size());
    const double gflop = conveyor::graph_cost(graph).flops / 1e9;
    const conveyor::Shape shape{options.batch, options.seq_len, options.hidden};
    conveyor::Tensor input(conveyor::DType::kFloat32, shape);
    uint32_t s = 1;
    for (float& v : input.values<float>()) {  // uniform in [-1.7, 1.7): about unit variance, like embeddings
      s = s * 1664525u + 1013904223u;
      v = (static_cast<float>(s >> 8) / static_cast<float>(1u << 24) - 0.5f) * 3.46f;
    }
    const std::vector<int> cv_shape(shape.begin(), shape.end());
    cv::Mat blob(static_cast<int>(cv_shape.size()), cv_shape.data(), CV_32F, input.raw());

    cv::dnn::Net net;
    try {
      net = cv::dnn::readNetFromONNX(bytes.data(), bytes.size());
      net.setPreferableBackend(cv::dnn::DNN_BACKEND_OPENCV);
      net.setPreferableTarget(cv::dnn::DNN_TARGET_CPU);
      net.enableFusion(false);
      net.setInput(blob);
      net.forward();  // OpenCV 4.6 only broadcasts the LayerNorm statistics at batch 1
    } catch (const cv::Exception& e) {
      std::printf("OpenCV DNN cannot run the model (%s); timing conveyor only\n", e.what());
      net = cv::dnn::Net();
    }
    const bool have_opencv = !net.empty();
    std::printf(
        "bert_encoder: %d layers, hidden %d, %d heads, seq %d, batch %d: %.3f GFLOP, %zu nodes after "
        "optimisation\n",
        options.layers, options.hidden, options.heads, options.seq_len, options.batch, gflop,
        graph.nodes.size());

    conveyor::CompiledModel one = conveyor::CompiledModel::compile(graph, conveyor::EngineOptions{1});
    conveyor::CompiledModel two = conveyor::CompiledModel::compile(graph, conveyor::EngineOptions{2});
    std::printf("engine: %zu steps (%zu oneDNN, %zu reference, %zu reorders), arena %.1f MiB\n",
                one.stats().steps, one.stats().dnnl_steps, one.stats().reference_steps, one.stats().reorders,
                static_cast<double>(one.stats().arena_bytes) / 1048576.0);

    std::vector<conveyor::Tensor> out;
    cv::Mat cv_out;
    // Per engine and thread count (same order as the samples below): CPU time of the process and wall time.
    double cpu_ms[4] = {0, 0, 0, 0}, wall_ms[4] = {0, 0, 0, 0};
    auto cpu_now_ms = [] {
      timespec t{};
      clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
      return static_cast<double>(t.tv_sec) * 1e3 + static_cast<double>(t.tv_nsec) / 1e6;
    };
    auto time_ms = [&](int which, auto&& fn) {
      const double c0 = cpu_now_ms();
      const auto t0 = Clock::now();
      fn();
      const double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
      cpu_ms[which] += cpu_now_ms() - c0;
      wall_ms[which] += ms;
      return ms;
    };
    auto run_opencv = [&](int threads) {
      cv::setNumThreads(threads);
      net.setInput(blob);
      cv_out = net.forward();
    };
    // Both engines at both thread counts in interleaved rounds, so drift from other load on the machine
    // hits all four alike; medians over the rounds.
    std::vector<double> samples[4];                 // conveyor 1, conveyor 2, OpenCV 1, OpenCV 2
    for (int round = -2; round < iters; ++round) {  // two warm-up rounds
      const double c1 = time_ms(0, [&] { out = one.run({input}); });
      const double c2 = time_ms(1, [&] { out = two.run({input}); });
      const double o1 = have_opencv ? time_ms(2, [&] { run_opencv(1); }) : 0.0;
      const double o2 = have_opencv ? time_ms(3, [&] { run_opencv(2); }) : 0.0;
      if (round < 0) continue;
      samples[0].push_back(c1);
      samples[1].push_back(c2);
      samples[2].push_back(o1);
      samples[3].push_back(o2);
    }
    double med[4];
    for (int k = 0; k < 4; ++k) med[k] = median(samples[k]);

    double max_diff = 0, max_magnitude = 0;
    if (have_opencv) {
      if (static_cast<int64_t>(cv_out.total()) != out[0].numel())
        throw std::runtime_error("OpenCV's output has " + std::to_string(cv_out.total()) +
                                 " values, conveyor's " + std::to_string(out[0].numel()));
      const float* a = out[0].data<float>();
      const auto* b = reinterpret_cast<const float*>(cv_out.data);
      for (int64_t i = 0; i < out[0].numel(); ++i) {
        max_diff = std::max(max_diff, static_cast<double>(std::fabs(a[i] - b[i])));
        max_magnitude = std::max(max_magnitude, static_cast<double>(std::fabs(a[i])));
      }
    }
    for (int t = 0; t < 2; ++t) {
      std::printf("threads %d: conveyor %.2f ms (%.1f GFLOP/s, %.2f cores busy)", t + 1, med[t],
                  gflop / med[t] * 1e3, cpu_ms[t] / wall_ms[t]);
      if (have_opencv)
        std::printf(" | OpenCV DNN %.2f ms (%.1f GFLOP/s, %.2f cores busy) | OpenCV/conveyor %.2fx",
                    med[2 + t], gflop / med[2 + t] * 1e3, cpu_ms[2 + t] / wall_ms[2 + t],
                    med[2 + t] / med[t]);
      std::printf("\n");
    }
    std::printf("2-thread speedup: conveyor %.2fx", med[0] / med[1]);
    if (have_opencv)
      std::printf(", OpenCV DNN %.2fx; max |conveyor - OpenCV| = %.3g (outputs up to %.3g)", med[2] / med[3],
                  max_diff, max_magnitude);
    std::printf("\n");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bert_bench: %s\n", e.what());
    return 1;
  }
  return 0;
}
