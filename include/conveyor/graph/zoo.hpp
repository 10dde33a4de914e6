#pragma once
// conveyor's model zoo: standard architectures built as ONNX models with seeded random weights, so tests,
// benchmarks and demos never download anything. The graphs follow what the torchvision / Hugging Face
// exporters emit (opset 13 by default): separate BatchNormalization nodes, Clip-as-ReLU6 with min/max
// inputs, BERT attention and LayerNorm spelled out as exported.
#include <cstdint>
#include <string>
#include <vector>

namespace conveyor::zoo {

struct ZooOptions {
  uint64_t seed = 0;     // same seed -> byte-identical model
  int batch = 1;         // static batch dimension of every input and output
  // The first dimension of every input and output symbolic (dim_param "batch"), so that the model runs at
  // any batch size (`batch` is then ignored); Reshape targets keep it with -1.
  bool dynamic_batch = false;
  int opset = 13;        // 13..17; at 17 bert uses the fused LayerNormalization op
  int image_size = 224;  // CNNs: input height = width (>= 32)
  // bert, bert_encoder
  int layers = 4;
  int hidden = 256;
  int heads = 4;
  int seq_len = 128;
  int vocab = 1000;
  int intermediate = 0;  // 0 = 4 * hidden
  int classes = 2;
};

// Known model names: "resnet18", "resnet50", "mobilenet_v2", "bert", "bert_encoder" (bert's encoder layers
// alone: float32 hidden_states [batch, seq_len, hidden] -> last_hidden_state, no embeddings, mask or
// heads), "mlp", "tinycnn".
std::vector<std::string> names();

// The bytes of the model's .onnx file, deterministically serialised after the ONNX checker and strict shape
// inference passed it. Throws std::invalid_argument for an unknown name (the message lists the known ones)
// or options the architecture cannot take, std::runtime_error when the checker rejects the model.
std::string serialize(const std::string& name, const ZooOptions& options = {});

// serialize() written to `path`; throws std::runtime_error naming the path when it cannot be written.
void write(const std::string& name, const ZooOptions& options, const std::string& path);

}  // namespace conveyor::zoo
