#include "ops/bert_char_classes.hpp"

#include <unicode/locid.h>
#include <unicode/normalizer2.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>

#include <stdexcept>

namespace conveyor::ops {
namespace {

uint32_t category_mask(char32_t cp) {
  return U_GET_GC_MASK(static_cast<UChar32>(cp));
}

const icu::Normalizer2& nfd() {
  static const icu::Normalizer2* instance = [] {
    UErrorCode status = U_ZERO_ERROR;
    const icu::Normalizer2* n = icu::Normalizer2::getNFDInstance(status);
    if (U_FAILURE(status))
      throw std::runtime_error(std::string("ICU NFD normaliser unavailable: ") + u_errorName(status));
    return n;
  }();
  return *instance;
}

}  // namespace

bool is_bert_whitespace(char32_t cp) {
  if (cp == U' ' || cp == U'\t' || cp == U'\n' || cp == U'\r') return true;
  return (category_mask(cp) & (U_GC_ZS_MASK | U_GC_ZL_MASK | U_GC_ZP_MASK)) != 0;
}

bool is_bert_control(char32_t cp) {
  if (cp == U'\t' || cp == U'\n' || cp == U'\r') return false;
  return (category_mask(cp) & U_GC_C_MASK) != 0;
}

bool is_bert_punctuation(char32_t cp) {
  if ((cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) || (cp >= 123 && cp <= 126))
    return true;
  return cp >= 0x80 && (category_mask(cp) & U_GC_P_MASK) != 0;
}

bool is_cjk_ideograph(char32_t cp) {
  return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) ||
         (cp >= 0x20000 && cp <= 0x2A6DF) || (cp >= 0x2A700 && cp <= 0x2B73F) ||
         (cp >= 0x2B740 && cp <= 0x2B81F) || (cp >= 0x2B820 && cp <= 0x2CEAF) ||
         (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x2F800 && cp <= 0x2FA1F);
}

std::u32string lower_and_strip_accents(std::u32string_view token) {
  bool ascii = true;
  for (char32_t cp : token) ascii = ascii && cp < 0x80;
  std::u32string out;
  out.reserve(token.size());
  if (ascii) {  // the common case, without ICU's UTF-16 round trip
    for (char32_t cp : token) out.push_back(cp >= U'A' && cp <= U'Z' ? cp + 32 : cp);
    return out;
  }
  icu::UnicodeString text = icu::UnicodeString::fromUTF32(reinterpret_cast<const UChar32*>(token.data()),
                                                          static_cast<int32_t>(token.size()));
  text.toLower(icu::Locale::getRoot());
  UErrorCode status = U_ZERO_ERROR;
  const icu::UnicodeString decomposed = nfd().normalize(text, status);
  if (U_FAILURE(status))
    throw std::runtime_error(std::string("ICU NFD normalisation failed: ") + u_errorName(status));
  for (int32_t i = 0; i < decomposed.length(); i = decomposed.moveIndex32(i, 1)) {
    const UChar32 cp = decomposed.char32At(i);
    if (u_charType(cp) != U_NON_SPACING_MARK) out.push_back(static_cast<char32_t>(cp));
  }
  return out;
}

}  // namespace conveyor::ops
