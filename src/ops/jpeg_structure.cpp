#include "ops/jpeg_structure.hpp"

#include <cstddef>

namespace conveyor::ops {
namespace {

constexpr uint8_t kMarker = 0xFF;
constexpr uint8_t kSoi = 0xD8;
constexpr uint8_t kEoi = 0xD9;
constexpr uint8_t kSos = 0xDA;

bool is_restart(uint8_t m) {
  return m >= 0xD0 && m <= 0xD7;
}
bool has_no_payload(uint8_t m) {
  return is_restart(m) || m == kSoi || m == 0x01;
}

// Start-of-frame markers: C0..CF except DHT (C4), JPG (C8) and DAC (CC).
bool is_start_of_frame(uint8_t m) {
  return m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC;
}

}  // namespace

bool looks_like_jpeg(std::span<const uint8_t> bytes) {
  return bytes.size() >= 3 && bytes[0] == kMarker && bytes[1] == kSoi && bytes[2] == kMarker;
}

bool jpeg_reaches_end(std::span<const uint8_t> bytes) {
  const std::size_t n = bytes.size();
  std::size_t pos = 2;  // after SOI
  while (pos < n) {
    if (bytes[pos] != kMarker) {  // stray bytes before a marker: libjpeg skips them too
      ++pos;
      continue;
    }
    while (pos < n && bytes[pos] == kMarker) ++pos;  // fill bytes
    if (pos >= n) return false;
    const uint8_t marker = bytes[pos++];
    if (marker == kEoi) return true;
    if (marker == 0x00 || has_no_payload(marker)) continue;
    if (pos + 2 > n) return false;
    const std::size_t length = (std::size_t{bytes[pos]} << 8) | bytes[pos + 1];
    if (length < 2) return false;
    pos += length;
    if (pos > n) return false;
    if (marker != kSos) continue;
    // Entropy-coded data: FF 00 is a stuffed byte and FF D0..D7 a restart marker; any other marker ends it.
    for (;; ++pos) {
      if (pos + 1 >= n) return false;
      if (bytes[pos] != kMarker) continue;
      const uint8_t next = bytes[pos + 1];
      if (next == 0x00 || next == kMarker || is_restart(next)) continue;
      break;
    }
  }
  return false;
}

std::optional<JpegFrameSize> jpeg_frame_size(std::span<const uint8_t> bytes) {
  const std::size_t n = bytes.size();
  std::size_t pos = 2;  // after SOI
  while (pos < n) {
    if (bytes[pos] != kMarker) {
      ++pos;
      continue;
    }
    while (pos < n && bytes[pos] == kMarker) ++pos;
    if (pos >= n) return std::nullopt;
    const uint8_t marker = bytes[pos++];
    if (marker == kEoi || marker == kSos) return std::nullopt;  // image data before any frame header
    if (marker == 0x00 || has_no_payload(marker)) continue;
    if (pos + 2 > n) return std::nullopt;
    const std::size_t length = (std::size_t{bytes[pos]} << 8) | bytes[pos + 1];
    if (length < 2 || pos + length > n) return std::nullopt;
    if (is_start_of_frame(marker)) {
      if (length < 7) return std::nullopt;  // length, precision, height, width
      const int height = (bytes[pos + 3] << 8) | bytes[pos + 4];
      const int width = (bytes[pos + 5] << 8) | bytes[pos + 6];
      return JpegFrameSize{width, height};
    }
    pos += length;
  }
  return std::nullopt;
}

}  // namespace conveyor::ops
