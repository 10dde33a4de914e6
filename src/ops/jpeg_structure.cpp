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

struct Segment {
  uint8_t marker = 0;
  std::size_t payload = 0;  // offset of the segment's length field
  std::size_t length = 0;   // of the payload, length field included; 0 for markers without one
};

// The marker segment at or after `pos` (stray bytes before a marker and fill bytes skipped, as libjpeg
// does); `pos` moves past it. Empty when the data ends first or a length is impossible.
std::optional<Segment> next_segment(std::span<const uint8_t> bytes, std::size_t& pos) {
  const std::size_t n = bytes.size();
  while (pos < n) {
    if (bytes[pos] != kMarker) {
      ++pos;
      continue;
    }
    while (pos < n && bytes[pos] == kMarker) ++pos;
    if (pos >= n) return std::nullopt;
    Segment segment;
    segment.marker = bytes[pos++];
    if (segment.marker == kEoi || segment.marker == 0x00 || has_no_payload(segment.marker)) return segment;
    if (pos + 2 > n) return std::nullopt;
    segment.payload = pos;
    segment.length = (std::size_t{bytes[pos]} << 8) | bytes[pos + 1];
    if (segment.length < 2 || pos + segment.length > n) return std::nullopt;
    pos += segment.length;
    return segment;
  }
  return std::nullopt;
}

// Moves `pos` over entropy-coded data to the marker that ends it: FF 00 is a stuffed byte and FF D0..D7 a
// restart marker; any other marker ends it. False when the data ends first.
bool skip_entropy_coded_data(std::span<const uint8_t> bytes, std::size_t& pos) {
  for (;; ++pos) {
    if (pos + 1 >= bytes.size()) return false;
    if (bytes[pos] != kMarker) continue;
    const uint8_t next = bytes[pos + 1];
    if (next == 0x00 || next == kMarker || is_restart(next)) continue;
    return true;
  }
}

}  // namespace

bool looks_like_jpeg(std::span<const uint8_t> bytes) {
  return bytes.size() >= 3 && bytes[0] == kMarker && bytes[1] == kSoi && bytes[2] == kMarker;
}

bool jpeg_reaches_end(std::span<const uint8_t> bytes) {
  std::size_t pos = 2;  // after SOI
  while (const auto segment = next_segment(bytes, pos)) {
    if (segment->marker == kEoi) return true;
    if (segment->marker == kSos && !skip_entropy_coded_data(bytes, pos)) return false;
  }
  return false;
}

std::optional<JpegFrameSize> jpeg_frame_size(std::span<const uint8_t> bytes) {
  std::size_t pos = 2;  // after SOI
  while (const auto segment = next_segment(bytes, pos)) {
    if (segment->marker == kEoi || segment->marker == kSos) return std::nullopt;  // no frame header first
    if (!is_start_of_frame(segment->marker)) continue;
    if (segment->length < 7) return std::nullopt;  // length, precision, height, width
    const std::size_t at = segment->payload;
    return JpegFrameSize{(bytes[at + 5] << 8) | bytes[at + 6], (bytes[at + 3] << 8) | bytes[at + 4]};
  }
  return std::nullopt;
}

}  // namespace conveyor::ops
