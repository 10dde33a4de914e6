#include "ops/bert_char_classes.hpp"

#include <algorithm>
#include <iterator>

namespace conveyor::ops {
namespace {

struct Range {
  char32_t first;
  char32_t last;
};

template <std::size_t N>
bool in(const Range (&ranges)[N], char32_t cp) {
  // Ranges are sorted and disjoint: binary search for the last range starting at or before cp.
  const auto* it = std::upper_bound(std::begin(ranges), std::end(ranges), cp,
                                    [](char32_t c, const Range& r) { return c < r.first; });
  return it != std::begin(ranges) && cp <= std::prev(it)->last;
}

// Format characters (Cf), private use (Co) and the noncharacters U+FFFE/FFFF.
constexpr Range kFormatAndPrivate[] = {
    {0x00AD, 0x00AD},   {0x0600, 0x0605},   {0x061C, 0x061C},   {0x06DD, 0x06DD},     {0x070F, 0x070F},
    {0x180E, 0x180E},   {0x200B, 0x200F},   {0x202A, 0x202E},   {0x2060, 0x2064},     {0x2066, 0x206F},
    {0xE000, 0xF8FF},   {0xFEFF, 0xFEFF},   {0xFFF9, 0xFFFB},   {0xFFFE, 0xFFFF},     {0x110BD, 0x110BD},
    {0x1D173, 0x1D17A}, {0xE0001, 0xE0001}, {0xE0020, 0xE007F}, {0xF0000, 0x10FFFF},
};

// Unicode punctuation (P*) outside ASCII: Latin-1, Greek, Armenian, Hebrew, Arabic, Devanagari, Thai,
// General Punctuation, Supplemental Punctuation, CJK Symbols and Punctuation, CJK compatibility and
// small forms, fullwidth forms.
constexpr Range kPunctuation[] = {
    {0x00A1, 0x00A1}, {0x00A7, 0x00A7}, {0x00AB, 0x00AB}, {0x00B6, 0x00B7}, {0x00BB, 0x00BB},
    {0x00BF, 0x00BF}, {0x037E, 0x037E}, {0x0387, 0x0387}, {0x055A, 0x055F}, {0x0589, 0x058A},
    {0x05BE, 0x05BE}, {0x05C0, 0x05C0}, {0x05C3, 0x05C3}, {0x05C6, 0x05C6}, {0x05F3, 0x05F4},
    {0x0609, 0x060A}, {0x060C, 0x060D}, {0x061B, 0x061B}, {0x061E, 0x061F}, {0x066A, 0x066D},
    {0x06D4, 0x06D4}, {0x0964, 0x0965}, {0x0970, 0x0970}, {0x0E4F, 0x0E4F}, {0x0E5A, 0x0E5B},
    {0x2010, 0x2027}, {0x2030, 0x2043}, {0x2045, 0x2051}, {0x2053, 0x205E}, {0x207D, 0x207E},
    {0x208D, 0x208E}, {0x2308, 0x230B}, {0x2329, 0x232A}, {0x2768, 0x2775}, {0x27C5, 0x27C6},
    {0x27E6, 0x27EF}, {0x2983, 0x2998}, {0x29D8, 0x29DB}, {0x29FC, 0x29FD}, {0x2E00, 0x2E4F},
    {0x3001, 0x3003}, {0x3008, 0x3011}, {0x3014, 0x301F}, {0x3030, 0x3030}, {0x303D, 0x303D},
    {0x30A0, 0x30A0}, {0x30FB, 0x30FB}, {0xFD3E, 0xFD3F}, {0xFE10, 0xFE19}, {0xFE30, 0xFE52},
    {0xFE54, 0xFE61}, {0xFE63, 0xFE63}, {0xFE68, 0xFE68}, {0xFE6A, 0xFE6B}, {0xFF01, 0xFF03},
    {0xFF05, 0xFF0A}, {0xFF0C, 0xFF0F}, {0xFF1A, 0xFF1B}, {0xFF1F, 0xFF20}, {0xFF3B, 0xFF3D},
    {0xFF3F, 0xFF3F}, {0xFF5B, 0xFF5B}, {0xFF5D, 0xFF5D}, {0xFF5F, 0xFF65},
};

// The ranges BERT's _is_chinese_char treats as CJK (Hangul and kana are not among them).
constexpr Range kCjk[] = {
    {0x3400, 0x4DBF},   {0x4E00, 0x9FFF},   {0xF900, 0xFAFF},   {0x20000, 0x2A6DF},
    {0x2A700, 0x2B73F}, {0x2B740, 0x2B81F}, {0x2B820, 0x2CEAF}, {0x2F800, 0x2FA1F},
};

// Nonspacing combining marks (Mn) of the main blocks, removed by accent stripping.
constexpr Range kCombiningMarks[] = {
    {0x0300, 0x036F}, {0x0483, 0x0487}, {0x0591, 0x05BD}, {0x05BF, 0x05BF}, {0x05C1, 0x05C2},
    {0x05C4, 0x05C5}, {0x05C7, 0x05C7}, {0x0610, 0x061A}, {0x064B, 0x065F}, {0x0670, 0x0670},
    {0x06D6, 0x06DC}, {0x06DF, 0x06E4}, {0x06E7, 0x06E8}, {0x06EA, 0x06ED}, {0x0900, 0x0902},
    {0x093A, 0x093A}, {0x093C, 0x093C}, {0x0941, 0x0948}, {0x094D, 0x094D}, {0x0951, 0x0957},
    {0x0962, 0x0963}, {0x0E31, 0x0E31}, {0x0E34, 0x0E3A}, {0x0E47, 0x0E4E}, {0x1AB0, 0x1AFF},
    {0x1DC0, 0x1DFF}, {0x20D0, 0x20FF}, {0x3099, 0x309A}, {0xFE20, 0xFE2F},
};

// Base letters of precomposed Latin letters ('.' = no canonical decomposition, e.g. æ ø ß đ ł).
constexpr char kLatin1Base[] =  // U+00C0..U+00FF
    "AAAAAA.CEEEEIIII"
    ".NOOOOO..UUUUY.."
    "aaaaaa.ceeeeiiii"
    ".nooooo..uuuuy.y";
constexpr char kLatinExtendedABase[] =  // U+0100..U+017F
    "AaAaAaCcCcCcCcDd"
    "..EeEeEeEeEeGgGg"
    "GgGgHh..IiIiIiIi"
    "I...JjKk.LlLlLl."
    "...NnNnNn...OoOo"
    "Oo..RrRrRrSsSsSs"
    "SsTtTt..UuUuUuUu"
    "UuUuWwYyYZzZzZz.";
// Latin Extended Additional U+1E00..U+1EFF (Vietnamese, Welsh, ...): base letter of each pair.
constexpr char kLatinExtendedAdditionalBase[] =
    "AaBbBbBbCcDdDdDdDdDdEeEeEeEeEeFfGgHhHhHhHhHhIiIiKkKkKkLlLlLlLlMm"
    "MmMmNnNnNnNnOoOoOoOoPpPpRrRrRrRrSsSsSsSsSsTtTtTtTtUuUuUuUuUuVvVv"
    "WwWwWwWwWwXxXxYyZzZzZzhtwy......AaAaAaAaAaAaAaAaAaAaAaAaEeEeEeEe"
    "EeEeEeEeIiIiOoOoOoOoOoOoOoOoOoOoOoOoUuUuUuUuUuUuUuYyYyYyYy......";

struct Decomposition {
  char32_t composed;
  char32_t base;
};
// Greek letters with tonos/dialytika and Cyrillic letters with breve/diaeresis/accents.
constexpr Decomposition kGreekCyrillicBase[] = {
    {0x0386, 0x0391}, {0x0388, 0x0395}, {0x0389, 0x0397}, {0x038A, 0x0399}, {0x038C, 0x039F},
    {0x038E, 0x03A5}, {0x038F, 0x03A9}, {0x0390, 0x03B9}, {0x03AA, 0x0399}, {0x03AB, 0x03A5},
    {0x03AC, 0x03B1}, {0x03AD, 0x03B5}, {0x03AE, 0x03B7}, {0x03AF, 0x03B9}, {0x03B0, 0x03C5},
    {0x03CA, 0x03B9}, {0x03CB, 0x03C5}, {0x03CC, 0x03BF}, {0x03CD, 0x03C5}, {0x03CE, 0x03C9},
    {0x0400, 0x0415}, {0x0401, 0x0415}, {0x0403, 0x0413}, {0x0407, 0x0406}, {0x040C, 0x041A},
    {0x040D, 0x0418}, {0x040E, 0x0423}, {0x0419, 0x0418}, {0x0439, 0x0438}, {0x0450, 0x0435},
    {0x0451, 0x0435}, {0x0453, 0x0433}, {0x0457, 0x0456}, {0x045C, 0x043A}, {0x045D, 0x0438},
    {0x045E, 0x0443},
};

char32_t table_base(const char* table, char32_t offset, char32_t cp) {
  const char base = table[offset];
  return base == '.' ? cp : static_cast<char32_t>(base);
}

}  // namespace

bool is_bert_whitespace(char32_t cp) {
  switch (cp) {
    case U' ': case U'\t': case U'\n': case U'\r':
    case 0x00A0: case 0x1680: case 0x202F: case 0x205F: case 0x3000: case 0x2028: case 0x2029:
      return true;
    default:
      return cp >= 0x2000 && cp <= 0x200A;
  }
}

bool is_bert_control(char32_t cp) {
  if (cp == U'\t' || cp == U'\n' || cp == U'\r') return false;
  if (cp < 0x20 || (cp >= 0x7F && cp <= 0x9F)) return true;
  return in(kFormatAndPrivate, cp);
}

bool is_bert_punctuation(char32_t cp) {
  if ((cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) || (cp >= 123 && cp <= 126))
    return true;
  return cp >= 0x80 && in(kPunctuation, cp);
}

bool is_cjk_ideograph(char32_t cp) { return cp >= 0x3400 && in(kCjk, cp); }

char32_t to_lower(char32_t cp) {
  if (cp < 0x80) return cp >= U'A' && cp <= U'Z' ? cp + 32 : cp;
  if (cp >= 0xC0 && cp <= 0xDE) return cp == 0xD7 ? cp : cp + 32;
  if (cp >= 0x100 && cp <= 0x17F) {
    if (cp == 0x130) return U'i';  // İ: Python gives "i" + U+0307, which accent stripping drops anyway
    if (cp == 0x178) return 0xFF;
    const bool odd_upper = (cp >= 0x139 && cp <= 0x148) || (cp >= 0x179 && cp <= 0x17E);
    const bool even_upper = (cp <= 0x137 && cp != 0x131) || (cp >= 0x14A && cp <= 0x177);
    if ((odd_upper && cp % 2 == 1) || (even_upper && cp % 2 == 0)) return cp + 1;
    return cp;
  }
  if (cp >= 0x386 && cp <= 0x3AB) {
    if (cp >= 0x391 && cp != 0x3A2) return cp + 32;
    switch (cp) {
      case 0x386: return 0x3AC;
      case 0x388: case 0x389: case 0x38A: return cp + 37;
      case 0x38C: return 0x3CC;
      case 0x38E: case 0x38F: return cp + 63;
      default: return cp;
    }
  }
  if (cp >= 0x400 && cp <= 0x40F) return cp + 80;
  if (cp >= 0x410 && cp <= 0x42F) return cp + 32;
  if (cp >= 0x531 && cp <= 0x556) return cp + 48;
  if (((cp >= 0x1E00 && cp <= 0x1E95) || (cp >= 0x1EA0 && cp <= 0x1EFF)) && cp % 2 == 0) return cp + 1;
  if (cp >= 0xFF21 && cp <= 0xFF3A) return cp + 32;
  return cp;
}

char32_t strip_accent(char32_t cp) {
  if (cp < 0xC0) return cp;
  if (cp <= 0xFF) return table_base(kLatin1Base, cp - 0xC0, cp);
  if (cp <= 0x17F) return table_base(kLatinExtendedABase, cp - 0x100, cp);
  if (cp >= 0x1E00 && cp <= 0x1EFF) return table_base(kLatinExtendedAdditionalBase, cp - 0x1E00, cp);
  if (in(kCombiningMarks, cp)) return 0;
  for (const auto& d : kGreekCyrillicBase)
    if (d.composed == cp) return d.base;
  return cp;
}

}  // namespace conveyor::ops
