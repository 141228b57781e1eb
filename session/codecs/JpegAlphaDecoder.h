#pragma once

#include "display/Pixmap.h"

#include <cstdint>
#include <span>

namespace saffron {

// Decodes a SPICE_IMAGE_TYPE_JPEG_ALPHA image: an RGBA bitmap that spice-server sent as a JPEG
// of its colour plus an LZ stream of its alpha (image-encoders.cpp image_encoders_compress_jpeg
// with has_alpha). `wireData` is the image's JPEGAlphaData as it appears on the wire, starting at
// its first field:
//   uint8  flags           SPICE_JPEG_ALPHA_FLAGS_TOP_DOWN (1): the alpha rows are top-down
//   uint32 jpeg_size       (little-endian) bytes of JPEG at the start of data
//   uint32 data_size       (little-endian) bytes of data
//   uint8  data[data_size] the JFIF stream, then the alpha plane: an LZ stream of type XXXA
// Bytes after data are ignored, so the ImageReader may pass the rest of the message.
//
// The JPEG is always top-down (the server feeds bottom-up bitmaps to libjpeg in reverse); the
// alpha plane is in the bitmap's own row order, which TOP_DOWN gives and the LZ header repeats.
// The result is top-down premultiplied ARGB with hasAlpha; colour channels are clamped to the
// alpha, since lossy JPEG colour can exceed it (see decodeLzAlphaPlane in LzDecoder.h).
//
// Throws ProtocolError when the sizes are inconsistent, the JPEG is bad or not width x height
// (decodeJpeg), or the alpha stream is malformed or disagrees with the image.
Pixmap decodeJpegAlpha(std::span<const uint8_t> wireData, uint32_t width, uint32_t height);

} // namespace saffron
