#include "conveyor/ops/wordpiece_tokenizer.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "op_test_support.hpp"

namespace conveyor {
namespace {

using Tokens = std::vector<std::string>;

const std::vector<std::string> kVocab = {
    "[PAD]", "[UNK]", "[CLS]",  "[SEP]", "[MASK]", "the",   "quick",  "brown", "fox",    "jump", "##s",
    "un",    "##aff", "##able", "run",   "runn",   "##ing", "##ning", "hello", "world",  ",",    "!",
    ".",     "'",     "$",      "+",     "«",      "»",     "—",      "don",   "t",      "cafe", "a",
    "##a",   "中",    "国",     "The",   "Cafe",   "naive", "uber",   "creme", "brulee", "と",   "た"};

WordpieceTokenizer tokenizer(bool lowercase = true) {
  WordpieceOptions options;
  options.lowercase = lowercase;
  return WordpieceTokenizer(kVocab, options, "test vocabulary");
}

// A vocabulary saved with a UTF-8 byte-order mark once lost its first token ([PAD]) to the mark.
TEST(WordpieceTokenizer, VocabularyFileWithAByteOrderMark) {
  const auto file = std::filesystem::path(::testing::TempDir()) / "bom_vocab.txt";
  {
    std::ofstream out(file, std::ios::binary);
    out << "\xEF\xBB\xBF";
    for (const auto& token : kVocab) out << token << "\r\n";
  }
  const WordpieceTokenizer t = WordpieceTokenizer::from_file(file);
  EXPECT_EQ(t.tokenize("the quick fox"), (Tokens{"the", "quick", "fox"}));
  std::filesystem::remove(file);
}

TEST(WordpieceTokenizer, SimpleSentence) {
  const auto t = tokenizer();
  EXPECT_EQ(t.tokenize("the quick brown fox"), (Tokens{"the", "quick", "brown", "fox"}));
  EXPECT_EQ(t.token_ids("the quick"), (std::vector<int64_t>{5, 6}));
}

TEST(WordpieceTokenizer, UnknownWordsBecomeUnk) {
  const auto t = tokenizer();
  EXPECT_EQ(t.tokenize("the zebra"), (Tokens{"the", "[UNK]"}));
  // A word is [UNK] as a whole once any remainder cannot be matched, not "un ##aff [UNK]".
  EXPECT_EQ(t.tokenize("unaffxyz"), (Tokens{"[UNK]"}));
}

TEST(WordpieceTokenizer, ContinuationPiecesAreGreedyLongestFirst) {
  const auto t = tokenizer();
  EXPECT_EQ(t.tokenize("unaffable jumps"), (Tokens{"un", "##aff", "##able", "jump", "##s"}));
  // "runn" + "##ing" wins over "run" + "##ning": the longest prefix is taken first.
  EXPECT_EQ(t.tokenize("running"), (Tokens{"runn", "##ing"}));
}

TEST(WordpieceTokenizer, PunctuationIsSplitOff) {
  const auto t = tokenizer();
  EXPECT_EQ(t.tokenize("hello, world!"), (Tokens{"hello", ",", "world", "!"}));
  EXPECT_EQ(t.tokenize("don't"), (Tokens{"don", "'", "t"}));
  EXPECT_EQ(t.tokenize("$a+a"), (Tokens{"$", "a", "+", "a"}));  // BERT counts every ASCII symbol
  EXPECT_EQ(t.tokenize("«hello»—world"), (Tokens{"«", "hello", "»", "—", "world"}));
}

TEST(WordpieceTokenizer, LowercasesAndStripsAccents) {
  const auto t = tokenizer();
  EXPECT_EQ(t.tokenize("The QUICK Brown"), (Tokens{"the", "quick", "brown"}));
  EXPECT_EQ(t.tokenize("Café CAFÉ"), (Tokens{"cafe", "cafe"}));
  EXPECT_EQ(t.tokenize("Naïve Über crème brûlée"), (Tokens{"naive", "uber", "creme", "brulee"}));
  EXPECT_EQ(t.tokenize("cafe\xCC\x81"), (Tokens{"cafe"}));  // decomposed: e + U+0301 combining acute
  EXPECT_EQ(t.tokenize("だ"), (Tokens{"た"}));              // NFD drops the kana voicing mark, as BERT does
}

TEST(WordpieceTokenizer, CasedModeKeepsCaseAndAccents) {
  const auto t = tokenizer(false);
  EXPECT_EQ(t.tokenize("The the Cafe Café"), (Tokens{"The", "the", "Cafe", "[UNK]"}));
}

TEST(WordpieceTokenizer, CjkIdeographsAreSeparateTokens) {
  const auto t = tokenizer();
  EXPECT_EQ(t.tokenize("中国"), (Tokens{"中", "国"}));
  EXPECT_EQ(t.tokenize("hello中国world"), (Tokens{"hello", "中", "国", "world"}));
}

TEST(WordpieceTokenizer, ControlCharactersAreRemovedAndWhitespaceSplits) {
  const auto t = tokenizer();
  EXPECT_EQ(t.tokenize("hel\x01lo wor\xE2\x80\x8Bld"), (Tokens{"hello", "world"}));  // U+0001, U+200B removed
  EXPECT_EQ(t.tokenize(" the\tquick\nbrown\r\nfox\xC2\xA0the\xE3\x80\x80the "),  // NBSP, ideographic space
            (Tokens{"the", "quick", "brown", "fox", "the", "the"}));
  EXPECT_TRUE(t.tokenize("").empty());
  EXPECT_TRUE(t.tokenize(std::string("\0 \t", 3)).empty());
}

TEST(WordpieceTokenizer, OverlongWordsAreUnk) {
  const auto t = tokenizer();
  EXPECT_EQ(t.tokenize(std::string(100, 'a')).size(), 100U);  // "a" + 99 x "##a"
  EXPECT_EQ(t.tokenize(std::string(101, 'a')), (Tokens{"[UNK]"}));
}

TEST(WordpieceTokenizer, EncodeAddsSpecialTokensPadsAndMasks) {
  const auto t = tokenizer();
  const auto e = t.encode("the quick", 6);
  EXPECT_EQ(e.input_ids, (std::vector<int64_t>{2, 5, 6, 3, 0, 0}));
  EXPECT_EQ(e.attention_mask, (std::vector<int64_t>{1, 1, 1, 1, 0, 0}));
  EXPECT_EQ(e.token_type_ids, (std::vector<int64_t>{0, 0, 0, 0, 0, 0}));
  EXPECT_EQ(e.dropped_tokens, 0U);
  const auto empty = t.encode("", 3);
  EXPECT_EQ(empty.input_ids, (std::vector<int64_t>{2, 3, 0}));
}

TEST(WordpieceTokenizer, EncodeTruncatesAndKeepsSep) {
  const auto t = tokenizer();
  const auto e = t.encode("the quick brown fox", 4);
  EXPECT_EQ(e.input_ids, (std::vector<int64_t>{2, 5, 6, 3}));
  EXPECT_EQ(e.attention_mask, (std::vector<int64_t>{1, 1, 1, 1}));
  EXPECT_EQ(e.dropped_tokens, 2U);
  EXPECT_EQ(t.encode("the", 2).input_ids, (std::vector<int64_t>{2, 3}));
  EXPECT_THROW(t.encode("the", 1), std::invalid_argument);
}

TEST(WordpieceTokenizer, InvalidUtf8IsRejectedWithItsOffset) {
  const auto t = tokenizer();
  const std::vector<std::pair<std::string, std::size_t>> cases = {
      {"ab\xC3\x28", 2},       // lead byte followed by a non-continuation byte
      {"abc\xE2\x82", 3},      // cut off by the end
      {"\xC0\xAF", 0},         // overlong '/'
      {"x\xED\xA0\x80", 1},    // UTF-16 surrogate
      {"\x80", 0},             // lone continuation byte
      {"\xF4\x90\x80\x80", 0}  // above U+10FFFF
  };
  for (const auto& [text, offset] : cases) {
    try {
      t.tokenize(text);
      ADD_FAILURE() << "accepted invalid UTF-8 at " << offset;
    } catch (const Utf8Error& e) {
      EXPECT_EQ(e.offset(), offset);
      EXPECT_NE(std::string(e.what()).find("invalid UTF-8"), std::string::npos);
    }
  }
}

TEST(WordpieceTokenizer, MissingSpecialTokenNamesTheVocabulary) {
  std::vector<std::string> vocab = kVocab;
  vocab.erase(vocab.begin() + 3);  // [SEP]
  try {
    WordpieceTokenizer(vocab, WordpieceOptions{}, "my vocab");
    FAIL() << "accepted a vocabulary without [SEP]";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("my vocab"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("[SEP]"), std::string::npos) << e.what();
  }
}

TEST(WordpieceTokenizer, LoadsAVocabFileWithCrlfLines) {
  test::TempDir dir;
  const auto file = dir.write("vocab.txt", "[PAD]\r\n[UNK]\r\n[CLS]\r\n[SEP]\r\nhello\r\n##s\r\n");
  const auto t = WordpieceTokenizer::from_file(file);
  EXPECT_EQ(t.vocab_size(), 6U);
  EXPECT_EQ(t.id_of("hello"), 4);
  EXPECT_EQ(t.token_of(5), "##s");
  EXPECT_EQ(t.token_ids("hellos"), (std::vector<int64_t>{4, 5}));
  EXPECT_THROW(WordpieceTokenizer::from_file(dir.path() / "missing.txt"), std::runtime_error);
}

TEST(WordpieceTokenizer, ExampleVocabularyCoversADemoSentence) {
  const auto t =
      WordpieceTokenizer::from_file(std::filesystem::path(CONVEYOR_SOURCE_DIR) / "examples/data/vocab.txt");
  EXPECT_EQ(t.pad_id(), 0);
  EXPECT_EQ(t.unk_id(), 1);
  EXPECT_EQ(t.cls_id(), 2);
  EXPECT_EQ(t.sep_id(), 3);
  EXPECT_EQ(t.tokenize("The quick brown fox jumps over the lazy dog!"),
            (Tokens{"the", "quick", "brown", "fox", "jumps", "over", "the", "lazy", "dog", "!"}));
  EXPECT_EQ(t.tokenize("Pipelines"), (Tokens{"pipeline", "##s"}));
  EXPECT_EQ(t.tokenize("我好"), (Tokens{"我", "好"}));
}

}  // namespace
}  // namespace conveyor
