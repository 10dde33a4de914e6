// Per-node thread scaling of a compiled model: each node's fastest ms at 1 and 2 threads and what it costs
// against ideal scaling, worst first. Shows where a model's 2-thread speedup is lost.
//   node_scaling_bench model.onnx [--runs N] [--top K]
#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "conveyor/engine/compiled_model.hpp"
#include "conveyor/engine/node_timing.hpp"
#include "conveyor/graph/onnx_import.hpp"

int main(int argc, char** argv) {
  std::string path;
  int runs = 10;
  std::size_t top = 25;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--runs" && i + 1 < argc)
      runs = std::max(1, std::atoi(argv[++i]));
    else if (arg == "--top" && i + 1 < argc)
      top = static_cast<std::size_t>(std::max(1, std::atoi(argv[++i])));
    else
      path = arg;
  }
  if (path.empty()) {
    std::fprintf(stderr, "usage: %s model.onnx [--runs N] [--top K]\n", argv[0]);
    return 2;
  }
  try {
    const conveyor::Graph graph = conveyor::load_onnx(path);
    const auto inputs = conveyor::synthetic_inputs(graph);
    conveyor::CompiledModel one = conveyor::CompiledModel::compile(graph, conveyor::EngineOptions{1});
    conveyor::CompiledModel two = conveyor::CompiledModel::compile(graph, conveyor::EngineOptions{2});
    std::vector<double> t1(graph.nodes.size(), 0.0), t2(graph.nodes.size(), 0.0);
    // Interleaved single-run profiles, so drift hits both thread counts alike; the fastest run per node, as
    // other load on the machine only ever adds time.
    std::vector<std::vector<double>> s1(graph.nodes.size()), s2(graph.nodes.size());
    one.profile_nodes(inputs, 1);
    two.profile_nodes(inputs, 1);
    for (int r = 0; r < runs; ++r) {
      const auto a = one.profile_nodes(inputs, 1);
      const auto b = two.profile_nodes(inputs, 1);
      for (std::size_t n = 0; n < a.size(); ++n) {
        s1[n].push_back(a[n]);
        s2[n].push_back(b[n]);
      }
    }
    double sum1 = 0, sum2 = 0;
    for (std::size_t n = 0; n < graph.nodes.size(); ++n) {
      std::sort(s1[n].begin(), s1[n].end());
      std::sort(s2[n].begin(), s2[n].end());
      t1[n] = s1[n].front();
      t2[n] = s2[n].front();
      sum1 += t1[n];
      sum2 += t2[n];
    }
    std::vector<std::size_t> order(graph.nodes.size());
    for (std::size_t n = 0; n < order.size(); ++n) order[n] = n;
    std::sort(order.begin(), order.end(),
              [&](std::size_t a, std::size_t b) { return t2[a] - t1[a] / 2 > t2[b] - t1[b] / 2; });
    std::printf("%-5s %-28s %-22s %9s %9s %8s %9s\n", "node", "name", "op", "1 thr ms", "2 thr ms", "speedup",
                "lost ms");
    for (std::size_t k = 0; k < std::min(top, order.size()); ++k) {
      const std::size_t n = order[k];
      std::printf("%-5zu %-28.28s %-22.22s %9.3f %9.3f %7.2fx %9.3f\n", n, graph.nodes[n].name.c_str(),
                  graph.nodes[n].op_type.c_str(), t1[n], t2[n], t2[n] > 0 ? t1[n] / t2[n] : 0.0,
                  t2[n] - t1[n] / 2);
    }
    std::printf(
        "sum of nodes: 1 thread %.2f ms, 2 threads %.2f ms, speedup %.2fx (ideal 2 threads %.2f ms)\n", sum1,
        sum2, sum1 / sum2, sum1 / 2);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "node_scaling_bench: %s\n", e.what());
    return 1;
  }
  return 0;
}
