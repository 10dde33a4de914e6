#pragma once
#include <string>
#include <string_view>

namespace conveyor::ops {

// The character rules of BERT's BasicTokenizer (google-research/bert tokenization.py; HF BertTokenizer),
// with Unicode general categories, case mapping and NFD from ICU.

bool is_bert_whitespace(char32_t cp);   // space, \t, \n, \r, Zs, and Zl/Zp (Python's str.split splits there)
bool is_bert_control(char32_t cp);      // any C* category except \t \n \r: removed from the text
bool is_bert_punctuation(char32_t cp);  // all ASCII non-alphanumeric symbols and every P* character
bool is_cjk_ideograph(char32_t cp);     // BERT's CJK Unified Ideograph ranges (not Hangul or kana)

// BERT's uncased normalisation of one whitespace-separated token: full Unicode lower-casing (root
// locale, as Python's str.lower), then NFD, then removal of nonspacing marks (Mn) — which strips
// accents (é -> e) and also splits Hangul syllables into jamo and drops kana voicing marks, as BERT does.
std::u32string lower_and_strip_accents(std::u32string_view token);

}  // namespace conveyor::ops
