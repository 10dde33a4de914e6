#include "serve/binary_tensor.hpp"

#include <cstring>
#include <vector>

#include "serve/datatype.hpp"

namespace conveyor::serve {
namespace {

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

}  // namespace

void read_binary_tensor(NamedTensor& tensor, std::string_view bytes, int64_t elements, const std::string& context,
                        const std::string& field) {
  const std::optional<DType> dtype = dtype_of_datatype(tensor.datatype);
  if (!dtype) {
    tensor.strings = split_length_prefixed(bytes, elements, context);
    return;
  }
  const std::size_t want = static_cast<std::size_t>(elements) * dtype_size(*dtype);
  if (bytes.size() != want)
    throw ServeError(Failure::kBadRequest, context + ": " + field + " is " + std::to_string(bytes.size()) +
                                               " bytes; " + tensor.datatype + " " + std::to_string(elements) +
                                               " elements take " + std::to_string(want));
  tensor.tensor = Tensor(*dtype, tensor.shape);
  if (want) std::memcpy(tensor.tensor.raw(), bytes.data(), want);
}

void append_binary_tensor(std::string& out, const NamedTensor& tensor) {
  if (tensor.datatype != kBytes) {
    out.append(static_cast<const char*>(tensor.tensor.raw()), tensor.tensor.nbytes());
    return;
  }
  for (const auto& s : tensor.strings) {
    const auto length = static_cast<uint32_t>(s.size());
    for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((length >> (8 * i)) & 0xFF));
    out += s;
  }
}

}  // namespace conveyor::serve
