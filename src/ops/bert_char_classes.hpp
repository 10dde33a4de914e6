#pragma once

namespace conveyor::ops {

// Character classes of BERT's BasicTokenizer (google-research/bert tokenization.py), without ICU.
// Unicode categories are approximated by tables of the blocks that matter for real text; what is
// covered is listed in bert_char_classes.cpp.

bool is_bert_whitespace(char32_t cp);  // space, \t, \n, \r, Zs, U+2028/9: separates words
bool is_bert_control(char32_t cp);     // Cc (but \t\n\r), Cf, private use, U+FFFE/F: removed
bool is_bert_punctuation(char32_t cp); // all ASCII non-alphanumeric symbols, plus P*: a token of its own
bool is_cjk_ideograph(char32_t cp);    // BERT's CJK Unified Ideograph ranges: a token of its own

// Simple lower-case mapping for ASCII, Latin-1, Latin Extended-A, Latin Extended Additional, Greek,
// Cyrillic (basic), Armenian and fullwidth Latin; other code points are returned unchanged.
char32_t to_lower(char32_t cp);

// BERT's accent stripping (NFD, then drop Mn): a precomposed letter becomes its base letter, a
// combining mark becomes 0 (drop it), anything else is returned unchanged.
char32_t strip_accent(char32_t cp);

}  // namespace conveyor::ops
