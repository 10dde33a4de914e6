// BERT encoder with pooler and classifier, as the Hugging Face / torch.onnx export writes it at opset 13:
// Gather embeddings, LayerNorm decomposed into ReduceMean/Sub/Pow/ReduceMean/Add/Sqrt/Div/Mul/Add (the
// fused LayerNormalization op from opset 17), attention mask (1 - mask) * -10000 computed in the graph,
// per-head Reshape/Transpose attention, Erf GELU, Linear layers on 3-D inputs as MatMul + Add, on 2-D
// inputs as Gemm(transB=1), scalars and shapes as Constant nodes.
//
// "bert_encoder" is the same encoder body without the embedding lookup and the heads: float32 hidden
// states [batch, seq, hidden] in, the L transformer layers, last_hidden_state out. Every token attends to
// every other (no mask input), so the model is a plain float-in float-out graph that OpenCV DNN 4.6 can
// import at batch 1 (at batch > 1 OpenCV fails on the LayerNorm mean), which makes it an independent oracle for the attention, LayerNorm and GELU kernels. One change
// for OpenCV: OpenCV 4.6 cannot multiply a 3-D tensor by a constant [hidden] vector (its Scale layer looks
// for the vector's length from axis 1), so each LayerNorm applies its weight and bias to the tokens viewed
// as [batch * seq, hidden] (Reshape, Mul, Add, Reshape back). The arithmetic is unchanged.
#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "graph/zoo/architectures.hpp"
#include "graph/zoo/cnn_layers.hpp"

namespace conveyor::zoo::detail {
namespace {

constexpr int64_t kBertPositions = 512;  // position table size of BERT-base (more when seq_len is longer)
constexpr int64_t kTokenTypes = 2;
constexpr float kLayerNormEpsilon = 1e-12f;
constexpr float kMaskedScore = -10000.0f;

void validate(const ZooOptions& options, const std::string& name) {
  auto require = [&](bool ok, const std::string& what) {
    if (!ok) throw std::invalid_argument("zoo: model '" + name + "': " + what);
  };
  require(options.layers >= 1, "layers must be >= 1, got " + std::to_string(options.layers));
  require(options.hidden >= 1, "hidden must be >= 1, got " + std::to_string(options.hidden));
  require(options.heads >= 1 && options.hidden % options.heads == 0,
          "heads (" + std::to_string(options.heads) + ") must divide hidden (" +
              std::to_string(options.hidden) + ")");
  require(options.seq_len >= 1, "seq_len must be >= 1, got " + std::to_string(options.seq_len));
  require(options.vocab >= 1, "vocab must be >= 1, got " + std::to_string(options.vocab));
  require(options.intermediate >= 0,
          "intermediate must be >= 0 (0 = 4 * hidden), got " + std::to_string(options.intermediate));
  require(options.classes >= 1, "classes must be >= 1, got " + std::to_string(options.classes));
}

class BertWriter {
 public:
  BertWriter(GraphBuilder& builder, const ZooOptions& options)
      : b_(builder),
        batch_(io_batch(options)),
        seq_(options.seq_len),
        hidden_(options.hidden),
        heads_(options.heads),
        head_dim_(options.hidden / options.heads),
        intermediate_(options.intermediate > 0 ? options.intermediate : 4 * int64_t{options.hidden}),
        vocab_(options.vocab),
        classes_(options.classes),
        fused_layer_norm_(options.opset >= 17) {}

  void write(int layers) {
    const auto int64 = onnx::TensorProto::INT64;
    b_.add_input("input_ids", int64, {batch_, seq_});
    b_.add_input("attention_mask", int64, {batch_, seq_});
    b_.add_input("token_type_ids", int64, {batch_, seq_});

    std::string x = embeddings();
    const std::string mask = extended_attention_mask();
    for (int layer = 0; layer < layers; ++layer) {
      const std::string output = layer + 1 == layers ? "last_hidden_state" : "";
      x = encoder_layer(x, mask, "encoder.layer." + std::to_string(layer), output);
    }
    classifier(x);

    b_.add_output("last_hidden_state", onnx::TensorProto::FLOAT, {batch_, seq_, hidden_});
    b_.add_output("logits", onnx::TensorProto::FLOAT, {batch_, classes_});
  }

  // The encoder body alone: hidden_states -> L layers (no attention mask) -> last_hidden_state.
  void write_encoder(int layers) {
    b_.add_input("hidden_states", onnx::TensorProto::FLOAT, {batch_, seq_, hidden_});
    affine_on_tokens_ = true;
    std::string x = "hidden_states";
    for (int layer = 0; layer < layers; ++layer) {
      const std::string output = layer + 1 == layers ? "last_hidden_state" : "";
      x = encoder_layer(x, "", "encoder.layer." + std::to_string(layer), output);
    }
    b_.add_output("last_hidden_state", onnx::TensorProto::FLOAT, {batch_, seq_, hidden_});
  }

 private:
  std::string scalar(float value) { return b_.add_constant({}, {value}); }

  std::string embeddings() {
    const int64_t positions = std::max(kBertPositions, seq_);
    const std::string words = b_.add_normal("embeddings.word_embeddings.weight", {vocab_, hidden_}, 1.0f);
    const std::string position_table =
        b_.add_normal("embeddings.position_embeddings.weight", {positions, hidden_}, 1.0f);
    const std::string type_table =
        b_.add_normal("embeddings.token_type_embeddings.weight", {kTokenTypes, hidden_}, 1.0f);
    std::vector<int64_t> position_values(static_cast<size_t>(seq_));
    for (int64_t i = 0; i < seq_; ++i) position_values[static_cast<size_t>(i)] = i;
    const std::string position_ids = b_.add_int64s("embeddings.position_ids", {1, seq_}, position_values);

    b_.set_scope("/embeddings/word_embeddings");
    const std::string word = b_.add_node("Gather", {words, "input_ids"}, {attr_int("axis", 0)});
    b_.set_scope("/embeddings/token_type_embeddings");
    const std::string type = b_.add_node("Gather", {type_table, "token_type_ids"}, {attr_int("axis", 0)});
    b_.set_scope("/embeddings");
    std::string sum = b_.add_node("Add", {word, type});
    b_.set_scope("/embeddings/position_embeddings");
    const std::string position = b_.add_node("Gather", {position_table, position_ids}, {attr_int("axis", 0)});
    b_.set_scope("/embeddings");
    sum = b_.add_node("Add", {sum, position});
    return layer_norm(sum, "embeddings.LayerNorm");
  }

  // attention_mask[:, None, None, :] -> float -> (1 - m) * -10000: [batch, 1, 1, seq], added to the scores.
  std::string extended_attention_mask() {
    b_.set_scope("");
    std::string mask = b_.add_node("Unsqueeze", {"attention_mask", b_.add_constant_int64s({1}, {1})});
    mask = b_.add_node("Unsqueeze", {mask, b_.add_constant_int64s({1}, {2})});
    mask = b_.add_node("Cast", {mask}, {attr_int("to", onnx::TensorProto::FLOAT)});
    mask = b_.add_node("Sub", {scalar(1.0f), mask});
    return b_.add_node("Mul", {mask, scalar(kMaskedScore)});
  }

  std::string layer_norm(const std::string& x, const std::string& path, const std::string& output = "") {
    const std::string gamma = b_.add_uniform(path + ".weight", {hidden_}, 0.9f, 1.1f);
    const std::string beta = b_.add_normal(path + ".bias", {hidden_}, 0.02f);
    b_.set_scope(scope_of(path));
    if (fused_layer_norm_)
      return b_.add_node("LayerNormalization", {x, gamma, beta},
                         {attr_int("axis", -1), attr_float("epsilon", kLayerNormEpsilon)}, output);
    const auto last_axis = attr_ints("axes", {-1});
    const std::string mean = b_.add_node("ReduceMean", {x}, {last_axis});
    const std::string centered = b_.add_node("Sub", {x, mean});
    const std::string squared = b_.add_node("Pow", {centered, scalar(2.0f)});
    const std::string variance = b_.add_node("ReduceMean", {squared}, {last_axis});
    const std::string shifted = b_.add_node("Add", {variance, scalar(kLayerNormEpsilon)});
    const std::string stddev = b_.add_node("Sqrt", {shifted});
    const std::string normalized = b_.add_node("Div", {centered, stddev});
    if (affine_on_tokens_) {  // weight and bias on the [batch * seq, hidden] view (see the file comment)
      std::string tokens =
          b_.add_node("Reshape", {normalized, b_.add_constant_int64s({2}, {batch_ == kBatchDim ? -1 : batch_ * seq_, hidden_})});
      tokens = b_.add_node("Mul", {tokens, gamma});
      tokens = b_.add_node("Add", {tokens, beta});
      return b_.add_node("Reshape", {tokens, b_.add_constant_int64s({3}, {batch_, seq_, hidden_})}, {},
                         output);
    }
    const std::string scaled = b_.add_node("Mul", {normalized, gamma});
    return b_.add_node("Add", {scaled, beta}, {}, output);
  }

  // nn.Linear on a 3-D input: MatMul with the transposed weight [in, out], then Add(bias, product).
  std::string linear(const std::string& x, const std::string& path, int64_t in, int64_t out) {
    const float stddev = static_cast<float>(1.0 / std::sqrt(static_cast<double>(in)));
    const std::string weight = b_.add_normal(path + ".weight_transposed", {in, out}, stddev);
    const std::string bias = b_.add_normal(path + ".bias", {out}, 0.02f);
    b_.set_scope(scope_of(path));
    const std::string product = b_.add_node("MatMul", {x, weight});
    return b_.add_node("Add", {bias, product});
  }

  // [batch, seq, hidden] -> [batch, heads, seq, head_dim], or [batch, heads, head_dim, seq] for keys.
  std::string split_heads(const std::string& x, const std::string& path, bool transpose_for_keys) {
    b_.set_scope(scope_of(path));
    const std::string shape = b_.add_constant_int64s({4}, {batch_, seq_, heads_, head_dim_});
    const std::string split = b_.add_node("Reshape", {x, shape});
    const std::vector<int64_t> perm =
        transpose_for_keys ? std::vector<int64_t>{0, 2, 3, 1} : std::vector<int64_t>{0, 2, 1, 3};
    return b_.add_node("Transpose", {split}, {attr_ints("perm", perm)});
  }

  std::string self_attention(const std::string& x, const std::string& mask, const std::string& path) {
    const std::string query =
        split_heads(linear(x, path + ".query", hidden_, hidden_), path + ".query", false);
    const std::string key = split_heads(linear(x, path + ".key", hidden_, hidden_), path + ".key", true);
    const std::string value =
        split_heads(linear(x, path + ".value", hidden_, hidden_), path + ".value", false);

    b_.set_scope(scope_of(path));
    std::string scores = b_.add_node("MatMul", {query, key});
    scores =
        b_.add_node("Div", {scores, scalar(static_cast<float>(std::sqrt(static_cast<double>(head_dim_))))});
    if (!mask.empty()) scores = b_.add_node("Add", {scores, mask});
    const std::string probabilities = b_.add_node("Softmax", {scores}, {attr_int("axis", -1)});
    std::string context = b_.add_node("MatMul", {probabilities, value});
    context = b_.add_node("Transpose", {context}, {attr_ints("perm", {0, 2, 1, 3})});
    return b_.add_node("Reshape", {context, b_.add_constant_int64s({3}, {batch_, seq_, hidden_})});
  }

  // x * 0.5 * (1 + erf(x / sqrt(2))), in the exporter's order.
  std::string gelu(const std::string& x, const std::string& path) {
    b_.set_scope(scope_of(path));
    std::string y = b_.add_node("Div", {x, scalar(static_cast<float>(std::sqrt(2.0)))});
    y = b_.add_node("Erf", {y});
    y = b_.add_node("Add", {y, scalar(1.0f)});
    y = b_.add_node("Mul", {x, y});
    return b_.add_node("Mul", {y, scalar(0.5f)});
  }

  std::string residual_layer_norm(const std::string& x, const std::string& residual, const std::string& path,
                                  const std::string& output = "") {
    b_.set_scope(scope_of(path));
    const std::string sum = b_.add_node("Add", {x, residual});
    return layer_norm(sum, path + ".LayerNorm", output);
  }

  std::string encoder_layer(const std::string& x, const std::string& mask, const std::string& path,
                            const std::string& output) {
    std::string attention = self_attention(x, mask, path + ".attention.self");
    attention = linear(attention, path + ".attention.output.dense", hidden_, hidden_);
    attention = residual_layer_norm(attention, x, path + ".attention.output");

    std::string feed_forward = linear(attention, path + ".intermediate.dense", hidden_, intermediate_);
    feed_forward = gelu(feed_forward, path + ".intermediate.intermediate_act_fn");
    feed_forward = linear(feed_forward, path + ".output.dense", intermediate_, hidden_);
    return residual_layer_norm(feed_forward, attention, path + ".output", output);
  }

  // Pooler (first token -> dense -> tanh) and classifier head -> "logits".
  void classifier(const std::string& hidden_states) {
    b_.set_scope("/pooler");
    const std::string first_token =
        b_.add_node("Gather", {hidden_states, b_.add_constant_int64s({}, {0})}, {attr_int("axis", 1)});
    const float stddev = static_cast<float>(1.0 / std::sqrt(static_cast<double>(hidden_)));
    const auto gemm_attributes =
        std::vector{attr_float("alpha", 1.0f), attr_float("beta", 1.0f), attr_int("transB", 1)};
    const std::string pooler_weight = b_.add_normal("pooler.dense.weight", {hidden_, hidden_}, stddev);
    const std::string pooler_bias = b_.add_normal("pooler.dense.bias", {hidden_}, 0.02f);
    b_.set_scope("/pooler/dense");
    std::string pooled = b_.add_node("Gemm", {first_token, pooler_weight, pooler_bias}, gemm_attributes);
    b_.set_scope("/pooler/activation");
    pooled = b_.add_node("Tanh", {pooled});

    const std::string weight = b_.add_normal("classifier.weight", {classes_, hidden_}, stddev);
    const std::string bias = b_.add_normal("classifier.bias", {classes_}, 0.02f);
    b_.set_scope("/classifier");
    b_.add_node("Gemm", {pooled, weight, bias}, gemm_attributes, "logits");
  }

  GraphBuilder& b_;
  const int64_t batch_, seq_, hidden_, heads_, head_dim_, intermediate_, vocab_, classes_;
  const bool fused_layer_norm_;
  bool affine_on_tokens_ = false;  // bert_encoder: LayerNorm weight and bias on [batch * seq, hidden]
};

}  // namespace

void build_bert(onnx::GraphProto& graph, const ZooOptions& options) {
  validate(options, "bert");
  graph.set_name("bert");
  GraphBuilder builder(graph, options.seed);
  BertWriter(builder, options).write(options.layers);
}

void build_bert_encoder(onnx::GraphProto& graph, const ZooOptions& options) {
  validate(options, "bert_encoder");
  graph.set_name("bert_encoder");
  GraphBuilder builder(graph, options.seed);
  BertWriter(builder, options).write_encoder(options.layers);
}

}  // namespace conveyor::zoo::detail
