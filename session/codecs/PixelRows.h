#pragma once

// Row converters shared by the bitmap and LZ4 decoders: one source row of a SPICE bitmap
// format into one row of saffron::Pixmap words (0xAARRGGBB).
//
// Callers validate sizes once per image (stride, row bytes, total size) and then call these
// per row with spans that are known to be large enough; the loops themselves carry no checks
// so the compiler can vectorise them. Multi-byte pixels are assembled from individual bytes,
// which is both endian-independent and compiled to plain loads on little-endian hosts.

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

namespace saffron::codecs::detail {

// Opaque alpha for formats without alpha: Pixmap promises QImage::Format_RGB32 layout, which
// requires the top byte to be 0xff.
inline constexpr uint32_t kOpaque = 0xff000000u;

// Palette lookup table for the indexed formats. Every possible index has an entry, so the row
// loops index it without a range check (see BitmapDecoder.h for the out-of-range policy).
using PaletteTable = std::array<uint32_t, 256>;

// SPICE_BITMAP_FMT_32BIT: little-endian 0x??RRGGBB, the top byte is padding.
inline void rowXrgb32(std::span<const uint8_t> src, std::span<uint32_t> dst) {
    for (size_t x = 0; x < dst.size(); ++x) {
        const size_t i = x * 4;
        dst[x] = kOpaque | uint32_t(src[i]) | uint32_t(src[i + 1]) << 8 | uint32_t(src[i + 2]) << 16;
    }
}

// SPICE_BITMAP_FMT_RGBA: little-endian premultiplied 0xAARRGGBB, taken as is.
inline void rowArgb32(std::span<const uint8_t> src, std::span<uint32_t> dst) {
    for (size_t x = 0; x < dst.size(); ++x) {
        const size_t i = x * 4;
        dst[x] = uint32_t(src[i]) | uint32_t(src[i + 1]) << 8 | uint32_t(src[i + 2]) << 16 |
                 uint32_t(src[i + 3]) << 24;
    }
}

// SPICE_BITMAP_FMT_24BIT: bytes B, G, R per pixel (pixman's little-endian r8g8b8, which is how
// spice-common views these bitmaps).
inline void rowBgr24(std::span<const uint8_t> src, std::span<uint32_t> dst) {
    for (size_t x = 0; x < dst.size(); ++x) {
        const size_t i = x * 3;
        dst[x] = kOpaque | uint32_t(src[i]) | uint32_t(src[i + 1]) << 8 | uint32_t(src[i + 2]) << 16;
    }
}

// SPICE_BITMAP_FMT_16BIT: little-endian x1r5g5b5 (pixman x1r5g5b5). Each 5-bit channel is
// widened by bit replication so that 0x1f maps to 0xff and 0 to 0.
inline void rowX555(std::span<const uint8_t> src, std::span<uint32_t> dst) {
    for (size_t x = 0; x < dst.size(); ++x) {
        const uint32_t v = uint32_t(src[x * 2]) | uint32_t(src[x * 2 + 1]) << 8;
        const uint32_t r = (v >> 10) & 0x1f;
        const uint32_t g = (v >> 5) & 0x1f;
        const uint32_t b = v & 0x1f;
        dst[x] = kOpaque | ((r << 3) | (r >> 2)) << 16 | ((g << 3) | (g >> 2)) << 8 | ((b << 3) | (b >> 2));
    }
}

// SPICE_BITMAP_FMT_8BIT_A: one alpha byte per pixel; colour is zero (premultiplied black).
inline void rowAlpha8(std::span<const uint8_t> src, std::span<uint32_t> dst) {
    for (size_t x = 0; x < dst.size(); ++x)
        dst[x] = uint32_t(src[x]) << 24;
}

// SPICE_BITMAP_FMT_8BIT: one palette index per byte.
inline void rowIndexed8(std::span<const uint8_t> src, std::span<uint32_t> dst, const PaletteTable& lut) {
    for (size_t x = 0; x < dst.size(); ++x)
        dst[x] = lut[src[x]];
}

// SPICE_BITMAP_FMT_4BIT_BE: two indices per byte, the high nibble is the left pixel
// (spice-common pixman_utils.c, bitmap_4be_32_to_32). 4BIT_LE is the mirror image: the low
// nibble is the left pixel, as in pixman's little-endian a4/c4 formats.
template <bool HighNibbleFirst>
inline void rowIndexed4(std::span<const uint8_t> src, std::span<uint32_t> dst, const PaletteTable& lut) {
    constexpr unsigned firstShift = HighNibbleFirst ? 4 : 0;
    constexpr unsigned secondShift = HighNibbleFirst ? 0 : 4;
    const size_t pairs = dst.size() / 2;
    for (size_t i = 0; i < pairs; ++i) {
        const uint8_t b = src[i];
        dst[2 * i] = lut[(b >> firstShift) & 0x0f];
        dst[2 * i + 1] = lut[(b >> secondShift) & 0x0f];
    }
    if (dst.size() & 1)
        dst[dst.size() - 1] = lut[(src[pairs] >> firstShift) & 0x0f];
}

// SPICE_BITMAP_FMT_1BIT_BE: the most significant bit of each byte is the leftmost pixel
// (spice-common test_bit_be). 1BIT_LE: the least significant bit is the leftmost pixel, which
// is pixman's a1 layout that canvas_get_bitmap_mask copies 1BIT_LE masks into unchanged.
template <bool MsbFirst>
inline void rowIndexed1(std::span<const uint8_t> src, std::span<uint32_t> dst, uint32_t color0,
                        uint32_t color1) {
    const uint32_t colors[2] = {color0, color1};
    const size_t whole = dst.size() / 8;
    for (size_t i = 0; i < whole; ++i) {
        const unsigned b = src[i];
        for (unsigned bit = 0; bit < 8; ++bit) {
            const unsigned shift = MsbFirst ? 7 - bit : bit;
            dst[i * 8 + bit] = colors[(b >> shift) & 1];
        }
    }
    const size_t rest = dst.size() % 8;
    if (rest != 0) {
        const unsigned b = src[whole];
        for (unsigned bit = 0; bit < rest; ++bit) {
            const unsigned shift = MsbFirst ? 7 - bit : bit;
            dst[whole * 8 + bit] = colors[(b >> shift) & 1];
        }
    }
}

} // namespace saffron::codecs::detail
