#include "serve/length_prefixed.hpp"

#include "serve/inference.hpp"

namespace conveyor::serve {

std::vector<std::string> split_length_prefixed(std::string_view bytes, int64_t elements, const std::string& context) {
  auto bad = [&](const std::string& what) { throw ServeError(Failure::kBadRequest, context + ": binary BYTES data " + what); };
  std::vector<std::string> strings;
  std::size_t at = 0;
  while (at < bytes.size()) {
    if (bytes.size() - at < 4) bad("ends inside an element's 4-byte length");
    uint32_t length = 0;
    for (int i = 3; i >= 0; --i) length = (length << 8) | static_cast<uint8_t>(bytes[at + static_cast<std::size_t>(i)]);
    at += 4;
    if (length > bytes.size() - at)
      bad("element " + std::to_string(strings.size()) + " declares " + std::to_string(length) + " bytes; " +
          std::to_string(bytes.size() - at) + " remain");
    if (static_cast<int64_t>(strings.size()) >= elements)
      bad("holds more than the " + std::to_string(elements) + " elements its shape has");
    strings.emplace_back(bytes.substr(at, length));
    at += length;
  }
  if (static_cast<int64_t>(strings.size()) != elements)
    bad("holds " + std::to_string(strings.size()) + " elements; its shape has " + std::to_string(elements));
  return strings;
}

void append_length_prefixed(std::string& out, const std::vector<std::string>& strings) {
  for (const auto& s : strings) {
    const auto length = static_cast<uint32_t>(s.size());
    for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((length >> (8 * i)) & 0xFF));
    out += s;
  }
}

}  // namespace conveyor::serve
