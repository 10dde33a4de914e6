#include "conveyor/ops/wordpiece_tokenizer.hpp"

#include <algorithm>

#include "ops/text_file.hpp"

namespace conveyor {
namespace {

bool is_continuation_byte(char c) {
  return (static_cast<unsigned char>(c) & 0xC0) == 0x80;
}

}  // namespace

WordpieceTokenizer::WordpieceTokenizer(std::vector<std::string> vocab, WordpieceOptions options,
                                       std::string origin)
    : vocab_(std::move(vocab)),
      options_(std::move(options)),
      origin_(std::move(origin)),
      basic_(options_.lowercase) {
  ids_.reserve(vocab_.size());
  for (std::size_t i = 0; i < vocab_.size(); ++i) ids_[vocab_[i]] = static_cast<int64_t>(i);
  unk_id_ = special_id(options_.unk_token, "unknown-word");
  cls_id_ = special_id(options_.cls_token, "classifier");
  sep_id_ = special_id(options_.sep_token, "separator");
  pad_id_ = special_id(options_.pad_token, "padding");
}

WordpieceTokenizer WordpieceTokenizer::from_file(const std::filesystem::path& vocab_file,
                                                 WordpieceOptions options) {
  std::vector<std::string> vocab = ops::read_lines(vocab_file);
  if (vocab.empty()) throw std::runtime_error("vocabulary file '" + vocab_file.string() + "' is empty");
  return WordpieceTokenizer(std::move(vocab), std::move(options),
                            "vocabulary file '" + vocab_file.string() + "'");
}

int64_t WordpieceTokenizer::special_id(const std::string& token, const char* role) const {
  auto id = id_of(token);
  if (!id)
    throw std::invalid_argument(origin_ + " (" + std::to_string(vocab_.size()) + " tokens) has no " + role +
                                " token '" + token + "'");
  return *id;
}

std::optional<int64_t> WordpieceTokenizer::id_of(std::string_view token) const {
  auto it = ids_.find(token);
  if (it == ids_.end()) return std::nullopt;
  return it->second;
}

const std::string& WordpieceTokenizer::token_of(int64_t id) const {
  if (id < 0 || static_cast<std::size_t>(id) >= vocab_.size())
    throw std::out_of_range("token id " + std::to_string(id) + " is outside the vocabulary of " +
                            std::to_string(vocab_.size()) + " tokens");
  return vocab_[static_cast<std::size_t>(id)];
}

// Greedy longest-match-first over code points, as BERT's WordpieceTokenizer.tokenize.
template <typename Emit>
void WordpieceTokenizer::split_word(const std::string& word, Emit&& emit) const {
  std::vector<std::size_t> bounds;  // byte offset of every code point, then the end
  for (std::size_t i = 0; i < word.size(); ++i)
    if (!is_continuation_byte(word[i])) bounds.push_back(i);
  if (bounds.size() > options_.max_chars_per_word) {
    emit(unk_id_);
    return;
  }
  bounds.push_back(word.size());

  std::vector<int64_t> pieces;
  std::string candidate;
  std::size_t start = 0;  // index into bounds
  while (start + 1 < bounds.size()) {
    std::optional<int64_t> match;
    std::size_t end = bounds.size() - 1;
    for (; end > start; --end) {
      candidate.assign(start > 0 ? "##" : "");
      candidate.append(word, bounds[start], bounds[end] - bounds[start]);
      if ((match = id_of(candidate))) break;
    }
    if (!match) {
      emit(unk_id_);
      return;
    }
    pieces.push_back(*match);
    start = end;
  }
  for (int64_t id : pieces) emit(id);
}

std::vector<int64_t> WordpieceTokenizer::token_ids(std::string_view utf8) const {
  std::vector<int64_t> ids;
  for (const auto& word : basic_.tokenize(utf8)) split_word(word, [&](int64_t id) { ids.push_back(id); });
  return ids;
}

std::vector<std::string> WordpieceTokenizer::tokenize(std::string_view utf8) const {
  std::vector<std::string> tokens;
  for (int64_t id : token_ids(utf8)) tokens.push_back(vocab_[static_cast<std::size_t>(id)]);
  return tokens;
}

WordpieceEncoding WordpieceTokenizer::encode(std::string_view utf8, std::size_t max_length) const {
  if (max_length < 2)
    throw std::invalid_argument("max_length " + std::to_string(max_length) +
                                " leaves no room for [CLS] and [SEP]");
  const std::vector<int64_t> ids = token_ids(utf8);
  const std::size_t kept = std::min(ids.size(), max_length - 2);

  WordpieceEncoding encoding;
  encoding.dropped_tokens = ids.size() - kept;
  encoding.input_ids.reserve(max_length);
  encoding.input_ids.push_back(cls_id_);
  encoding.input_ids.insert(encoding.input_ids.end(), ids.begin(),
                            ids.begin() + static_cast<std::ptrdiff_t>(kept));
  encoding.input_ids.push_back(sep_id_);
  const std::size_t used = encoding.input_ids.size();
  encoding.input_ids.resize(max_length, pad_id_);
  encoding.attention_mask.assign(max_length, 0);
  std::fill_n(encoding.attention_mask.begin(), used, 1);
  encoding.token_type_ids.assign(max_length, 0);
  return encoding;
}

}  // namespace conveyor
