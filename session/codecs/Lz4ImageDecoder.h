#pragma once

#include "display/Pixmap.h"

#include <cstdint>
#include <span>

namespace saffron {

// Decodes the BinaryData of a SPICE_IMAGE_TYPE_LZ4 image; width and height come from the
// ImageDescriptor. The stream, as spice-server's lz4-encoder.c writes it and spice-common's
// canvas_get_lz4 reads it:
//   uint8  top_down        non-zero: the first row is the top one; zero: the bottom one
//   uint8  format          SPICE_BITMAP_FMT_16BIT, 24BIT, 32BIT or RGBA
//   then, until the data ends, blocks of
//     uint32 size          BIG-endian (unlike the rest of SPICE)
//     uint8  lz4[size]     one LZ4 block, compressed with LZ4_compress_fast_continue, so a block
//                          may reference the output of the blocks before it
// The decompressed rows are packed (width * bytes-per-pixel each, no stride padding) and use
// the same pixel layouts as uncompressed bitmaps (see BitmapDecoder.h). RGBA gives a Pixmap
// with hasAlpha; the other formats give opaque pixels.
//
// Throws ProtocolError for an implausible size, a missing header, an unsupported format, a
// truncated block, corrupt LZ4 data, or output that is shorter or longer than
// width * height * bytes-per-pixel. Nothing is ever written outside the output image.
Pixmap decodeLz4Image(std::span<const uint8_t> data, uint32_t width, uint32_t height);

} // namespace saffron
