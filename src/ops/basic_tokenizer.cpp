#include "conveyor/ops/wordpiece_tokenizer.hpp"
#include "ops/bert_char_classes.hpp"
#include "ops/utf8.hpp"

namespace conveyor {

std::vector<std::string> BasicTokenizer::tokenize(std::string_view utf8) const {
  std::vector<std::string> words;
  std::string word;
  const auto flush = [&] {
    if (!word.empty()) words.push_back(std::move(word));
    word.clear();
  };
  for (char32_t cp : ops::decode_utf8(utf8)) {
    if (cp == 0 || cp == 0xFFFD || ops::is_bert_control(cp)) continue;
    if (ops::is_bert_whitespace(cp)) {
      flush();
      continue;
    }
    if (lowercase_) {
      cp = ops::strip_accent(ops::to_lower(cp));
      if (cp == 0) continue;  // a combining mark: part of the accent being stripped
    }
    if (ops::is_cjk_ideograph(cp) || ops::is_bert_punctuation(cp)) {
      flush();
      ops::append_utf8(word, cp);
      flush();
      continue;
    }
    ops::append_utf8(word, cp);
  }
  flush();
  return words;
}

}  // namespace conveyor
