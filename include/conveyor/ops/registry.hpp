#pragma once
#include <filesystem>
#include <functional>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "conveyor/runtime/op_args.hpp"
#include "conveyor/runtime/operator.hpp"

namespace conveyor {

// A bad operator argument: `key` names it (so the config layer can point at its line). An arg the operator
// does not take also carries the ones it does (`accepted`, sorted), so the layer that shows it can guess
// the one meant.
class OpArgError : public std::runtime_error {
 public:
  OpArgError(std::string key, const std::string& message, std::vector<std::string> accepted = {})
      : std::runtime_error(message), key_(std::move(key)), accepted_(std::move(accepted)) {}
  const std::string& key() const { return key_; }
  bool unknown_key() const { return !accepted_.empty(); }
  const std::vector<std::string>& accepted() const { return accepted_; }

 private:
  std::string key_;
  std::vector<std::string> accepted_;
};

struct OpBuildContext {
  std::filesystem::path base_dir;  // relative paths in args (vocab, labels, models) resolve against it
  // The batch sizes the stage will hand to Operator::process_batch (BatchSpec::run_sizes); {1}: none.
  std::vector<int> batch_sizes{1};
};

// An operator built from its args: the per-worker factory and what it reads and writes (empty when the
// operator does not say).
struct BuiltOperator {
  BuiltOperator(OperatorFactory f = {}, OperatorSignature s = {})  // NOLINT: a bare factory converts
      : factory(std::move(f)), signature(std::move(s)) {}
  OperatorFactory factory;
  OperatorSignature signature;
};

// Validates args (throwing OpArgError) and returns the built operator.
using OpBuilder = std::function<BuiltOperator(const OpArgs& args, const OpBuildContext& context)>;

class OperatorRegistry {
 public:
  void add(const std::string& name, std::string summary, OpBuilder builder);
  bool has(const std::string& name) const { return entries_.count(name) != 0; }
  // Throws std::invalid_argument for an unknown name (listing the known ones), OpArgError for bad args.
  BuiltOperator build(const std::string& name, const OpArgs& args, const OpBuildContext& context) const;
  std::vector<std::pair<std::string, std::string>> list() const;  // name, summary

 private:
  struct Entry {
    std::string summary;
    OpBuilder builder;
  };
  std::map<std::string, Entry> entries_;
};

// The built-in operators (image.*, text.*, post.*, onnx once the executor exists). Args (defaults) ->
// outputs:
//  image.decode      input (bytes), output (image): uint8 [N] JPEG/PNG bytes -> uint8 [H, W, 3] BGR
//  image.preprocess  input (image), output (pixels), size (required: int or [h, w]),
//                    resize (shorter_side_crop | stretch), resize_to (round(max(size)*256/224)),
//                    interpolation (linear | area), rgb (true), mean ([0.485, 0.456, 0.406]),
//                    std ([0.229, 0.224, 0.225]), scale (1/255) -> float32 [1, 3, h, w]
//  text.wordpiece    vocab (required path), input (text), max_length (128), lowercase (true),
//                    unk_token/cls_token/sep_token/pad_token ([UNK]/[CLS]/[SEP]/[PAD]), max_chars_per_word
//                    (100), input_ids/attention_mask/token_type_ids (output names, same defaults; "" omits
//                    the last two) -> int64 [1, max_length] each
//  post.softmax      input (logits), output (probs), axis (-1) -> float32, input's shape
//  post.topk         input (probs), k (5, at most C), prefix (topk_), labels (optional path)
//                    -> <prefix>scores float32 [k], <prefix>indices int64 [k], texts <prefix>labels
//  post.argmax       input (probs), output (class) -> int64 [1]
//  post.threshold    input (probs), threshold (required), prefix (above_), labels (optional path)
//                    -> <prefix>indices int64 [n], <prefix>scores float32 [n], texts <prefix>labels
// Class-score inputs of post.topk/argmax/threshold are float32 [C] or [1, C].
const OperatorRegistry& builtin_operators();

}  // namespace conveyor
