#pragma once

#include "display/Pixmap.h"
#include "wire/ProtocolError.h"

#include <algorithm>
#include <cstdint>
#include <span>
#include <string>

namespace saffron {

// Decodes the data of a SPICE_IMAGE_TYPE_LZ_RGB image (BinaryData) or of a LZ_PLT image (the
// LZPLTData.data bytes; the ImageReader resolves LZPLTData's palette or palette_id and passes
// the entries, 0x00RRGGBB, as `palette`; LZ_RGB passes an empty palette). width and height come
// from the ImageDescriptor.
//
// The stream is spice-common's LZ (lz.c, a fastlz derivative over pixels), as spice-server's
// image encoder writes it:
//   7 big-endian uint32: magic "LZ  " (0x20205a4c), version 0x00010001, LzImageType, width,
//   height, stride (bytes of one row), top_down (non-zero: the first row is the top one),
//   then the tokens of one pass over all rows (two passes for RGBA: colour, then alpha).
// A token is a control byte c:
//   c < 32     a literal run of c+1 units, each spelt out (RGB16: 2 bytes, big-endian x1r5g5b5;
//              RGB24/RGB32/RGBA colour pass: 3 bytes B,G,R; palette, alpha and A8: 1 byte)
//   c >= 32    a back-reference: length (c >> 5) - 1, extended by following bytes while they
//              are 255 when it is 6, then biased by the minimum match (3 units for bytes,
//              2 for RGB16, 1 for RGB24/32); distance ((c & 31) << 8 | next byte) + 1, or a
//              16-bit big-endian "far" distance + 8191 + 1 when that pair is 31/255.
// A unit is one pixel, or one byte for the palette types (each byte holds 1, 2 or 8 indices;
// the decoder expands whole rows afterwards, as BitmapDecoder does with the same layouts).
//
// Types accepted: RGB16, RGB24, RGB32 (opaque result), RGBA (premultiplied, hasAlpha), A8
// (hasAlpha, colour 0), and PLT1_LE/BE, PLT4_LE/BE, PLT8 when `palette` is not empty (indices
// beyond the palette decode as opaque black, as in BitmapDecoder.h). XXXA only occurs inside
// JPEG_ALPHA (decodeLzAlphaPlane). The result is top-down whatever the stream's top_down says.
//
// Throws ProtocolError for an implausible size, a bad magic/version/type, a header that
// disagrees with the descriptor, a stride that is not exactly the row size, a stream too short
// to possibly fill the image (checked before allocating), a back-reference before the first
// unit or a run past the last one, truncation, or bytes left after the last unit. Nothing is
// read or written outside the given spans.
Pixmap decodeLz(std::span<const uint8_t> payload, uint32_t width, uint32_t height,
                std::span<const uint32_t> palette);

// Decodes the alpha part of a JPEG_ALPHA image (what follows the JPEG inside
// JPEGAlphaData.data): an LZ stream of type XXXA whose width and height must be image's and
// whose top_down must equal `topDown` (the JPEGAlphaData TOP_DOWN flag; spice-common rejects a
// mismatch too). The alpha values replace the top byte of image's pixels (image is top-down),
// the colour channels are clamped to the alpha so that the result is valid premultiplied ARGB
// (the JPEG colour is lossy), and image.hasAlpha is set. Throws ProtocolError like decodeLz.
void decodeLzAlphaPlane(std::span<const uint8_t> stream, Pixmap& image, bool topDown);

// Building blocks shared with the GLZ decoder (GlzDictionary.cpp), whose stream is a close
// relative of LZ.
namespace lz {

// spice-common lz_common.h LzImageType: the values on the wire.
enum class ImageType : uint8_t {
    Invalid = 0,
    Plt1Le = 1,
    Plt1Be = 2,
    Plt4Le = 3,
    Plt4Be = 4,
    Plt8 = 5,
    Rgb16 = 6,
    Rgb24 = 7,
    Rgb32 = 8,
    Rgba = 9,
    Xxxa = 10,
    A8 = 11,
};

inline constexpr uint32_t kMagic = 0x20205a4c; // "LZ  " read as a big-endian word
inline constexpr uint32_t kVersion = 0x00010001;
inline constexpr uint32_t kOpaque = 0xff000000u;

// No token of either stream yields more than 255 units per byte it occupies (a length grows by
// at most 255 per extension byte). A stream shorter than units / 255 bytes cannot fill its image,
// so it is rejected before the image is allocated.
inline constexpr uint64_t kMaxUnitsPerByte = 255;

// A cursor over untrusted stream bytes. LZ and GLZ write their header words big-endian (lz.c
// encode_32), unlike the rest of SPICE. Every read is bounds-checked and throws ProtocolError.
class Input {
public:
    Input(std::span<const uint8_t> data, const char* what) : data_(data), what_(what) {}

    uint8_t byte() {
        if (pos_ >= data_.size())
            truncated();
        return data_[pos_++];
    }
    uint32_t be32() {
        const auto b = take(4);
        return uint32_t(b[0]) << 24 | uint32_t(b[1]) << 16 | uint32_t(b[2]) << 8 | uint32_t(b[3]);
    }
    uint64_t be64() {
        const uint64_t high = be32();
        return high << 32 | be32();
    }
    std::span<const uint8_t> take(size_t n) {
        if (n > data_.size() - pos_)
            truncated();
        const auto out = data_.subspan(pos_, n);
        pos_ += n;
        return out;
    }
    size_t remaining() const { return data_.size() - pos_; }
    const char* what() const { return what_; }

    [[noreturn]] void fail(const std::string& why) const {
        throw ProtocolError(std::string(what_) + ": " + why);
    }

private:
    [[noreturn]] __attribute__((noinline, cold)) void truncated() const {
        fail("truncated at byte " + std::to_string(pos_) + " of " + std::to_string(data_.size()));
    }

    std::span<const uint8_t> data_;
    size_t pos_ = 0;
    const char* what_;
};

// One x1r5g5b5 pixel as LZ/GLZ spell it (high byte first), widened by bit replication like
// every other 16-bit path of the client (PixelRows.h rowX555).
inline uint32_t widen555(uint32_t high, uint32_t low) {
    const uint32_t v = high << 8 | low;
    const uint32_t r = (v >> 10) & 0x1f;
    const uint32_t g = (v >> 5) & 0x1f;
    const uint32_t b = v & 0x1f;
    return kOpaque | ((r << 3) | (r >> 2)) << 16 | ((g << 3) | (g >> 2)) << 8 | ((b << 3) | (b >> 2));
}

// Copies `len` units that start `dist` units before out[op] to out[op], front to back: an
// overlapping reference (dist < len) repeats the last dist units, which is how runs are encoded.
// The caller has checked 0 < dist <= op and len <= out.size() - op.
template <typename Unit> inline void copyWithin(std::span<Unit> out, size_t op, size_t dist, size_t len) {
    const auto dst = out.subspan(op, len);
    const size_t from = op - dist;
    if (dist == 1) {
        const Unit v = out[from];
        for (Unit& u : dst)
            u = v;
    } else if (dist >= len) {
        const auto src = out.subspan(from, len);
        std::copy(src.begin(), src.end(), dst.begin());
    } else {
        for (size_t i = 0; i < len; ++i)
            dst[i] = out[from + i];
    }
}

// Reverses the row order of a Pixmap in place: streams with top_down == 0 store the bottom row
// first, and the client works top-down.
void flipRows(Pixmap& image);

} // namespace lz

} // namespace saffron
