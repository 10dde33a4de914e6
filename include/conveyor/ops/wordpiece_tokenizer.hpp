#pragma once
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace conveyor {

// Text that is not valid UTF-8; offset() is the byte where decoding failed.
class Utf8Error : public std::invalid_argument {
 public:
  Utf8Error(const std::string& message, std::size_t offset)
      : std::invalid_argument(message), offset_(offset) {}
  std::size_t offset() const { return offset_; }

 private:
  std::size_t offset_;
};

// BERT's BasicTokenizer (google-research/bert tokenization.py = HF's slow BertTokenizer), same steps
// in the same order, with ICU for the Unicode parts:
//  - removes NUL, U+FFFD and every C* (control, format, private-use, unassigned) character except
//    \t \n \r; whitespace (\t \n \r, Zs, Zl, Zp) separates words;
//  - every CJK ideograph (BERT's ranges; not Hangul or kana) becomes a word of its own;
//  - lowercase: full Unicode lower-casing, NFD, removal of nonspacing marks (strips accents: é -> e);
//  - every punctuation character (all ASCII non-alphanumeric symbols, as in BERT, and Unicode P*)
//    becomes a word of its own.
// No NFC step is applied first (newer HF releases add one; it only matters for decomposed input to a
// cased vocabulary).
class BasicTokenizer {
 public:
  explicit BasicTokenizer(bool lowercase = true) : lowercase_(lowercase) {}
  // Words of UTF-8 text; throws Utf8Error for invalid UTF-8.
  std::vector<std::string> tokenize(std::string_view utf8) const;
  bool lowercase() const { return lowercase_; }

 private:
  bool lowercase_;
};

struct WordpieceOptions {
  bool lowercase = true;  // BasicTokenizer lower-casing + accent stripping (an "uncased" vocab)
  std::string unk_token = "[UNK]";
  std::string cls_token = "[CLS]";
  std::string sep_token = "[SEP]";
  std::string pad_token = "[PAD]";
  std::size_t max_chars_per_word = 100;  // longer words become [UNK]
};

// A BERT model input of max_length positions: [CLS] tokens... [SEP] [PAD]...
struct WordpieceEncoding {
  std::vector<int64_t> input_ids;
  std::vector<int64_t> attention_mask;  // 1 for [CLS], tokens and [SEP]; 0 for padding
  std::vector<int64_t> token_type_ids;  // all 0 (one segment)
  std::size_t dropped_tokens = 0;       // word pieces cut off to fit max_length
};

// BERT's WordPiece tokenizer: BasicTokenizer words, then greedy longest-match-first sub-words with "##"
// marking a continuation; a word that cannot be split into vocabulary pieces becomes [UNK].
// Immutable after construction, so one instance can be shared by any number of threads.
class WordpieceTokenizer {
 public:
  // vocab[i] is the token of id i. Throws std::invalid_argument naming `origin` if a special token of
  // `options` is missing from the vocabulary. A token listed twice gets the later id (as HF's load_vocab).
  WordpieceTokenizer(std::vector<std::string> vocab, WordpieceOptions options,
                     std::string origin = "vocabulary");
  // One token per line, id = line number (0-based); "\r\n" line endings are accepted. Throws
  // std::runtime_error (unreadable/empty file) or std::invalid_argument (missing special token),
  // both naming the file.
  static WordpieceTokenizer from_file(const std::filesystem::path& vocab_file, WordpieceOptions options = {});

  std::vector<std::string> tokenize(std::string_view utf8) const;  // word pieces, e.g. "un", "##aff"
  std::vector<int64_t> token_ids(std::string_view utf8) const;
  // [CLS] + ids + [SEP], truncated to max_length (>= 2; [SEP] is kept) and padded with [PAD].
  WordpieceEncoding encode(std::string_view utf8, std::size_t max_length) const;

  std::optional<int64_t> id_of(std::string_view token) const;
  const std::string& token_of(int64_t id) const;  // throws std::out_of_range
  std::size_t vocab_size() const { return vocab_.size(); }
  int64_t unk_id() const { return unk_id_; }
  int64_t cls_id() const { return cls_id_; }
  int64_t sep_id() const { return sep_id_; }
  int64_t pad_id() const { return pad_id_; }
  const WordpieceOptions& options() const { return options_; }

 private:
  struct StringHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };

  template <typename Emit>
  void split_word(const std::string& word, Emit&& emit) const;
  int64_t special_id(const std::string& token, const char* role) const;

  std::vector<std::string> vocab_;
  std::unordered_map<std::string, int64_t, StringHash, std::equal_to<>> ids_;
  WordpieceOptions options_;
  std::string origin_;
  BasicTokenizer basic_;
  int64_t unk_id_ = 0, cls_id_ = 0, sep_id_ = 0, pad_id_ = 0;
};

}  // namespace conveyor
