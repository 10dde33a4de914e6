#pragma once
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace conveyor::ops {

// Strict UTF-8 (RFC 3629): no overlong forms, no surrogates, nothing above U+10FFFF. Throws
// conveyor::Utf8Error (wordpiece_tokenizer.hpp) with the offset of the first bad byte.
std::u32string decode_utf8(std::string_view text);
void append_utf8(std::string& out, char32_t cp);

}  // namespace conveyor::ops
