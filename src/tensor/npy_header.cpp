#include "tensor/npy_header.hpp"

#include <cctype>
#include <cstdio>
#include <set>

#include "conveyor/tensor/tensor.hpp"

namespace conveyor::tensor_detail {
namespace {

constexpr std::size_t kMaxDimDigits = 12;  // a dimension of 10^12 elements or more is no real array
constexpr std::size_t kMaxExcerpt = 40;

class HeaderParser {
 public:
  HeaderParser(const std::string& text, const std::string& origin) : text_(text), origin_(origin) {}

  NpyHeader parse() {
    check_ascii();
    skip_spaces();
    if (pos_ == text_.size()) fail(" is empty");
    if (!at('{')) fail(": expected a dict like {'descr': '<f4', ...}, got '" + excerpt(pos_) + "'");
    ++pos_;
    NpyHeader header;
    std::set<std::string> seen;
    skip_spaces();
    while (!at('}')) {
      const std::string key = key_name();
      if (!seen.insert(key).second) fail(": '" + key + "' appears twice");
      if (key == "descr") {
        header.descr = descr_value();
      } else if (key == "fortran_order") {
        header.fortran_order = fortran_order_value();
      } else if (key == "shape") {
        header.shape = shape_value();
      } else {
        fail(": unexpected key '" + key + "' (a .npy header holds 'descr', 'fortran_order' and 'shape')");
      }
      skip_spaces();
      if (at(',')) {
        ++pos_;
        skip_spaces();
      } else if (!at('}')) {
        fail(": expected ',' or '}' after the value of '" + key + "', got '" + excerpt(pos_) + "'");
      }
    }
    ++pos_;
    skip_spaces();
    if (pos_ != text_.size()) fail(": unexpected text after the closing '}': '" + excerpt(pos_) + "'");
    for (const char* key : {"descr", "fortran_order", "shape"})
      if (!seen.count(key)) fail(std::string(" has no '") + key + "'");
    return header;
  }

 private:
  [[noreturn]] void fail(const std::string& message) const {
    throw TensorError(origin_ + ": .npy header" + message);
  }

  bool at(char c) const { return pos_ < text_.size() && text_[pos_] == c; }

  void skip_spaces() {
    while (pos_ < text_.size() &&
           (text_[pos_] == ' ' || text_[pos_] == '\t' || text_[pos_] == '\n' || text_[pos_] == '\r'))
      ++pos_;
  }

  // Everything below quotes pieces of the header in errors, so it must be printable text.
  void check_ascii() const {
    for (std::size_t i = 0; i < text_.size(); ++i) {
      const auto byte = static_cast<unsigned char>(text_[i]);
      if ((byte < 0x20 || byte > 0x7e) && byte != '\n' && byte != '\t' && byte != '\r') {
        char hex[8];
        std::snprintf(hex, sizeof hex, "0x%02x", byte);
        fail(": byte " + std::string(hex) + " at offset " + std::to_string(i) + " is not ASCII text");
      }
    }
  }

  // The value starting at `start`, up to the ',' or '}' that ends it, shortened for a message.
  std::string excerpt(std::size_t start) const {
    int depth = 0;
    char quote = 0;
    std::size_t end = start;
    for (; end < text_.size(); ++end) {
      const char c = text_[end];
      if (quote) {
        if (c == quote) quote = 0;
      } else if (c == '\'' || c == '"') {
        quote = c;
      } else if (c == '(' || c == '[' || c == '{') {
        ++depth;
      } else if (c == ')' || c == ']' || c == '}') {
        if (depth == 0) break;
        --depth;
      } else if ((c == ',' && depth == 0) || c == '\n') {
        break;
      }
    }
    std::string text = text_.substr(start, end - start);
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.pop_back();
    return text.size() > kMaxExcerpt ? text.substr(0, kMaxExcerpt) + "..." : text;
  }

  // A string literal in single or double quotes (a header has no escapes in it).
  bool quoted(std::string& value) {
    if (!at('\'') && !at('"')) return false;
    const char quote = text_[pos_];
    const std::size_t close = text_.find(quote, pos_ + 1);
    if (close == std::string::npos)
      fail(": a string starting at offset " + std::to_string(pos_) + " is not closed");
    value = text_.substr(pos_ + 1, close - pos_ - 1);
    pos_ = close + 1;
    return true;
  }

  std::string key_name() {
    std::string key;
    if (!quoted(key)) fail(": expected a quoted key, got '" + excerpt(pos_) + "'");
    skip_spaces();
    if (!at(':')) fail(": expected ':' after '" + key + "'");
    ++pos_;
    skip_spaces();
    return key;
  }

  std::string descr_value() {
    const std::size_t start = pos_;
    std::string descr;
    if (quoted(descr)) return descr;
    fail(": 'descr' must be a quoted dtype like '<f4', got '" + excerpt(start) + "'" +
         (at('[') ? " (structured dtypes are not supported)" : ""));
  }

  bool fortran_order_value() {
    const std::size_t start = pos_;
    while (pos_ < text_.size() &&
           (std::isalnum(static_cast<unsigned char>(text_[pos_])) || text_[pos_] == '_'))
      ++pos_;
    const std::string word = text_.substr(start, pos_ - start);
    if (word == "True") return true;
    if (word == "False") return false;
    fail(": 'fortran_order' must be True or False, got '" + excerpt(start) + "'");
  }

  // ( [dim {, dim}] [,] ) with each dim a non-negative decimal integer.
  Shape shape_value() {
    const std::size_t start = pos_;
    const auto malformed = [&] {
      fail(": 'shape' must be a tuple of non-negative integers like (1, 64), got '" + excerpt(start) + "'");
    };
    if (!at('(')) malformed();
    ++pos_;
    skip_spaces();
    Shape shape;
    while (!at(')')) {
      const std::size_t digits_start = pos_;
      while (pos_ < text_.size() && std::isdigit(static_cast<unsigned char>(text_[pos_]))) ++pos_;
      const std::string digits = text_.substr(digits_start, pos_ - digits_start);
      if (digits.empty()) malformed();
      if (digits.size() > kMaxDimDigits) fail(": 'shape' dimension " + digits + " is too large");
      shape.push_back(std::stoll(digits));
      skip_spaces();
      if (at(',')) {
        ++pos_;
        skip_spaces();
      } else if (!at(')')) {
        malformed();
      }
    }
    ++pos_;
    return shape;
  }

  const std::string& text_;
  const std::string& origin_;
  std::size_t pos_ = 0;
};

}  // namespace

NpyHeader parse_npy_header(const std::string& text, const std::string& origin) {
  return HeaderParser(text, origin).parse();
}

}  // namespace conveyor::tensor_detail
