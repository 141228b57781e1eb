#pragma once

#include "display/Pixmap.h"

#include <cstdint>
#include <span>

namespace saffron {

// Decodes the BinaryData payload of a SPICE_IMAGE_TYPE_QUIC image (the bytes after the u32
// size); expectedWidth and expectedHeight come from the ImageDescriptor and must equal the
// size in the QUIC header.
//
// QUIC is spice's lossless photographic codec (spice-common common/quic.c, after SFALIC). The
// stream is a sequence of little-endian 32-bit words read as one most-significant-bit-first
// bit string:
//   u32 magic "QUIC", u32 version 0, u32 type, u32 width, u32 height
//   then the rows, top to bottom, each channel predicted from its left/upper neighbours and
//   the prediction error coded with an adaptive Golomb-Rice code (plus run lengths for
//   repeated pixels), and 32 zero bits that the decoder's look-ahead consumes.
// Types: RGB32 and RGB24 (3 channels of 8 bits), RGB16 (3 channels of 5 bits, widened to 8 by
// bit replication), RGBA (RGB32 plus an alpha plane: hasAlpha, alpha passed through as the
// server encoded it, i.e. the premultiplied ARGB of the guest bitmap) and GRAY (one 8-bit
// channel, replicated to R, G and B). All but RGBA give opaque pixels.
//
// Throws ProtocolError for a bad magic, version or type, a size that differs from the expected
// one or fails plausibleImageSize(), a stream too short to hold the image, an invalid code
// word or run length, or data that ends before the last pixel (plus the look-ahead word).
// Nothing is read outside `payload` or written outside the returned image.
Pixmap decodeQuic(std::span<const uint8_t> payload, uint32_t expectedWidth, uint32_t expectedHeight);

namespace detail {
// decodeQuic with its inner loop always built for the baseline instruction set. On x86-64,
// decodeQuic runs a copy of that loop built for BMI2 when the CPU has it; this lets tests
// check that both builds decode alike on a machine that would otherwise only run one.
Pixmap decodeQuicBaseline(std::span<const uint8_t> payload, uint32_t expectedWidth, uint32_t expectedHeight);
} // namespace detail

} // namespace saffron
