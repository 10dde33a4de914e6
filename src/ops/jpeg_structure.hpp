#pragma once
#include <cstdint>
#include <optional>
#include <span>

namespace conveyor::ops {

bool looks_like_jpeg(std::span<const uint8_t> bytes);

// Whether a JPEG stream reaches its end-of-image marker. libjpeg decodes a truncated file "successfully"
// (it warns and fills the missing rows with grey), so imdecode alone cannot tell a cut-off upload from a
// whole one. Walks the marker segments (skipping their payloads, so an EXIF thumbnail's own EOI does not
// count) and the entropy-coded data after each SOS.
bool jpeg_reaches_end(std::span<const uint8_t> bytes);

struct JpegFrameSize {
  int width = 0, height = 0;
};

// The width and height in the first start-of-frame segment (SOF0..SOF15), found without decoding;
// empty when the stream has none before its image data.
std::optional<JpegFrameSize> jpeg_frame_size(std::span<const uint8_t> bytes);

}  // namespace conveyor::ops
