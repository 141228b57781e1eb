#pragma once

#include "display/Pixmap.h"

#include <cstdint>
#include <span>

namespace saffron {

// The geometry of an uncompressed SPICE bitmap (spice.proto BitmapData; SPICE_IMAGE_TYPE_BITMAP).
struct BitmapInfo {
    uint8_t format = 0;   // SPICE_BITMAP_FMT_* from <spice/enums.h>
    bool topDown = false; // SPICE_BITMAP_FLAGS_TOP_DOWN; otherwise the first row in `data` is the bottom one
    uint32_t width = 0;   // BitmapData.x
    uint32_t height = 0;  // BitmapData.y
    uint32_t stride = 0;  // bytes from one row to the next in `data`
};

// Converts an uncompressed SPICE bitmap into a Pixmap (top-down, 0xAARRGGBB).
//
// Formats and results:
//   1BIT_LE / 1BIT_BE   indexed, 8 pixels a byte; BE: most significant bit is the left pixel,
//                       LE: least significant bit is the left pixel
//   4BIT_LE / 4BIT_BE   indexed, 2 pixels a byte; BE: high nibble is the left pixel, LE: low nibble
//   8BIT                indexed, 1 byte a pixel
//   16BIT               little-endian x1r5g5b5, channels widened by bit replication
//   24BIT               bytes B, G, R
//   32BIT               little-endian xRGB; the x byte is ignored
//   RGBA                little-endian premultiplied ARGB -> Pixmap with hasAlpha
//   8BIT_A              alpha only -> hasAlpha, pixel = alpha << 24 (colour 0)
// Pixmaps without alpha always carry 0xff in the top byte (QImage::Format_RGB32 layout).
//
// `palette` holds the wire entries of the SPICE Palette (spice.proto Palette.ents) as host
// integers, 0x00RRGGBB; the top byte is ignored. It is only used by the indexed formats and
// must then be non-empty. Entries past 2/16/256 are ignored. An index at or beyond
// palette.size() decodes as opaque black: the server is at fault, but rejecting the whole image
// would need a per-pixel check, and neither Windows GDI nor spice-common define a colour for it.
//
// Validation, all before any pixel is touched: a known format, plausibleImageSize(width,
// height), stride >= the bytes one row needs, stride * height <= data.size() (64-bit arithmetic).
// Throws ProtocolError with the reason when any of them fails.
Pixmap decodeBitmap(const BitmapInfo& info, std::span<const uint8_t> data, std::span<const uint32_t> palette);

// Bits per pixel of a SPICE_BITMAP_FMT_* value, 0 for an unknown format.
unsigned bitmapBitsPerPixel(uint8_t format);

} // namespace saffron
