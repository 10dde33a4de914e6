#include "conveyor/engine/compiled_model.hpp"

#include <gtest/gtest.h>
#include <omp.h>

#include <cmath>
#include <cstdlib>
#include <thread>

#include "conveyor/graph/onnx_import.hpp"
#include "graph/onnx_model_builder.hpp"

namespace conveyor {
namespace {

using testing::ModelBuilder;
using testing::random_tensor;

Graph parse(const ModelBuilder& b, bool optimize = true) {
  return testing::parse_model(b, optimize);
}

// --- naive references (NCHW, float) used as independent oracles --------------------------------------------

Tensor naive_conv(const Tensor& x, const Tensor& w, const Tensor* b, int stride, int pad, int group = 1) {
  const int64_t n = x.dim(0), c = x.dim(1), h = x.dim(2), wd = x.dim(3);
  const int64_t oc = w.dim(0), kh = w.dim(2), kw = w.dim(3), cg = c / group, og = oc / group;
  const int64_t oh = (h + 2 * pad - kh) / stride + 1, ow = (wd + 2 * pad - kw) / stride + 1;
  Tensor y(DType::kFloat32, {n, oc, oh, ow});
  const float* xp = x.data<float>();
  const float* wp = w.data<float>();
  float* yp = y.data<float>();
  for (int64_t b0 = 0; b0 < n; ++b0)
    for (int64_t o = 0; o < oc; ++o)
      for (int64_t i = 0; i < oh; ++i)
        for (int64_t j = 0; j < ow; ++j) {
          double acc = b ? b->data<float>()[o] : 0.0;
          const int64_t g = o / og;
          for (int64_t ci = 0; ci < cg; ++ci)
            for (int64_t u = 0; u < kh; ++u)
              for (int64_t v = 0; v < kw; ++v) {
                const int64_t yy = i * stride - pad + u, xx = j * stride - pad + v;
                if (yy < 0 || yy >= h || xx < 0 || xx >= wd) continue;
                acc += static_cast<double>(xp[((b0 * c + g * cg + ci) * h + yy) * wd + xx]) *
                       wp[((o * cg + ci) * kh + u) * kw + v];
              }
          yp[((b0 * oc + o) * oh + i) * ow + j] = static_cast<float>(acc);
        }
  return y;
}

void naive_relu(Tensor& t) {
  for (float& v : t.values<float>()) v = std::max(v, 0.0f);
}

void expect_close(const Tensor& got, const Tensor& want, float tol = 1e-4f) {
  ASSERT_EQ(got.shape(), want.shape());
  const float* g = got.data<float>();
  const float* w = want.data<float>();
  for (int64_t i = 0; i < want.numel(); ++i)
    ASSERT_NEAR(g[i], w[i], tol * (1.0f + std::fabs(w[i]))) << "element " << i;
}

// x -> Conv3x3(8) + BN -> Relu -> Conv3x3(8) + bias -> Add(x') -> Relu, where x' = Conv1x1(x):
// exercises BN folding, bias, residual sum (in place) and ReLU post-ops, in oneDNN's blocked layouts.
ModelBuilder residual_block(Tensor& w1, Tensor& w2, Tensor& b2, Tensor& w3) {
  ModelBuilder b;
  b.input("x", {1, 4, 9, 9}).output("y");
  w1 = random_tensor({8, 4, 3, 3}, 1, 0.3f);
  w2 = random_tensor({8, 8, 3, 3}, 2, 0.3f);
  b2 = random_tensor({8}, 3);
  w3 = random_tensor({8, 4, 1, 1}, 4);
  b.initializer("w1", w1).initializer("w2", w2).initializer("b2", b2).initializer("w3", w3);
  b.initializer("scale", Tensor::from<float>({8}, std::vector<float>(8, 2.0f)));
  b.initializer("shift", Tensor::from<float>({8}, std::vector<float>(8, 0.5f)));
  b.initializer("mean", Tensor::from<float>({8}, std::vector<float>(8, 0.0f)));
  b.initializer("var", Tensor::from<float>({8}, std::vector<float>(8, 1.0f)));
  ModelBuilder::attr(b.node("Conv", {"x", "w1"}, {"c1"}), "pads", std::vector<int64_t>{1, 1, 1, 1});
  ModelBuilder::attr(b.node("BatchNormalization", {"c1", "scale", "shift", "mean", "var"}, {"bn"}), "epsilon",
                     0.0f);
  b.node("Relu", {"bn"}, {"r1"});
  ModelBuilder::attr(b.node("Conv", {"r1", "w2", "b2"}, {"c2"}), "pads", std::vector<int64_t>{1, 1, 1, 1});
  b.node("Conv", {"x", "w3"}, {"skip"});
  b.node("Add", {"c2", "skip"}, {"sum"});
  b.node("Relu", {"sum"}, {"y"});
  return b;
}

Tensor residual_block_reference(const Tensor& x, const Tensor& w1, const Tensor& w2, const Tensor& b2,
                                const Tensor& w3) {
  Tensor c1 = naive_conv(x, w1, nullptr, 1, 1);
  for (float& v : c1.values<float>()) v = std::max(v * 2.0f + 0.5f, 0.0f);
  Tensor c2 = naive_conv(c1, w2, &b2, 1, 1);
  const Tensor skip = naive_conv(x, w3, nullptr, 1, 0);
  for (int64_t i = 0; i < c2.numel(); ++i) c2.data<float>()[i] += skip.data<float>()[i];
  naive_relu(c2);
  return c2;
}

TEST(CompiledModel, ResidualBlockMatchesNaiveConvolution) {
  Tensor w1, w2, b2, w3;
  const ModelBuilder b = residual_block(w1, w2, b2, w3);
  const Tensor x = random_tensor({1, 4, 9, 9}, 9);
  const Tensor want = residual_block_reference(x, w1, w2, b2, w3);
  for (bool optimize : {true, false})
    for (int threads : {1, 2}) {
      const Graph g = parse(b, optimize);
      if (optimize) {
        EXPECT_EQ(g.nodes.size(), 6u) << g.summary();  // the BatchNormalization folded into its conv
      }
      CompiledModel model = CompiledModel::compile(g, EngineOptions{threads});
      if (optimize) {
        EXPECT_EQ(model.stats().fused_chains, 2u);  // conv+relu, conv, conv+sum+relu
      }
      const auto out = model.run({x});
      SCOPED_TRACE(std::string("optimize=") + (optimize ? "1" : "0") + " threads=" + std::to_string(threads));
      expect_close(out[0], want);
      expect_close(model.run({x})[0], want);  // a second run reuses the same buffers
    }
}

// SqueezeNet's fire module: x -> Conv1x1 -> {Conv1x1, Conv3x3} -> Concat(channels) -> Conv1x1. Branches of
// `branch` channels: a multiple of the blocked layouts' 8 or 16 concatenates in the convolutions' layout.
void expect_fire_module_matches_naive(int64_t branch, std::size_t most_reorders) {
  ModelBuilder b;
  b.input("x", {1, 16, 8, 8}).output("y");
  const Tensor ws = random_tensor({16, 16, 1, 1}, 1, 0.3f), we1 = random_tensor({branch, 16, 1, 1}, 2, 0.3f),
               we3 = random_tensor({branch, 16, 3, 3}, 3, 0.2f),
               wo = random_tensor({16, 2 * branch, 1, 1}, 4, 0.2f);
  b.initializer("ws", ws).initializer("we1", we1).initializer("we3", we3).initializer("wo", wo);
  b.node("Conv", {"x", "ws"}, {"s"});
  b.node("Conv", {"s", "we1"}, {"e1"});
  ModelBuilder::attr(b.node("Conv", {"s", "we3"}, {"e3"}), "pads", std::vector<int64_t>{1, 1, 1, 1});
  ModelBuilder::attr(b.node("Concat", {"e1", "e3"}, {"cat"}), "axis", int64_t{1});
  b.node("Conv", {"cat", "wo"}, {"y"});
  const Tensor x = random_tensor({1, 16, 8, 8}, 5);

  const Tensor s = naive_conv(x, ws, nullptr, 1, 0);
  const Tensor e1 = naive_conv(s, we1, nullptr, 1, 0), e3 = naive_conv(s, we3, nullptr, 1, 1);
  Tensor cat(DType::kFloat32, {1, 2 * branch, 8, 8});
  std::copy(e1.data<float>(), e1.data<float>() + e1.numel(), cat.data<float>());
  std::copy(e3.data<float>(), e3.data<float>() + e3.numel(), cat.data<float>() + e1.numel());
  const Tensor want = naive_conv(cat, wo, nullptr, 1, 0);
  for (int threads : {1, 2}) {
    CompiledModel model = CompiledModel::compile(parse(b), EngineOptions{threads});
    SCOPED_TRACE("branch=" + std::to_string(branch) + " threads=" + std::to_string(threads));
    expect_close(model.run({x})[0], want);
    EXPECT_LE(model.stats().reorders, most_reorders) << model.describe();
  }
}

TEST(CompiledModel, ConcatOfConvolutionsStaysInTheirLayout) {
  // Only the input into and the output out of the blocked layout: no trip through plain at the concat.
  expect_fire_module_matches_naive(32, 2);
  // Branches that do not fill whole blocks are concatenated in plain layout, still right.
  expect_fire_module_matches_naive(12, 8);
}

TEST(CompiledModel, GroupedStridedConvPoolGemmMatchesNaive) {
  ModelBuilder b;
  b.input("x", {2, 4, 8, 8}).output("y");
  const Tensor w = random_tensor({8, 2, 3, 3}, 5, 0.5f);
  const Tensor fc = random_tensor({3, 8}, 6);
  const Tensor fcb = random_tensor({3}, 7);
  b.initializer("w", w).initializer("fc", fc).initializer("fcb", fcb);
  auto& conv = b.node("Conv", {"x", "w"}, {"c"});
  ModelBuilder::attr(conv, "group", int64_t{2});
  ModelBuilder::attr(conv, "strides", std::vector<int64_t>{2, 2});
  ModelBuilder::attr(conv, "pads", std::vector<int64_t>{1, 1, 1, 1});
  b.node("Relu", {"c"}, {"r"});
  b.node("GlobalAveragePool", {"r"}, {"p"});
  b.node("Flatten", {"p"}, {"f"});
  ModelBuilder::attr(b.node("Gemm", {"f", "fc", "fcb"}, {"y"}), "transB", int64_t{1});
  const Tensor x = random_tensor({2, 4, 8, 8}, 8);

  Tensor c = naive_conv(x, w, nullptr, 2, 1, 2);
  naive_relu(c);
  Tensor want(DType::kFloat32, {2, 3});
  for (int64_t n = 0; n < 2; ++n)
    for (int64_t o = 0; o < 3; ++o) {
      double acc = fcb.data<float>()[o];
      for (int64_t k = 0; k < 8; ++k) {
        double mean = 0;
        for (int64_t i = 0; i < 16; ++i) mean += c.data<float>()[(n * 8 + k) * 16 + i];
        acc += mean / 16.0 * fc.data<float>()[o * 8 + k];
      }
      want.data<float>()[n * 3 + o] = static_cast<float>(acc);
    }
  CompiledModel model = CompiledModel::compile(parse(b), EngineOptions{1});
  expect_close(model.run({x})[0], want);
}

// A transformer-style block with runtime int64 token ids: Gather (reference kernel), MatMul with fused
// bias, batched q@k^T, Softmax, LayerNormalization, checked against a naive computation.
TEST(CompiledModel, AttentionBlockMatchesNaive) {
  const int64_t seq = 5, hid = 8, vocab = 11;
  ModelBuilder b(17);
  b.input("ids", {1, seq}, DType::kInt64).output("y");
  const Tensor emb = random_tensor({vocab, hid}, 1);
  const Tensor wq = random_tensor({hid, hid}, 2, 0.5f), wk = random_tensor({hid, hid}, 3, 0.5f);
  const Tensor bq = random_tensor({hid}, 4);
  const Tensor gamma = random_tensor({hid}, 5), beta = random_tensor({hid}, 6);
  b.initializer("emb", emb).initializer("wq", wq).initializer("wk", wk).initializer("bq", bq);
  b.initializer("gamma", gamma).initializer("beta", beta);
  b.initializer("perm_shape", Tensor::from<int64_t>({3}, std::vector<int64_t>{1, seq, hid}));
  b.node("Gather", {"emb", "ids"}, {"e"});  // [1, seq, hid]
  b.node("MatMul", {"e", "wq"}, {"q0"});
  b.node("Add", {"q0", "bq"}, {"q"});
  b.node("MatMul", {"e", "wk"}, {"k"});
  ModelBuilder::attr(b.node("Transpose", {"k"}, {"kt"}), "perm", std::vector<int64_t>{0, 2, 1});
  b.node("MatMul", {"q", "kt"}, {"s"});  // [1, seq, seq]
  ModelBuilder::attr(b.node("Softmax", {"s"}, {"p"}), "axis", int64_t{-1});
  b.node("MatMul", {"p", "e"}, {"a"});  // [1, seq, hid]
  b.node("LayerNormalization", {"a", "gamma", "beta"}, {"y"});
  const std::vector<int64_t> ids = {3, 0, 10, 3, 7};
  const Tensor ids_t = Tensor::from<int64_t>({1, seq}, ids);

  auto at = [](const Tensor& t, int64_t r, int64_t c) {
    return static_cast<double>(t.data<float>()[r * t.dim(1) + c]);
  };
  std::vector<double> e(seq * hid), q(seq * hid), k(seq * hid), p(seq * seq), a(seq * hid);
  for (int64_t s = 0; s < seq; ++s)
    for (int64_t h = 0; h < hid; ++h) e[s * hid + h] = at(emb, ids[static_cast<std::size_t>(s)], h);
  for (int64_t s = 0; s < seq; ++s)
    for (int64_t h = 0; h < hid; ++h) {
      double aq = bq.data<float>()[h], ak = 0;
      for (int64_t i = 0; i < hid; ++i) {
        aq += e[s * hid + i] * at(wq, i, h);
        ak += e[s * hid + i] * at(wk, i, h);
      }
      q[s * hid + h] = aq;
      k[s * hid + h] = ak;
    }
  for (int64_t s = 0; s < seq; ++s) {
    double mx = -1e300, sum = 0;
    for (int64_t t = 0; t < seq; ++t) {
      double d = 0;
      for (int64_t h = 0; h < hid; ++h) d += q[s * hid + h] * k[t * hid + h];
      p[s * seq + t] = d;
      mx = std::max(mx, d);
    }
    for (int64_t t = 0; t < seq; ++t) sum += (p[s * seq + t] = std::exp(p[s * seq + t] - mx));
    for (int64_t t = 0; t < seq; ++t) p[s * seq + t] /= sum;
  }
  Tensor want(DType::kFloat32, {1, seq, hid});
  for (int64_t s = 0; s < seq; ++s) {
    double mean = 0, var = 0;
    for (int64_t h = 0; h < hid; ++h) {
      double acc = 0;
      for (int64_t t = 0; t < seq; ++t) acc += p[s * seq + t] * e[t * hid + h];
      a[s * hid + h] = acc;
      mean += acc / hid;
    }
    for (int64_t h = 0; h < hid; ++h) var += (a[s * hid + h] - mean) * (a[s * hid + h] - mean) / hid;
    for (int64_t h = 0; h < hid; ++h)
      want.data<float>()[s * hid + h] = static_cast<float>(
          (a[s * hid + h] - mean) / std::sqrt(var + 1e-5) * gamma.data<float>()[h] + beta.data<float>()[h]);
  }
  CompiledModel model = CompiledModel::compile(parse(b), EngineOptions{1});
  EXPECT_GE(model.stats().reference_steps, 1u);  // the Gather
  expect_close(model.run({ids_t})[0], want, 1e-3f);
}

// The exporter's LayerNorm pattern and GELU pattern, fused (one LayerNormalization / Gelu post-op) and not.
TEST(CompiledModel, FusedPatternsMatchUnfused) {
  ModelBuilder b(13);
  b.input("x", {2, 3, 8}).output("y");
  b.initializer("two", Tensor::from<float>({}, std::vector<float>{2.0f}));
  b.initializer("eps", Tensor::from<float>({}, std::vector<float>{1e-5f}));
  b.initializer("gamma", random_tensor({8}, 1));
  b.initializer("beta", random_tensor({8}, 2));
  b.initializer("w", random_tensor({8, 8}, 3));
  b.initializer("sqrt2", Tensor::from<float>({}, std::vector<float>{1.4142135f}));
  b.initializer("one", Tensor::from<float>({}, std::vector<float>{1.0f}));
  b.initializer("half", Tensor::from<float>({}, std::vector<float>{0.5f}));
  ModelBuilder::attr(b.node("ReduceMean", {"x"}, {"mean"}), "axes", std::vector<int64_t>{-1});
  b.node("Sub", {"x", "mean"}, {"d"});
  b.node("Pow", {"d", "two"}, {"sq"});
  ModelBuilder::attr(b.node("ReduceMean", {"sq"}, {"var"}), "axes", std::vector<int64_t>{-1});
  b.node("Add", {"var", "eps"}, {"ve"});
  b.node("Sqrt", {"ve"}, {"sd"});
  b.node("Div", {"d", "sd"}, {"n"});
  b.node("Mul", {"n", "gamma"}, {"m"});
  b.node("Add", {"m", "beta"}, {"ln"});
  b.node("MatMul", {"ln", "w"}, {"h"});
  b.node("Div", {"h", "sqrt2"}, {"hd"});
  b.node("Erf", {"hd"}, {"e"});
  b.node("Add", {"e", "one"}, {"a"});
  b.node("Mul", {"h", "a"}, {"g"});
  b.node("Mul", {"g", "half"}, {"y"});
  const Graph fused = parse(b), plain = parse(b, false);
  EXPECT_EQ(fused.nodes.size(), 3u) << fused.summary();  // LayerNormalization, MatMul, Gelu
  const Tensor x = random_tensor({2, 3, 8}, 4);
  CompiledModel m1 = CompiledModel::compile(fused, EngineOptions{1});
  CompiledModel m2 = CompiledModel::compile(plain, EngineOptions{1});
  EXPECT_EQ(m1.stats().fused_chains, 1u);  // the Gelu as the MatMul's post-op
  expect_close(m1.run({x})[0], m2.run({x})[0], 1e-4f);
}

// EfficientNet's and MobileNetV3's blocks as PyTorch exports them before opset 14: Conv -> x * Sigmoid(x) or
// x * HardSigmoid(x) (one Swish / HardSwish post-op once fused), then squeeze-excite: GlobalAveragePool ->
// Conv
// -> Relu -> Conv -> Sigmoid -> Mul(x, gate [1, C, 1, 1]) (broadcast in the blocked layout) -> Conv.
TEST(CompiledModel, SwishAndSqueezeExciteBlocksMatchUnfusedAndStayBlocked) {
  for (const std::string gate : {"Sigmoid", "HardSigmoid"}) {
    ModelBuilder b(13);
    b.input("x", {1, 16, 8, 8}).output("y");
    b.initializer("w1", random_tensor({32, 16, 3, 3}, 1, 0.2f))
        .initializer("wr", random_tensor({8, 32, 1, 1}, 2));
    b.initializer("we", random_tensor({32, 8, 1, 1}, 3))
        .initializer("wo", random_tensor({16, 32, 1, 1}, 4, 0.2f));
    ModelBuilder::attr(b.node("Conv", {"x", "w1"}, {"c"}), "pads", std::vector<int64_t>{1, 1, 1, 1});
    onnx::NodeProto& activation = b.node(gate, {"c"}, {"g"});
    if (gate == "HardSigmoid") {
      ModelBuilder::attr(activation, "alpha", 1.0f / 6);
      ModelBuilder::attr(activation, "beta", 0.5f);
    }
    b.node("Mul", {"c", "g"}, {"act"});
    b.node("GlobalAveragePool", {"act"}, {"pooled"});
    b.node("Conv", {"pooled", "wr"}, {"r"});
    b.node("Relu", {"r"}, {"rr"});
    b.node("Conv", {"rr", "we"}, {"e"});
    b.node("Sigmoid", {"e"}, {"scale"});
    b.node("Mul", {"act", "scale"}, {"excited"});
    b.node("Conv", {"excited", "wo"}, {"y"});
    const Graph fused = parse(b), plain = parse(b, false);
    const Tensor x = random_tensor({1, 16, 8, 8}, 5);
    CompiledModel unfused = CompiledModel::compile(plain, EngineOptions{1});
    const Tensor want = unfused.run({x})[0];
    for (int threads : {1, 2}) {
      SCOPED_TRACE(gate + " threads=" + std::to_string(threads));
      CompiledModel model = CompiledModel::compile(fused, EngineOptions{threads});
      expect_close(model.run({x})[0], want, 1e-4f);
      EXPECT_EQ(model.stats().reference_steps, 0u) << model.describe();
      EXPECT_LE(model.stats().reorders, 2u) << model.describe();  // into and out of the blocked layout only
    }
  }
}

TEST(CompiledModel, IntermediateBuffersAreReused) {
  ModelBuilder b;
  b.input("x", {1, 8, 16, 16}).output("y");
  std::string prev = "x";
  for (int i = 0; i < 8; ++i) {
    std::string w = "w", out = "c";
    w += std::to_string(i);
    out += std::to_string(i);
    b.initializer(w, random_tensor({8, 8, 3, 3}, static_cast<uint32_t>(i), 0.2f));
    ModelBuilder::attr(b.node("Conv", {prev, w}, {out}), "pads", std::vector<int64_t>{1, 1, 1, 1});
    prev = out;
  }
  b.node("Relu", {prev}, {"y"});
  CompiledModel model = CompiledModel::compile(parse(b), EngineOptions{1});
  const EngineStats& s = model.stats();
  EXPECT_GT(s.unplanned_bytes, 0u);
  // Eight conv outputs of 8 KiB each in a chain: the plan needs about two of them, not eight.
  EXPECT_LE(s.arena_bytes, s.unplanned_bytes / 3) << model.describe();
  const Tensor x = random_tensor({1, 8, 16, 16}, 99);
  const Tensor first = model.run({x})[0];
  const Tensor second = model.run({x})[0];
  EXPECT_EQ(std::memcmp(first.raw(), second.raw(), first.nbytes()), 0);
}

TEST(CompiledModel, GraphInputAsOutputAndConstantOutputs) {
  ModelBuilder b(13);
  b.input("x", {2, 3}).output("x").output("y").output("k");
  b.initializer("k", Tensor::from<float>({2}, std::vector<float>{1.5f, -2.0f}));
  b.node("Reshape", {"x", "shape"}, {"y"});
  b.initializer("shape", Tensor::from<int64_t>({1}, std::vector<int64_t>{6}));
  CompiledModel model = CompiledModel::compile(parse(b), EngineOptions{1});
  const Tensor x = random_tensor({2, 3}, 1);
  const auto out = model.run(std::map<std::string, Tensor>{{"x", x}});
  expect_close(out.at("x"), x);
  expect_close(out.at("y"), x.reshaped({6}));
  EXPECT_EQ(out.at("k").data<float>()[1], -2.0f);
}

TEST(CompiledModel, WrongInputsAreClearErrors) {
  ModelBuilder b;
  b.input("image", {1, 3, 4, 4}).output("y");
  b.node("Relu", {"image"}, {"y"});
  CompiledModel model = CompiledModel::compile(parse(b), EngineOptions{1});
  try {
    model.run({Tensor(DType::kFloat32, {1, 3, 5, 5})});
    FAIL();
  } catch (const EngineError& e) {
    EXPECT_NE(std::string(e.what()).find("image"), std::string::npos) << e.what();
  }
  EXPECT_THROW(model.run(std::map<std::string, Tensor>{}), EngineError);
  EXPECT_THROW(model.run({Tensor(DType::kInt64, {1, 3, 4, 4})}), EngineError);
}

TEST(CompiledModel, CompilesWithTheRequestedTeamOnTheCallingThread) {
  ModelBuilder b;
  b.input("x", {1, 4}).output("y");
  b.node("Relu", {"x"}, {"y"});
  const Graph g = parse(b);
  int seen_after_compile = 0, model_threads = 0;
  std::thread worker([&] {
    CompiledModel model = CompiledModel::compile(g, EngineOptions{1});
    seen_after_compile = omp_get_max_threads();
    model_threads = model.threads();
  });
  worker.join();
  EXPECT_EQ(seen_after_compile, 1);
  EXPECT_EQ(model_threads, 1);
  std::thread other([&] {
    omp_set_num_threads(2);
    model_threads = CompiledModel::compile(g).threads();  // 0 = the caller's budget
  });
  other.join();
  EXPECT_EQ(model_threads, 2);
}

TEST(CompiledModel, RefusesOpenMpBindingEnvironment) {
  ModelBuilder b;
  b.input("x", {1, 4}).output("y");
  b.node("Relu", {"x"}, {"y"});
  const Graph g = parse(b);
  ::setenv("OMP_PLACES", "cores", 1);
  try {
    CompiledModel::compile(g, EngineOptions{1});
    ADD_FAILURE() << "compile accepted OMP_PLACES";
  } catch (const EngineError& e) {
    EXPECT_NE(std::string(e.what()).find("OMP_PLACES"), std::string::npos);
  }
  ::unsetenv("OMP_PLACES");
  EXPECT_NO_THROW(CompiledModel::compile(g, EngineOptions{1}));
}

}  // namespace
}  // namespace conveyor
