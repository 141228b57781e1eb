#pragma once

#include "display/Pixmap.h"

#include <cstdint>
#include <span>

namespace saffron {

// Decodes the BinaryData of a SPICE_IMAGE_TYPE_JPEG image: a complete baseline or progressive
// JFIF stream (spice-server's jpeg-encoder.c writes one per image with libjpeg). The result is
// an opaque top-down Pixmap; grayscale streams come out grey.
//
// The stream's dimensions must equal the ImageDescriptor's (expectedWidth x expectedHeight):
// the display channel sizes its drawing from the descriptor, and a mismatch means a broken or
// hostile server.
//
// Throws ProtocolError when the dimensions are implausible or differ from the descriptor, when
// libjpeg reports an error, and also when it reports a warning: libjpeg "recovers" from
// truncated or corrupt data by inventing pixels (a grey bottom, a fake EOI marker), and a SPICE
// server never sends such a stream on purpose. Progressive streams with more than 500 scans are
// rejected too, as a cheap guard against streams that cost far more CPU than their size.
Pixmap decodeJpeg(std::span<const uint8_t> data, uint32_t expectedWidth, uint32_t expectedHeight);

} // namespace saffron
