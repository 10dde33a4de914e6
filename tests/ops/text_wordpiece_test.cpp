#include "conveyor/ops/wordpiece_tokenizer.hpp"
#include "op_test_support.hpp"

namespace conveyor {
namespace {

using test::json_args;

using test::arg_error_key;
using test::bytes_tensor;
using test::run_error;
using test::run_op;

const std::filesystem::path kExampleVocab =
    std::filesystem::path(CONVEYOR_SOURCE_DIR) / "examples/data/vocab.txt";

std::vector<int64_t> row(const Tensor& t) {
  EXPECT_EQ(t.dtype(), DType::kInt64);
  EXPECT_EQ(t.rank(), 2U);
  EXPECT_EQ(t.dim(0), 1);
  const auto v = t.values<int64_t>();
  return {v.begin(), v.end()};
}

TEST(TextWordpiece, ProducesBertInputsFromUtf8Bytes) {
  const auto tokenizer = WordpieceTokenizer::from_file(kExampleVocab);
  Sample sample;
  sample.tensors["text"] = bytes_tensor(std::string("Hello, world!"));
  run_op("text.wordpiece", OpArgs().set("vocab", kExampleVocab.string()).set("max_length", 8), sample);

  const auto id = [&](const char* token) { return tokenizer.id_of(token).value(); };
  EXPECT_EQ(row(sample.at("input_ids")),
            (std::vector<int64_t>{id("[CLS]"), id("hello"), id(","), id("world"), id("!"), id("[SEP]"),
                                  id("[PAD]"), id("[PAD]")}));
  EXPECT_EQ(row(sample.at("attention_mask")), (std::vector<int64_t>{1, 1, 1, 1, 1, 1, 0, 0}));
  EXPECT_EQ(row(sample.at("token_type_ids")), (std::vector<int64_t>(8, 0)));
}

TEST(TextWordpiece, DefaultMaxLengthIs128) {
  Sample sample;
  sample.tensors["text"] = bytes_tensor(std::string("the fox"));
  run_op("text.wordpiece", OpArgs().set("vocab", kExampleVocab.string()), sample);
  EXPECT_EQ(sample.at("input_ids").shape(), (Shape{1, 128}));
  EXPECT_EQ(sample.at("attention_mask").shape(), (Shape{1, 128}));
}

TEST(TextWordpiece, OutputNamesAreConfigurableAndOptionalOnesCanBeOmitted) {
  Sample sample;
  sample.tensors["query"] = bytes_tensor(std::string("the fox"));
  run_op("text.wordpiece",
         OpArgs()
             .set("vocab", kExampleVocab.string())
             .set("input", "query")
             .set("input_ids", "ids")
             .set("attention_mask", "mask")
             .set("token_type_ids", "")
             .set("max_length", 4),
         sample);
  EXPECT_TRUE(sample.has("ids"));
  EXPECT_TRUE(sample.has("mask"));
  EXPECT_FALSE(sample.has("token_type_ids"));
  EXPECT_FALSE(sample.has("input_ids"));
}

TEST(TextWordpiece, RelativeVocabPathResolvesAgainstBaseDir) {
  test::TempDir dir;
  dir.write_lines("v.txt", {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "fox"});
  Sample sample;
  sample.tensors["text"] = bytes_tensor(std::string("FOX cat"));
  run_op("text.wordpiece", json_args(R"({"vocab": "v.txt", "max_length": 5})"), sample,
         OpBuildContext{dir.path()});
  EXPECT_EQ(row(sample.at("input_ids")), (std::vector<int64_t>{2, 4, 1, 3, 0}));
}

TEST(TextWordpiece, CustomSpecialTokensAndCasedMode) {
  test::TempDir dir;
  dir.write_lines("v.txt", {"<pad>", "<unk>", "<s>", "</s>", "Fox", "fox"});
  Sample sample;
  sample.tensors["text"] = bytes_tensor(std::string("Fox"));
  run_op(
      "text.wordpiece",
      json_args(
          R"({"vocab": "v.txt", "max_length": 3, "lowercase": false, "unk_token": "<unk>", "cls_token": "<s>", "sep_token": "</s>", "pad_token": "<pad>"})"),
      sample, OpBuildContext{dir.path()});
  EXPECT_EQ(row(sample.at("input_ids")), (std::vector<int64_t>{2, 4, 3}));
}

TEST(TextWordpiece, InvalidUtf8FailsTheSampleClearly) {
  Sample sample;
  sample.tensors["text"] = bytes_tensor(std::string("caf\xC3"));
  const std::string error =
      run_error("text.wordpiece", OpArgs().set("vocab", kExampleVocab.string()), sample);
  EXPECT_NE(error.find("text.wordpiece"), std::string::npos) << error;
  EXPECT_NE(error.find("'text'"), std::string::npos) << error;
  EXPECT_NE(error.find("not valid UTF-8"), std::string::npos) << error;
  EXPECT_NE(error.find("offset 3"), std::string::npos) << error;
}

TEST(TextWordpiece, NonByteInputIsRejected) {
  Sample sample;
  sample.tensors["text"] = Tensor(DType::kInt64, {4});
  const std::string error =
      run_error("text.wordpiece", OpArgs().set("vocab", kExampleVocab.string()), sample);
  EXPECT_NE(error.find("int64[4]"), std::string::npos) << error;
}

TEST(TextWordpiece, BadArgsNameTheKey) {
  const std::string vocab = kExampleVocab.string();
  EXPECT_EQ(arg_error_key("text.wordpiece", OpArgs()), "vocab");
  EXPECT_EQ(arg_error_key("text.wordpiece", json_args(R"({"vocab": 5})")), "vocab");
  EXPECT_EQ(arg_error_key("text.wordpiece", OpArgs().set("vocab", vocab).set("max_length", 1)), "max_length");
  EXPECT_EQ(arg_error_key("text.wordpiece", OpArgs().set("vocab", vocab).set("max_length", "long")),
            "max_length");
  EXPECT_EQ(arg_error_key("text.wordpiece", OpArgs().set("vocab", vocab).set("lowercase", 1)), "lowercase");
  EXPECT_EQ(arg_error_key("text.wordpiece", OpArgs().set("vocab", vocab).set("max_chars_per_word", 0)),
            "max_chars_per_word");
  EXPECT_EQ(arg_error_key("text.wordpiece", OpArgs().set("vocab", vocab).set("input_ids", "")), "input_ids");
  EXPECT_EQ(arg_error_key("text.wordpiece", OpArgs().set("vocab", vocab).set("max_len", 64)), "max_len");
  EXPECT_EQ(arg_error_key("text.wordpiece", OpArgs().set("vocab", vocab).set("unk_token", "<unk>")), "vocab");
}

TEST(TextWordpiece, VocabProblemsNameTheFile) {
  test::TempDir dir;
  const auto missing = dir.path() / "nope.txt";
  std::string message = test::arg_error_message("text.wordpiece", OpArgs().set("vocab", missing.string()));
  EXPECT_NE(message.find(missing.string()), std::string::npos) << message;

  const auto no_cls = dir.write_lines("no_cls.txt", {"[PAD]", "[UNK]", "[SEP]", "fox"});
  EXPECT_EQ(arg_error_key("text.wordpiece", OpArgs().set("vocab", no_cls.string())), "vocab");
  message = test::arg_error_message("text.wordpiece", OpArgs().set("vocab", no_cls.string()));
  EXPECT_NE(message.find(no_cls.string()), std::string::npos) << message;
  EXPECT_NE(message.find("[CLS]"), std::string::npos) << message;

  const auto empty = dir.write("empty.txt", "");
  message = test::arg_error_message("text.wordpiece", OpArgs().set("vocab", empty.string()));
  EXPECT_NE(message.find("empty"), std::string::npos) << message;
}

}  // namespace
}  // namespace conveyor
