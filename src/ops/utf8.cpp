#include "ops/utf8.hpp"

#include <cstdio>

#include "conveyor/ops/wordpiece_tokenizer.hpp"

namespace conveyor::ops {
namespace {

[[noreturn]] void bad(std::string_view text, std::size_t offset, const char* why) {
  char byte[8];
  std::snprintf(byte, sizeof byte, "0x%02X", static_cast<unsigned>(static_cast<unsigned char>(text[offset])));
  throw Utf8Error("invalid UTF-8 at byte offset " + std::to_string(offset) + " (" + byte + "): " + why,
                  offset);
}

}  // namespace

std::u32string decode_utf8(std::string_view text) {
  std::u32string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    const auto lead = static_cast<unsigned char>(text[i]);
    if (lead < 0x80) {
      out.push_back(lead);
      ++i;
      continue;
    }
    std::size_t length = 0;
    char32_t cp = 0;
    char32_t min_value = 0;
    if ((lead & 0xE0) == 0xC0) {
      length = 2, cp = lead & 0x1F, min_value = 0x80;
    } else if ((lead & 0xF0) == 0xE0) {
      length = 3, cp = lead & 0x0F, min_value = 0x800;
    } else if ((lead & 0xF8) == 0xF0) {
      length = 4, cp = lead & 0x07, min_value = 0x10000;
    } else {
      bad(text, i, (lead & 0xC0) == 0x80 ? "continuation byte without a lead byte" : "not a UTF-8 lead byte");
    }
    if (i + length > text.size()) bad(text, i, "sequence cut off by the end of the text");
    for (std::size_t k = 1; k < length; ++k) {
      const auto next = static_cast<unsigned char>(text[i + k]);
      if ((next & 0xC0) != 0x80) bad(text, i, "sequence cut off by a byte that is not a continuation byte");
      cp = (cp << 6) | (next & 0x3F);
    }
    if (cp < min_value) bad(text, i, "overlong encoding");
    if (cp >= 0xD800 && cp <= 0xDFFF) bad(text, i, "encodes a UTF-16 surrogate");
    if (cp > 0x10FFFF) bad(text, i, "code point above U+10FFFF");
    out.push_back(cp);
    i += length;
  }
  return out;
}

void append_utf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

}  // namespace conveyor::ops
