// Partitioning a graph into K pipeline stages and exporting the stages as ONNX models.
#include "conveyor/graph/partition.hpp"

#include <gtest/gtest.h>
#include <onnx/checker.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>
#include <opencv2/dnn.hpp>
#include <random>
#include <set>

#include "conveyor/engine/compiled_model.hpp"
#include "conveyor/graph/node_kernel.hpp"
#include "conveyor/graph/onnx_import.hpp"
#include "conveyor/graph/node_kernel.hpp"
#include "graph/onnx_model_builder.hpp"
#include "graph/segment_export_proto.hpp"
#include "graph/zoo/zoo_model.hpp"
#include "support/opencv_oracle.hpp"

namespace conveyor {
namespace {

using testing::ModelBuilder;
using testing::diamond_model;

// --- the chain problem against brute force --------------------------------------------------------------

double bottleneck_of(const std::vector<double>& cost, const std::vector<double>& entry,
                     const std::vector<int>& begins) {
  double worst = 0;
  for (std::size_t s = 0; s < begins.size(); ++s) {
    const int b = begins[s];
    const int e = s + 1 < begins.size() ? begins[s + 1] : static_cast<int>(cost.size());
    double stage = b > 0 ? entry[static_cast<std::size_t>(b)] : 0.0;
    for (int i = b; i < e; ++i) stage += cost[static_cast<std::size_t>(i)];
    worst = std::max(worst, stage);
  }
  return worst;
}

double transfer_of(const std::vector<double>& entry, const std::vector<int>& begins) {
  double sum = 0;
  for (std::size_t s = 1; s < begins.size(); ++s) sum += entry[static_cast<std::size_t>(begins[s])];
  return sum;
}

struct BruteForce {
  double bottleneck = std::numeric_limits<double>::infinity();
  double transfer = std::numeric_limits<double>::infinity();  // least among the optimal-bottleneck partitions
};

// Every way to place stages - 1 cuts among positions 1..n-1 that includes the pins.
BruteForce brute_force(const std::vector<double>& cost, const std::vector<double>& entry, int stages,
                       const std::vector<int>& pins) {
  const int n = static_cast<int>(cost.size());
  std::vector<std::vector<int>> partitions;
  for (uint32_t mask = 0; mask < (1u << (n - 1)); ++mask) {
    if (std::popcount(mask) != stages - 1) continue;
    std::vector<int> begins{0};
    for (int c = 1; c < n; ++c)
      if (mask & (1u << (c - 1))) begins.push_back(c);
    const bool honours_pins = std::all_of(pins.begin(), pins.end(), [&](int p) {
      return std::find(begins.begin(), begins.end(), p) != begins.end();
    });
    if (honours_pins) partitions.push_back(begins);
  }
  BruteForce best;
  for (const auto& begins : partitions)
    best.bottleneck = std::min(best.bottleneck, bottleneck_of(cost, entry, begins));
  for (const auto& begins : partitions)
    if (bottleneck_of(cost, entry, begins) <= best.bottleneck * (1 + 1e-12))
      best.transfer = std::min(best.transfer, transfer_of(entry, begins));
  return best;
}

TEST(SplitChain, MatchesBruteForceOnRandomChains) {
  std::mt19937 rng(12345);
  std::uniform_real_distribution<double> cost_dist(0.0, 10.0);
  int checked = 0;
  for (int trial = 0; trial < 400; ++trial) {
    const int n = 1 + static_cast<int>(rng() % 11);
    std::vector<double> cost(static_cast<std::size_t>(n)), entry(static_cast<std::size_t>(n));
    for (double& c : cost) c = cost_dist(rng);
    // Some instances with heavy transfers, so the entry cost decides the cut.
    const double transfer_scale = trial % 3 == 0 ? 8.0 : 1.0;
    for (double& e : entry) e = transfer_scale * cost_dist(rng) / 4.0;
    if (trial % 5 == 0) cost[rng() % cost.size()] = 0.0;  // zero-cost nodes
    const int stages = 1 + static_cast<int>(rng() % static_cast<unsigned>(n));
    std::vector<int> pins;
    if (n > 1 && stages > 1 && trial % 2 == 0) {
      const int count = static_cast<int>(rng() % static_cast<unsigned>(stages));  // at most stages - 1
      for (int k = 0; k < count; ++k)
        pins.push_back(1 + static_cast<int>(rng() % static_cast<unsigned>(n - 1)));
    }
    const ChainSplit split = split_chain(cost, entry, stages, pins);
    ASSERT_EQ(split.stage_begin.size(), static_cast<std::size_t>(stages));
    ASSERT_EQ(split.stage_begin.front(), 0);
    for (std::size_t s = 1; s < split.stage_begin.size(); ++s)
      ASSERT_LT(split.stage_begin[s - 1], split.stage_begin[s]) << "stages must be non-empty";
    for (int p : pins)
      EXPECT_NE(std::find(split.stage_begin.begin(), split.stage_begin.end(), p), split.stage_begin.end())
          << "pinned cut " << p << " ignored in trial " << trial;
    // The reported bottleneck is that of the returned cuts, and nothing beats it.
    EXPECT_NEAR(split.bottleneck, bottleneck_of(cost, entry, split.stage_begin), 1e-9);
    const BruteForce expected = brute_force(cost, entry, stages, pins);
    EXPECT_NEAR(split.bottleneck, expected.bottleneck, 1e-9) << "trial " << trial;
    EXPECT_NEAR(split.transfer, transfer_of(entry, split.stage_begin), 1e-9);
    EXPECT_NEAR(split.transfer, expected.transfer, 1e-9) << "trial " << trial;
    ++checked;
  }
  EXPECT_EQ(checked, 400);
}

TEST(SplitChain, EqualCostsSplitEvenly) {
  const std::vector<double> cost(12, 1.0), entry(12, 0.0);
  for (int k : {1, 2, 3, 4, 6, 12}) EXPECT_DOUBLE_EQ(split_chain(cost, entry, k).bottleneck, 12.0 / k) << k;
}

TEST(SplitChain, ForbiddenCutsAreNeverChosenUnlessRequired) {
  const std::vector<double> cost(4, 1.0), entry(4, 0.0);
  const ChainSplit free = split_chain(cost, entry, 2);
  EXPECT_EQ(free.stage_begin, (std::vector<int>{0, 2}));  // the balanced cut, before it is forbidden
  const ChainSplit around = split_chain(cost, entry, 2, {}, {2});
  EXPECT_NE(around.stage_begin[1], 2);
  EXPECT_DOUBLE_EQ(around.bottleneck, 3.0);
  EXPECT_EQ(split_chain(cost, entry, 2, {2}, {2}).stage_begin[1], 2) << "a pinned cut wins";
  try {
    split_chain(cost, entry, 2, {}, {1, 2, 3});
    FAIL() << "no cut is left";
  } catch (const GraphError& error) {
    EXPECT_NE(std::string(error.what()).find("kept together"), std::string::npos) << error.what();
  }
}

TEST(SplitChain, RefusesImpossibleRequestsClearly) {
  const std::vector<double> cost(4, 1.0), entry(4, 0.0);
  auto message = [&](int stages, const std::vector<int>& pins, const std::vector<double>& e) {
    try {
      split_chain(cost, e, stages, pins);
    } catch (const GraphError& error) {
      return std::string(error.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message(5, {}, entry).find("only 4 nodes"), std::string::npos);
  EXPECT_NE(message(0, {}, entry).find("stages must be >= 1"), std::string::npos);
  EXPECT_NE(message(2, {1, 2}, entry).find("2 pinned cuts need at least 3 stages"), std::string::npos);
  EXPECT_NE(message(2, {4}, entry).find("outside 1..3"), std::string::npos);
  EXPECT_NE(message(2, {}, {0.0}).find("1 entry costs"), std::string::npos);
  EXPECT_NE(message(2, {}, {0, 0, -1, 0}).find("not a finite non-negative"), std::string::npos);
  EXPECT_THROW(split_chain({}, {}, 1), GraphError);
}

// --- liveness on a hand-built branching graph
// ----------------------------------------------------------------

Graph parse(const std::string& bytes, bool optimize = true) {
  ImportOptions options;
  options.optimize = optimize;
  return parse_onnx(bytes.data(), bytes.size(), options);
}

int node_index(const Graph& graph, const std::string& name) {
  for (std::size_t i = 0; i < graph.nodes.size(); ++i)
    if (graph.nodes[i].name == name) return static_cast<int>(i);
  throw std::runtime_error("no node " + name);
}

TEST(Liveness, CountsActivationsCrossingEachCut) {
  const Graph g = parse(diamond_model().bytes());
  const std::vector<int> order = {node_index(g, "A"), node_index(g, "B"), node_index(g, "C"),
                                  node_index(g, "D")};
  const std::vector<double> live = live_bytes_at_cuts(g, order);
  ASSERT_EQ(live.size(), 4u);
  EXPECT_EQ(live[0], 0.0);
  EXPECT_EQ(live[1], 1024.0);      // a
  EXPECT_EQ(live[2], 2 * 1024.0);  // a (C still reads it), b
  EXPECT_EQ(live[3], 2 * 1024.0);  // b, c
}

TEST(Liveness, GraphInputsAndOutputsStayLiveUntilUsed) {
  // x is read by the last node as well, and the first node's result is a graph output.
  ModelBuilder b;
  b.input("x", {1, 64}).output("first").output("y");
  b.node("Relu", {"x"}, {"first"}, "A");
  b.node("Neg", {"first"}, {"n"}, "B");
  b.node("Add", {"n", "x"}, {"y"}, "C");
  const Graph g = parse(b.bytes());
  const std::vector<double> live =
      live_bytes_at_cuts(g, {node_index(g, "A"), node_index(g, "B"), node_index(g, "C")});
  EXPECT_EQ(live[1], 2 * 256.0);  // x, first
  EXPECT_EQ(live[2], 3 * 256.0);  // x, first (an output), n
}

TEST(Liveness, RejectsAnOrderThatIsNotTopological) {
  const Graph g = parse(diamond_model().bytes());
  const std::vector<int> wrong = {node_index(g, "B"), node_index(g, "A"), node_index(g, "C"),
                                  node_index(g, "D")};
  EXPECT_THROW(live_bytes_at_cuts(g, wrong), GraphError);
  EXPECT_THROW(live_bytes_at_cuts(g, {0, 1, 2}), GraphError);
}

// --- zoo models -------------------------------------------------------------------------------------------

zoo::ZooOptions zoo_options(const std::string& name) {
  zoo::ZooOptions options;
  options.image_size = 64;
  if (name == "bert") {
    options.layers = 2;
    options.hidden = 64;
    options.heads = 4;
    options.seq_len = 16;
    options.vocab = 100;
    options.classes = 3;
  }
  return options;
}

struct LoadedModel {
  onnx::ModelProto proto;
  std::string bytes;
  Graph graph;
  std::vector<double> cost_ms;
};

const LoadedModel& zoo_model(const std::string& name) {
  static std::map<std::string, LoadedModel> cache;
  auto it = cache.find(name);
  if (it == cache.end()) {
    LoadedModel m;
    m.proto = zoo::build(name, zoo_options(name));
    m.bytes = m.proto.SerializeAsString();
    m.graph = parse(m.bytes);
    m.cost_ms = analytic_node_cost_ms(m.graph);
    it = cache.emplace(name, std::move(m)).first;
  }
  return it->second;
}

bool is_topological(const Graph& g, const std::vector<int>& order) {
  std::vector<char> done(g.nodes.size(), 0);
  std::vector<int> producer(g.values.size(), -1);
  for (std::size_t i = 0; i < g.nodes.size(); ++i)
    for (int out : g.nodes[i].outputs)
      if (out >= 0) producer[static_cast<std::size_t>(out)] = static_cast<int>(i);
  for (int node : order) {
    if (node < 0 || static_cast<std::size_t>(node) >= g.nodes.size() || done[static_cast<std::size_t>(node)])
      return false;
    for (int in : g.nodes[static_cast<std::size_t>(node)].inputs)
      if (in >= 0 && producer[static_cast<std::size_t>(in)] >= 0 &&
          !done[static_cast<std::size_t>(producer[static_cast<std::size_t>(in)])])
        return false;
    done[static_cast<std::size_t>(node)] = 1;
  }
  return order.size() == g.nodes.size();
}

class ZooPartition : public ::testing::TestWithParam<std::string> {};

TEST_P(ZooPartition, CandidateOrdersAreTopological) {
  const Graph& g = zoo_model(GetParam()).graph;
  const auto orders = candidate_orders(g);
  ASSERT_GE(orders.size(), 1u);
  EXPECT_EQ(orders.front().name, "file");
  for (const NodeOrder& order : orders) EXPECT_TRUE(is_topological(g, order.nodes)) << order.name;
}

TEST_P(ZooPartition, StagesCoverTheGraphAndAreOptimalForTheirOrder) {
  const LoadedModel& m = zoo_model(GetParam());
  const Graph& g = m.graph;
  const double gbps = 10;
  for (int k = 1; k <= 8; ++k) {
    PartitionOptions options;
    options.stages = k;
    options.copy_bandwidth_gbps = gbps;
    const Partition p = partition_graph(g, m.cost_ms, options);
    ASSERT_EQ(p.stages.size(), static_cast<std::size_t>(k));
    ASSERT_TRUE(is_topological(g, p.order)) << p.order_name;
    // Consecutive, non-empty, covering every node once, in the partition's order.
    std::vector<int> concatenated;
    for (std::size_t s = 0; s < p.stages.size(); ++s) {
      const Stage& stage = p.stages[s];
      ASSERT_FALSE(stage.nodes.empty());
      EXPECT_EQ(stage.begin, s == 0 ? 0 : p.stages[s - 1].end);
      EXPECT_EQ(stage.first_node, g.nodes[static_cast<std::size_t>(stage.nodes.front())].name);
      concatenated.insert(concatenated.end(), stage.nodes.begin(), stage.nodes.end());
      EXPECT_FALSE(stage.outputs.empty()) << "stage " << s;
      if (s > 0) {
        EXPECT_FALSE(stage.inputs.empty()) << "stage " << s;
      }
    }
    EXPECT_EQ(concatenated, p.order);
    // Bottleneck: the slowest stage, at least the lower bound; and the exact optimum for the order kept.
    double slowest = 0, sum = 0;
    for (const Stage& stage : p.stages) {
      slowest = std::max(slowest, stage.cost_ms());
      sum += stage.cost_ms();
    }
    EXPECT_DOUBLE_EQ(p.bottleneck_ms, slowest);
    EXPECT_GE(p.bottleneck_ms, p.lower_bound_ms * (1 - 1e-12));
    EXPECT_GE(p.lower_bound_ms, p.mean_ms);
    EXPECT_GE(p.lower_bound_ms, p.max_node_ms);
    EXPECT_NEAR(p.balance, slowest / (sum / k), 1e-12);
    std::vector<double> ordered_cost;
    for (int node : p.order) ordered_cost.push_back(m.cost_ms[static_cast<std::size_t>(node)]);
    std::vector<double> entry = live_bytes_at_cuts(g, p.order);
    for (double& e : entry) e /= gbps * 1e6;
    EXPECT_NEAR(split_chain(ordered_cost, entry, k).bottleneck, p.bottleneck_ms, 1e-9 * p.bottleneck_ms);
    // Every order tried is reported, and none did better than the one kept.
    for (const OrderResult& tried : p.orders_tried)
      EXPECT_GE(tried.bottleneck_ms, p.bottleneck_ms * (1 - 1e-12));
    if (k == 1) {
      EXPECT_NEAR(p.bottleneck_ms, p.total_compute_ms, 1e-9 * p.total_compute_ms);
      EXPECT_DOUBLE_EQ(p.balance, 1.0);
    }
  }
}

TEST_P(ZooPartition, MoreStagesNeverRaiseTheBottleneck) {
  const LoadedModel& m = zoo_model(GetParam());
  double previous = std::numeric_limits<double>::infinity();
  for (int k = 1; k <= 8; ++k) {
    PartitionOptions options;
    options.stages = k;
    options.copy_bandwidth_gbps = 1e6;  // transfers free: pure load balancing
    const Partition p = partition_graph(m.graph, m.cost_ms, options);
    EXPECT_LE(p.bottleneck_ms, previous * (1 + 1e-12)) << "K=" << k;
    previous = p.bottleneck_ms;
  }
}

TEST_P(ZooPartition, EveryExportedStagePassesTheChecker) {
  const LoadedModel& m = zoo_model(GetParam());
  for (int k = 1; k <= 8; ++k) {
    PartitionOptions options;
    options.stages = k;
    const Partition p = partition_graph(m.graph, m.cost_ms, options);
    std::set<std::string> produced_names;
    for (const auto& in : m.proto.graph().input()) produced_names.insert(in.name());
    for (std::size_t s = 0; s < p.stages.size(); ++s) {
      const onnx::ModelProto stage = export_stage(m.proto, m.graph, p, s);
      EXPECT_NO_THROW(onnx::checker::check_model(stage)) << GetParam() << " K=" << k << " stage " << s;
      ASSERT_EQ(stage.graph().input_size(), static_cast<int>(p.stages[s].inputs.size()));
      ASSERT_EQ(stage.graph().output_size(), static_cast<int>(p.stages[s].outputs.size()));
      // Inputs come from earlier stages or the model's inputs.
      for (const auto& in : stage.graph().input())
        EXPECT_TRUE(produced_names.count(in.name()))
            << in.name() << " of stage " << s << " is produced by no earlier stage";
      for (const auto& out : stage.graph().output()) produced_names.insert(out.name());
    }
    for (const auto& out : m.proto.graph().output())
      EXPECT_TRUE(produced_names.count(out.name())) << "graph output " << out.name() << " lost at K=" << k;
  }
}

INSTANTIATE_TEST_SUITE_P(Zoo, ZooPartition, ::testing::Values("resnet50", "mobilenet_v2", "bert"),
                         [](const auto& param_info) { return param_info.param; });

// --- running the stages in order reproduces the model
// -------------------------------------------------------

using MatMap = std::map<std::string, cv::Mat>;

MatMap run_opencv(const onnx::ModelProto& model, const MatMap& available) {
  cv::dnn::Net net = conveyor::testing::load_in_opencv(conveyor::testing::opencv_compatible_bytes(model));
  for (const auto& in : model.graph().input()) net.setInput(available.at(in.name()), in.name());
  std::vector<std::string> names;
  for (const auto& out : model.graph().output()) names.push_back(out.name());
  std::vector<cv::Mat> results;
  net.forward(results, names);
  MatMap outputs;
  for (std::size_t i = 0; i < names.size(); ++i) outputs[names[i]] = results[i].clone();
  return outputs;
}

class ChainedCnn : public ::testing::TestWithParam<std::string> {};

TEST_P(ChainedCnn, StagesRunInOrderThroughOpenCvReproduceTheModel) {
  cv::setNumThreads(1);
  const LoadedModel& m = zoo_model(GetParam());
  cv::Mat image(std::vector<int>{1, 3, 64, 64}, CV_32F);
  cv::RNG(7).fill(image, cv::RNG::NORMAL, 0.0, 1.0);
  const cv::Mat whole = run_opencv(m.proto, {{"input", image}}).at("logits");
  double max_abs = 0;
  cv::minMaxLoc(cv::abs(whole.reshape(1, 1)), nullptr, &max_abs);
  ASSERT_GT(max_abs, 0.0);
  for (int k = 2; k <= 8; ++k) {
    PartitionOptions options;
    options.stages = k;
    const Partition p = partition_graph(m.graph, m.cost_ms, options);
    MatMap tensors{{"input", image}};
    for (std::size_t s = 0; s < p.stages.size(); ++s) {
      MatMap produced;
      ASSERT_NO_THROW(produced = run_opencv(export_stage(m.proto, m.graph, p, s), tensors))
          << GetParam() << " K=" << k << " stage " << s;
      tensors.insert(produced.begin(), produced.end());
    }
    ASSERT_TRUE(tensors.count("logits")) << "K=" << k;
    const double diff = cv::norm(tensors.at("logits").reshape(1, 1), whole.reshape(1, 1), cv::NORM_INF);
    EXPECT_LT(diff, 1e-4 * (1 + max_abs)) << GetParam() << " K=" << k;
  }
}

INSTANTIATE_TEST_SUITE_P(Zoo, ChainedCnn, ::testing::Values("resnet50", "mobilenet_v2"),
                         [](const auto& param_info) { return param_info.param; });

// A plain interpreter over the graph layer's reference kernels, for models OpenCV cannot run (BERT).
// The graph layer has no reference MatMul/Gemm (the engine runs them with oneDNN), so they are written here.
using TensorMap = std::map<std::string, Tensor>;

// Offset of the matrix at batch index `batch` (of the output's leading dims) in an operand of shape `shape`,
// whose leading dims broadcast against the output's from the right.
int64_t matrix_offset(const Shape& shape, const std::vector<int64_t>& batch) {
  const std::size_t lead = shape.size() - 2;
  int64_t offset = 0;
  for (std::size_t d = 0; d < lead; ++d) {
    const int64_t i = batch[batch.size() - lead + d];
    offset = offset * shape[d] + (shape[d] == 1 ? 0 : i);
  }
  return offset * shape[lead] * shape[lead + 1];
}

void run_matmul(const Tensor& a, const Tensor& b, Tensor& out) {
  if (a.rank() < 2 || b.rank() < 2) throw std::runtime_error("test MatMul handles rank >= 2 only");
  const int64_t m = a.shape()[a.rank() - 2], k = a.shape().back(), n = b.shape().back();
  const std::size_t lead = out.rank() - 2;
  std::vector<int64_t> batch(lead, 0);
  const int64_t batches = out.numel() / (m * n);
  for (int64_t t = 0; t < batches; ++t) {
    const float* pa = a.data<float>() + matrix_offset(a.shape(), batch);
    const float* pb = b.data<float>() + matrix_offset(b.shape(), batch);
    float* po = out.data<float>() + t * m * n;
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) {
        double acc = 0;
        for (int64_t q = 0; q < k; ++q) acc += static_cast<double>(pa[i * k + q]) * pb[q * n + j];
        po[i * n + j] = static_cast<float>(acc);
      }
    for (std::size_t d = lead; d-- > 0;) {
      if (++batch[d] < out.shape()[d]) break;
      batch[d] = 0;
    }
  }
}

void run_gemm(const Node& node, const Tensor& a, const Tensor& b, const Tensor* c, Tensor& out) {
  const bool ta = node.attrs.get_int("transA", 0) != 0, tb = node.attrs.get_int("transB", 0) != 0;
  const float alpha = node.attrs.get_float("alpha", 1.0f), beta = node.attrs.get_float("beta", 1.0f);
  const int64_t m = out.shape()[0], n = out.shape()[1], k = ta ? a.shape()[0] : a.shape()[1];
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      double acc = 0;
      for (int64_t q = 0; q < k; ++q)
        acc += static_cast<double>(a.data<float>()[ta ? q * m + i : i * k + q]) *
               b.data<float>()[tb ? j * k + q : q * n + j];
      double bias = 0;
      if (c) {  // broadcast from the right: [], [n], [1, n], [m, 1] or [m, n]
        const Shape& cs = c->shape();
        const int64_t rows = cs.size() == 2 ? cs[0] : 1, cols = cs.empty() ? 1 : cs.back();
        bias = c->data<float>()[(rows == 1 ? 0 : i) * cols + (cols == 1 ? 0 : j)];
      }
      out.data<float>()[i * n + j] = static_cast<float>(alpha * acc + beta * bias);
    }
}

TensorMap run_reference(const onnx::ModelProto& model, const TensorMap& available) {
  const std::string bytes = model.SerializeAsString();
  const Graph g = parse(bytes, /*optimize=*/false);
  std::vector<Tensor> values(g.values.size());
  for (std::size_t v = 0; v < g.values.size(); ++v)
    if (g.values[v].is_constant()) values[v] = g.values[v].constant;
  for (int in : g.inputs) {
    const Tensor& given = available.at(g.value(in).name);
    if (given.shape() != g.value(in).shape || given.dtype() != g.value(in).dtype)
      throw std::runtime_error("input " + g.value(in).name + " is " + given.describe());
    values[static_cast<std::size_t>(in)] = given;
  }
  for (const Node& node : g.nodes) {
    auto input = [&](std::size_t i) -> const Tensor& {
      return values[static_cast<std::size_t>(node.input(i))];
    };
    if (node.op_type == "MatMul" || node.op_type == "Gemm") {
      Tensor& out = values[static_cast<std::size_t>(node.output(0))];
      out = Tensor(g.value(node.output(0)).dtype, g.value(node.output(0)).shape);
      if (node.op_type == "MatMul")
        run_matmul(input(0), input(1), out);
      else
        run_gemm(node, input(0), input(1), node.input(2) >= 0 ? &input(2) : nullptr, out);
      continue;
    }
    const RefKernel kernel = make_node_kernel(g, node);
    std::vector<const void*> ins;
    for (int in : node.inputs) ins.push_back(in >= 0 ? values[static_cast<std::size_t>(in)].raw() : nullptr);
    std::vector<void*> outs;
    for (int out : node.outputs) {
      if (out < 0) {
        outs.push_back(nullptr);
        continue;
      }
      values[static_cast<std::size_t>(out)] = Tensor(g.value(out).dtype, g.value(out).shape);
      outs.push_back(values[static_cast<std::size_t>(out)].raw());
    }
    kernel(ins.data(), outs.data());
  }
  TensorMap outputs;
  for (int out : g.outputs) outputs[g.value(out).name] = values[static_cast<std::size_t>(out)];
  return outputs;
}

double max_abs_diff(const Tensor& a, const Tensor& b) {
  if (a.shape() != b.shape()) return std::numeric_limits<double>::infinity();
  double worst = 0;
  for (int64_t i = 0; i < a.numel(); ++i)
    worst = std::max(worst, static_cast<double>(std::abs(a.data<float>()[i] - b.data<float>()[i])));
  return worst;
}

TEST(ChainedBert, StagesRunInOrderThroughReferenceKernelsReproduceTheModel) {
  const LoadedModel& m = zoo_model("bert");
  const zoo::ZooOptions o = zoo_options("bert");
  const Shape tokens{1, o.seq_len};
  Tensor ids(DType::kInt64, tokens), mask(DType::kInt64, tokens), types(DType::kInt64, tokens);
  for (int64_t i = 0; i < o.seq_len; ++i) {
    ids.data<int64_t>()[i] = (i * 37 + 11) % o.vocab;
    mask.data<int64_t>()[i] = i < o.seq_len - 3 ? 1 : 0;  // padded tail
    types.data<int64_t>()[i] = i < o.seq_len / 2 ? 0 : 1;
  }
  const TensorMap inputs{{"input_ids", ids}, {"attention_mask", mask}, {"token_type_ids", types}};
  const TensorMap whole = run_reference(m.proto, inputs);
  for (int k = 2; k <= 8; ++k) {
    PartitionOptions options;
    options.stages = k;
    const Partition p = partition_graph(m.graph, m.cost_ms, options);
    TensorMap tensors = inputs;
    for (std::size_t s = 0; s < p.stages.size(); ++s) {
      TensorMap produced;
      ASSERT_NO_THROW(produced = run_reference(export_stage(m.proto, m.graph, p, s), tensors))
          << "K=" << k << " stage " << s;
      tensors.insert(produced.begin(), produced.end());
    }
    for (const auto& [name, expected] : whole) {
      ASSERT_TRUE(tensors.count(name)) << name << " K=" << k;
      EXPECT_LT(max_abs_diff(tensors.at(name), expected), 1e-5) << name << " K=" << k;
    }
  }
}

// The executor: every stage compiled on its own (from its exported file, optimised again) and run in order.
class ChainedEngine : public ::testing::TestWithParam<std::string> {};

TensorMap engine_inputs(const std::string& name) {
  if (name != "bert") {
    Tensor image(DType::kFloat32, {1, 3, 64, 64});
    cv::Mat view(std::vector<int>{1, 3, 64, 64}, CV_32F, image.raw());
    cv::RNG(11).fill(view, cv::RNG::NORMAL, 0.0, 1.0);
    return {{"input", image}};
  }
  const zoo::ZooOptions o = zoo_options("bert");
  Tensor ids(DType::kInt64, {1, o.seq_len}), mask(DType::kInt64, {1, o.seq_len}),
      types(DType::kInt64, {1, o.seq_len});
  for (int64_t i = 0; i < o.seq_len; ++i) {
    ids.data<int64_t>()[i] = (i * 13 + 5) % o.vocab;
    mask.data<int64_t>()[i] = i < o.seq_len - 2 ? 1 : 0;
    types.data<int64_t>()[i] = i % 2;
  }
  return {{"input_ids", ids}, {"attention_mask", mask}, {"token_type_ids", types}};
}

double max_abs(const Tensor& t) {
  double worst = 0;
  for (float v : t.values<float>()) worst = std::max(worst, static_cast<double>(std::abs(v)));
  return worst;
}

TEST_P(ChainedEngine, StagesCompiledSeparatelyReproduceTheWholeModel) {
  const LoadedModel& m = zoo_model(GetParam());
  EngineOptions one_thread;
  one_thread.threads = 1;
  const TensorMap inputs = engine_inputs(GetParam());
  const TensorMap whole = CompiledModel::compile(m.graph, one_thread).run(inputs);
  for (int k : {2, 3, 5, 8}) {
    PartitionOptions options;
    options.stages = k;
    const Partition p = partition_graph(m.graph, m.cost_ms, options);
    TensorMap tensors = inputs;
    for (std::size_t s = 0; s < p.stages.size(); ++s) {
      const std::string bytes = export_stage(m.proto, m.graph, p, s).SerializeAsString();
      CompiledModel stage = CompiledModel::compile(parse(bytes), one_thread);
      TensorMap feed;
      for (const TensorSpec& spec : stage.inputs()) feed[spec.name] = tensors.at(spec.name);
      const TensorMap produced = stage.run(feed);
      tensors.insert(produced.begin(), produced.end());
    }
    for (const auto& [name, expected] : whole) {
      ASSERT_TRUE(tensors.count(name)) << name << " K=" << k;
      EXPECT_LT(max_abs_diff(tensors.at(name), expected), 1e-4 * (1 + max_abs(expected)))
          << GetParam() << " " << name << " K=" << k;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Zoo, ChainedEngine, ::testing::Values("resnet50", "mobilenet_v2", "bert"),
                         [](const auto& param_info) { return param_info.param; });

// --- pins and errors
// ----------------------------------------------------------------------------------------

std::string partition_error(const Graph& g, const std::vector<double>& cost, int stages,
                            const std::vector<std::string>& pins) {
  PartitionOptions options;
  options.stages = stages;
  options.pinned_after = pins;
  try {
    partition_graph(g, cost, options);
  } catch (const GraphError& e) {
    return e.what();
  }
  return "no error";
}

TEST(PartitionPins, CutsFallRightAfterPinnedNodes) {
  const LoadedModel& m = zoo_model("resnet50");
  // Pin where the balanced cut would not go: right after the stem and after the second node of layer 3.
  const std::string early = m.graph.nodes[1].name;
  const std::string late = m.graph.nodes[m.graph.nodes.size() - 5].name;
  for (int k : {3, 4, 6}) {
    PartitionOptions options;
    options.stages = k;
    options.pinned_after = {late, early};
    const Partition p = partition_graph(m.graph, m.cost_ms, options);
    std::set<std::string> stage_ends;
    for (const Stage& s : p.stages) stage_ends.insert(s.last_node);
    EXPECT_TRUE(stage_ends.count(early)) << "K=" << k;
    EXPECT_TRUE(stage_ends.count(late)) << "K=" << k;
    PartitionOptions free = options;
    free.pinned_after.clear();
    EXPECT_GE(p.bottleneck_ms, partition_graph(m.graph, m.cost_ms, free).bottleneck_ms * (1 - 1e-12));
  }
}

TEST(PartitionKeptTogether, NoStageBeginsInsideAGroup) {
  const LoadedModel& m = zoo_model("resnet50");
  PartitionOptions options;
  // Every second node with the one after it: the free balanced cuts mostly fall inside some group.
  for (int node = 0; node + 1 < static_cast<int>(m.graph.nodes.size()); node += 2)
    options.kept_together.push_back({node, node + 1});
  for (int k : {2, 3, 5}) {
    options.stages = k;
    const Partition p = partition_graph(m.graph, m.cost_ms, options);
    for (const Stage& stage : p.stages) {
      const int first = stage.nodes.front();
      for (const auto& group : options.kept_together)
        EXPECT_FALSE(first == group[1] && std::find(stage.nodes.begin(), stage.nodes.end(), group[0]) == stage.nodes.end())
            << "K=" << k << ": a stage begins at node " << first << " without its group's first node";
    }
  }
  options.kept_together = {{0, static_cast<int>(m.graph.nodes.size())}};
  EXPECT_THROW(partition_graph(m.graph, m.cost_ms, options), GraphError) << "a node index out of range";
}

TEST(PartitionPins, OriginalNodeNamesMapToTheFoldedNode) {
  const LoadedModel& m = zoo_model("resnet50");
  // The stem's Conv -> BatchNormalization became one Conv node in the IR; the Relu stays a node of its own
  // (post-ops are fused by the engine when it compiles).
  std::string conv, bn, relu;
  for (const auto& node : m.proto.graph().node()) {
    if (node.op_type() == "Conv" && conv.empty()) conv = node.name();
    if (node.op_type() == "BatchNormalization" && bn.empty()) bn = node.name();
    if (node.op_type() == "Relu" && relu.empty()) relu = node.name();
  }
  ASSERT_FALSE(conv.empty() || bn.empty() || relu.empty());
  EXPECT_EQ(graph_node_for(m.proto, m.graph, conv), conv);
  EXPECT_EQ(graph_node_for(m.proto, m.graph, bn), conv);
  EXPECT_EQ(graph_node_for(m.proto, m.graph, relu), relu);
  EXPECT_THROW(graph_node_for(m.proto, m.graph, "no.such.node"), GraphError);
}

TEST(PartitionErrors, ImpossibleRequestsAreClearErrors) {
  const LoadedModel& m = zoo_model("mobilenet_v2");
  const Graph& g = m.graph;
  const int n = static_cast<int>(g.nodes.size());
  EXPECT_NE(partition_error(g, m.cost_ms, n + 1, {}).find("has only " + std::to_string(n) + " nodes"),
            std::string::npos);
  EXPECT_NE(partition_error(g, m.cost_ms, 0, {}).find("stages must be >= 1"), std::string::npos);
  const std::string a = g.nodes[3].name, b = g.nodes[7].name;
  EXPECT_NE(partition_error(g, m.cost_ms, 2, {a, b}).find("2 pinned cuts need at least 3 stages"),
            std::string::npos);
  EXPECT_NE(partition_error(g, m.cost_ms, 2, {"nonexistent"}).find("'nonexistent'"), std::string::npos);
  EXPECT_NE(partition_error(g, m.cost_ms, 2, {g.nodes.back().name}).find("last node"), std::string::npos);
  PartitionOptions options;
  options.stages = 2;
  EXPECT_THROW(partition_graph(g, std::vector<double>(3, 1.0), options), GraphError);
  options.orders = {"sideways"};
  EXPECT_THROW(partition_graph(g, m.cost_ms, options), GraphError);
  options.orders = {};
  options.copy_bandwidth_gbps = 0;
  EXPECT_THROW(partition_graph(g, m.cost_ms, options), GraphError);
  // K equal to the node count: one node per stage.
  options.copy_bandwidth_gbps = 10;
  options.stages = n;
  EXPECT_EQ(partition_graph(g, m.cost_ms, options).stages.size(), static_cast<std::size_t>(n));
}

// --- segment export details --------------------------------------------------------------------------------

TEST(SegmentExport, FoldedShapeArithmeticBecomesAnInitializer) {
  // Expand(mean over rows, Shape(a)): the Shape reads a tensor of the first stage; the second stage gets the
  // folded shape as an initializer rather than a dangling Shape node.
  ModelBuilder b;
  b.input("x", {1, 4, 8}).output("y");
  b.node("Relu", {"x"}, {"a"}, "A");
  auto& mean = b.node("ReduceMean", {"a"}, {"m"}, "M");
  ModelBuilder::attr(mean, "axes", std::vector<int64_t>{1});
  b.node("Shape", {"a"}, {"s"}, "S");
  b.node("Expand", {"m", "s"}, {"e"}, "E");
  b.node("Sigmoid", {"e"}, {"y"}, "Y");
  const Graph g = parse(b.bytes());
  ASSERT_EQ(g.nodes.size(), 4u) << g.summary();  // Shape folded
  const std::vector<double> cost(g.nodes.size(), 1.0);
  PartitionOptions options;
  options.stages = 2;
  options.pinned_after = {"M"};
  options.orders = {"file"};
  const Partition p = partition_graph(g, cost, options);
  ASSERT_EQ(p.stages[1].inputs.size(), 1u);
  EXPECT_EQ(p.stages[1].inputs[0].name, "m");
  const onnx::ModelProto second = export_stage(b.proto(), g, p, 1);
  ASSERT_EQ(second.graph().initializer_size(), 1);
  EXPECT_EQ(second.graph().initializer(0).name(), "s");
  for (const auto& node : second.graph().node()) EXPECT_NE(node.op_type(), "Shape");

  Tensor x = testing::random_tensor({1, 4, 8}, 3);
  const TensorMap whole = run_reference(b.proto(), {{"x", x}});
  TensorMap tensors{{"x", x}};
  for (std::size_t s = 0; s < 2; ++s) {
    const TensorMap produced = run_reference(export_stage(b.proto(), g, p, s), tensors);
    tensors.insert(produced.begin(), produced.end());
  }
  EXPECT_LT(max_abs_diff(tensors.at("y"), whole.at("y")), 1e-6);
}

TEST(SegmentExport, RefusesOutputsTheInputsCannotCompute) {
  ModelBuilder copy = diamond_model();
  const Graph g = parse(copy.bytes());
  try {
    export_segment(copy.proto(), g, {"b"}, {"y"}, "half");
    FAIL() << "expected GraphError";
  } catch (const GraphError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("segment 'half'"), std::string::npos) << message;
    EXPECT_NE(message.find("graph input 'x'"), std::string::npos) << message;
  }
  EXPECT_THROW(export_segment(copy.proto(), g, {"b", "c"}, {}, "none"), GraphError);
  EXPECT_THROW(export_segment(copy.proto(), g, {"nope"}, {"y"}, "bad"), GraphError);
  EXPECT_NO_THROW(export_segment(copy.proto(), g, {"b", "c"}, {"y"}, "tail"));
}

// --- cost helpers ----------------------------------------------------------------------------------------

TEST(AnalyticCost, ScalesWithThreadsAndRejectsBadOptions) {
  const LoadedModel& m = zoo_model("resnet50");
  AnalyticCostOptions two;
  two.threads = 2;
  const std::vector<double> one_thread = analytic_node_cost_ms(m.graph);
  const std::vector<double> two_threads = analytic_node_cost_ms(m.graph, two);
  ASSERT_EQ(one_thread.size(), m.graph.nodes.size());
  double sum1 = 0, sum2 = 0;
  for (std::size_t i = 0; i < one_thread.size(); ++i) {
    EXPECT_GT(one_thread[i], 0.0);
    EXPECT_LE(two_threads[i], one_thread[i]);
    sum1 += one_thread[i];
    sum2 += two_threads[i];
  }
  EXPECT_LT(sum2, 0.7 * sum1);
  AnalyticCostOptions bad;
  bad.threads = 0;
  EXPECT_THROW(analytic_node_cost_ms(m.graph, bad), GraphError);
  bad = {};
  bad.gemm_gflops_per_thread = -1;
  EXPECT_THROW(analytic_node_cost_ms(m.graph, bad), GraphError);
}

TEST(CopyBandwidth, MeasuresSomethingPlausible) {
  const double gbps = measure_copy_bandwidth_gbps(std::size_t{8} << 20, 2);
  EXPECT_GT(gbps, 0.1);
  EXPECT_LT(gbps, 10000.0);
  EXPECT_THROW(measure_copy_bandwidth_gbps(16, 1), GraphError);
}

// --- the CLI
// ------------------------------------------------------------------------------------------------

struct CommandOutput {
  int status;
  std::string out;
};

CommandOutput run_cli(const std::string& args) {
  const std::string command = std::string(CONVEYOR_BINARY) + " " + args + " 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  std::string text;
  char buffer[4096];
  while (std::size_t got = fread(buffer, 1, sizeof buffer, pipe)) text.append(buffer, got);
  const int status = pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, text};
}

TEST(SplitCommand, JsonPlanAndStageFiles) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::path(::testing::TempDir()) / ("conveyor_split_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const fs::path model = dir / "mobilenet_v2.onnx";
  zoo::write("mobilenet_v2", zoo_options("mobilenet_v2"), model.string());
  const CommandOutput run = run_cli("split " + model.string() + " --stages 3 --bandwidth 10 --json --out " +
                                    (dir / "stages").string());
  ASSERT_EQ(run.status, 0) << run.out;
  const nlohmann::json plan = nlohmann::json::parse(run.out);
  ASSERT_EQ(plan["stages"].size(), 3u);
  double slowest = 0;
  std::size_t nodes = 0;
  for (std::size_t i = 0; i < 3; ++i) {
    const auto& stage = plan["stages"][i];
    EXPECT_EQ(stage["index"], i);
    for (const char* key : {"first_node", "last_node", "nodes", "cost_ms", "inputs", "outputs"})
      EXPECT_TRUE(stage.contains(key)) << key;
    slowest = std::max(slowest, stage["cost_ms"].get<double>());
    nodes += stage["nodes"].get<std::size_t>();
    EXPECT_FALSE(stage["outputs"].empty());
    for (const auto& t : stage["outputs"]) EXPECT_GT(t["bytes"].get<std::size_t>(), 0u);
    const fs::path file = dir / "stages" / ("stage_" + std::to_string(i) + ".onnx");
    ASSERT_TRUE(fs::exists(file)) << file;
    EXPECT_NO_THROW(onnx::checker::check_model(file.string()));
  }
  EXPECT_EQ(nodes, zoo_model("mobilenet_v2").graph.nodes.size());
  EXPECT_DOUBLE_EQ(plan["bottleneck_ms"].get<double>(), slowest);
  EXPECT_GE(plan["balance"].get<double>(), 1.0);
  EXPECT_GE(plan["bottleneck_ms"].get<double>(), plan["lower_bound_ms"].get<double>());

  const CommandOutput text = run_cli("split " + model.string() + " --stages 2 --bandwidth 10 --measure 1");
  ASSERT_EQ(text.status, 0) << text.out;
  EXPECT_NE(text.out.find("balance"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("lower bound"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("measured (median of 1 runs"), std::string::npos) << text.out;

  const CommandOutput too_many = run_cli("split " + model.string() + " --stages 100000 --bandwidth 10");
  EXPECT_NE(too_many.status, 0);
  EXPECT_NE(too_many.out.find("100000 stages"), std::string::npos) << too_many.out;
  const CommandOutput bad_pin =
      run_cli("split " + model.string() + " --stages 2 --pin nowhere --bandwidth 10");
  EXPECT_NE(bad_pin.status, 0);
  EXPECT_NE(bad_pin.out.find("--pin nowhere"), std::string::npos) << bad_pin.out;
  fs::remove_all(dir);
}

}  // namespace
}  // namespace conveyor
