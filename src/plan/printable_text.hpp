#pragma once
// Text from a user's file quoted in an error message: bytes that are not printable ASCII become \xNN (a NUL
// would cut the message short, others garble the terminal), and a long text is cut to `max_length`.
#include <cstddef>
#include <string>
#include <string_view>

namespace conveyor::plan {

inline std::string printable(std::string_view text, std::size_t max_length = 60) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (i == max_length) return out + "...";
    const auto byte = static_cast<unsigned char>(text[i]);
    if (byte >= 0x20 && byte < 0x7f) {
      out += static_cast<char>(byte);
    } else {
      out += "\\x";
      out += kHex[byte >> 4];
      out += kHex[byte & 0xf];
    }
  }
  return out;
}

}  // namespace conveyor::plan
