// text.wordpiece: UTF-8 text (uint8 [N]) -> BERT inputs int64 [1, max_length] (ids, mask, type ids).
// Output tensor names come from the args input_ids / attention_mask / token_type_ids (defaults: the same
// names); an empty attention_mask or token_type_ids name leaves that output out (e.g. DistilBERT).
#include <memory>
#include <stdexcept>

#include "conveyor/ops/wordpiece_tokenizer.hpp"
#include "ops/builtin_ops.hpp"
#include "ops/op_args.hpp"

namespace conveyor::ops {
namespace {

constexpr const char* kOp = "text.wordpiece";
constexpr int64_t kMaxLength = 1 << 20;

struct WordpieceConfig {
  std::string input;
  std::string ids_output;
  std::string mask_output;   // empty: not produced
  std::string types_output;  // empty: not produced
  std::size_t max_length = 128;
  std::shared_ptr<const WordpieceTokenizer> tokenizer;
};

Tensor row(const std::vector<int64_t>& values) {
  return Tensor::from<int64_t>({1, static_cast<int64_t>(values.size())}, values);
}

void encode(Sample& sample, const WordpieceConfig& config) {
  const Tensor& text = sample.at(config.input);
  if (text.dtype() != DType::kUInt8 || text.rank() != 1)
    throw std::invalid_argument(std::string(kOp) + ": input '" + config.input + "' is " + text.describe() +
                                ", expected UTF-8 text as uint8 [N]");
  const auto bytes = text.values<uint8_t>();
  const std::string_view utf8(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  WordpieceEncoding encoding;
  try {
    encoding = config.tokenizer->encode(utf8, config.max_length);
  } catch (const Utf8Error& e) {
    throw Utf8Error(std::string(kOp) + ": input '" + config.input + "' (" + std::to_string(bytes.size()) +
                        " bytes" + (sample.source.empty() ? "" : " from '" + sample.source + "'") +
                        ") is not valid UTF-8: " + e.what(),
                    e.offset());
  }
  sample.tensors[config.ids_output] = row(encoding.input_ids);
  if (!config.mask_output.empty()) sample.tensors[config.mask_output] = row(encoding.attention_mask);
  if (!config.types_output.empty()) sample.tensors[config.types_output] = row(encoding.token_type_ids);
}

BuiltOperator build(const OpArgs& args, const OpBuildContext& context) {
  ArgReader reader(kOp, args, context,
                   {"vocab", "input", "input_ids", "attention_mask", "token_type_ids", "max_length",
                    "lowercase", "unk_token", "cls_token", "sep_token", "pad_token", "max_chars_per_word"});
  auto config = std::make_shared<WordpieceConfig>();
  const auto vocab = reader.required_file("vocab");
  config->input = reader.name("input", "text");
  config->ids_output = reader.name("input_ids", "input_ids");
  config->mask_output = reader.string("attention_mask", "attention_mask");
  config->types_output = reader.string("token_type_ids", "token_type_ids");
  config->max_length = static_cast<std::size_t>(reader.integer("max_length", 128, 2));
  if (config->max_length > kMaxLength)
    throw reader.error("max_length", "must be at most " + std::to_string(kMaxLength));
  WordpieceOptions options;
  options.lowercase = reader.boolean("lowercase", true);
  options.unk_token = reader.string("unk_token", options.unk_token);
  options.cls_token = reader.string("cls_token", options.cls_token);
  options.sep_token = reader.string("sep_token", options.sep_token);
  options.pad_token = reader.string("pad_token", options.pad_token);
  options.max_chars_per_word = static_cast<std::size_t>(
      reader.integer("max_chars_per_word", static_cast<int64_t>(options.max_chars_per_word), 1));
  reader.finish();

  try {
    config->tokenizer =
        std::make_shared<const WordpieceTokenizer>(WordpieceTokenizer::from_file(vocab, options));
  } catch (const std::exception& e) {
    throw reader.error("vocab", "could not be loaded: " + std::string(e.what()));
  }
  OperatorSignature signature;
  signature.inputs.push_back({.name = config->input, .dtype = DType::kUInt8, .dims = {-1}, .bytes = true});
  const auto length = static_cast<int64_t>(config->max_length);
  for (const auto& name : {config->ids_output, config->mask_output, config->types_output})
    if (!name.empty()) signature.outputs.push_back({.name = name, .dtype = DType::kInt64, .dims = {1, length}});
  return {make_operator([config](Sample& sample) { encode(sample, *config); }), std::move(signature)};
}

}  // namespace

void add_text_wordpiece(OperatorRegistry& registry) {
  registry.add(
      kOp,
      "BERT WordPiece tokenizer: UTF-8 text (uint8 [N]) -> input_ids, attention_mask, token_type_ids "
      "int64 [1, max_length]",
      build);
}

}  // namespace conveyor::ops
