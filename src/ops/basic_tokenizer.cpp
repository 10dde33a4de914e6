#include "conveyor/ops/wordpiece_tokenizer.hpp"
#include "ops/bert_char_classes.hpp"
#include "ops/utf8.hpp"

namespace conveyor {

// Same steps, in the same order, as BERT's BasicTokenizer.tokenize: clean the text, put CJK ideographs
// apart, split on whitespace, lower-case and strip accents per token, then split off punctuation.
std::vector<std::string> BasicTokenizer::tokenize(std::string_view utf8) const {
  std::vector<std::u32string> tokens;
  std::u32string current;
  const auto end_token = [&] {
    if (!current.empty()) tokens.push_back(std::move(current));
    current.clear();
  };
  for (char32_t cp : ops::decode_utf8(utf8)) {
    if (cp == 0 || cp == 0xFFFD || ops::is_bert_control(cp)) continue;
    if (ops::is_bert_whitespace(cp)) {
      end_token();
    } else if (ops::is_cjk_ideograph(cp)) {
      end_token();
      current.push_back(cp);
      end_token();
    } else {
      current.push_back(cp);
    }
  }
  end_token();

  std::vector<std::string> words;
  std::string word;
  const auto end_word = [&] {
    if (!word.empty()) words.push_back(std::move(word));
    word.clear();
  };
  for (auto& token : tokens) {
    if (lowercase_) token = ops::lower_and_strip_accents(token);
    for (char32_t cp : token) {
      if (ops::is_bert_punctuation(cp)) {
        end_word();
        ops::append_utf8(word, cp);
        end_word();
      } else {
        ops::append_utf8(word, cp);
      }
    }
    end_word();
  }
  return words;
}

}  // namespace conveyor
