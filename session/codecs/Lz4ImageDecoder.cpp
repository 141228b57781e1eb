#include "codecs/Lz4ImageDecoder.h"

#include "codecs/PixelRows.h"
#include "wire/ProtocolError.h"

#include <algorithm>
#include <bit>
#include <lz4.h>
#include <memory>
#include <spice/enums.h>
#include <string>

namespace saffron {

using namespace codecs::detail;

namespace {

constexpr size_t kMaxLz4Ratio = 255;

size_t bytesPerPixel(uint8_t format) {
    switch (format) {
    case SPICE_BITMAP_FMT_16BIT:
        return 2;
    case SPICE_BITMAP_FMT_24BIT:
        return 3;
    case SPICE_BITMAP_FMT_32BIT:
    case SPICE_BITMAP_FMT_RGBA:
        return 4;
    default:
        return 0;
    }
}

// Decompresses every block of `blocks` into `out`, which must be exactly as large as the
// image. LZ4's safe decoder never writes past the capacity it is given, and giving it only
// what is left of `out` makes an over-long stream fail instead of being truncated silently.
void inflate(std::span<const uint8_t> blocks, std::span<uint8_t> out) {
    // The stream state lives on the stack: LZ4_streamDecode_t is a plain union in lz4.h, and
    // LZ4_setStreamDecode(…, nullptr, 0) starts it without a dictionary.
    LZ4_streamDecode_t stream;
    LZ4_setStreamDecode(&stream, nullptr, 0);

    size_t in = 0;
    size_t produced = 0;
    unsigned blockIndex = 0;
    while (in < blocks.size()) {
        if (blocks.size() - in < 4)
            throw ProtocolError("lz4 image: truncated size of block " + std::to_string(blockIndex));
        // Block sizes are big-endian: lz4-encoder.c stores GUINT32_TO_BE(enc_size).
        const uint32_t size = uint32_t(blocks[in]) << 24 | uint32_t(blocks[in + 1]) << 16 |
                              uint32_t(blocks[in + 2]) << 8 | uint32_t(blocks[in + 3]);
        in += 4;
        if (size == 0 || size > blocks.size() - in)
            throw ProtocolError("lz4 image: block " + std::to_string(blockIndex) + " of " +
                                std::to_string(size) + " bytes, " + std::to_string(blocks.size() - in) +
                                " left");
        if (size > static_cast<uint32_t>(LZ4_MAX_INPUT_SIZE))
            throw ProtocolError("lz4 image: block " + std::to_string(blockIndex) + " too large");
        if (produced == out.size())
            throw ProtocolError("lz4 image: data after the last row");
        const auto src = blocks.subspan(in, size);
        const auto dst = out.subspan(produced);
        // The output buffer is contiguous and earlier blocks stay where they were decoded,
        // which is what LZ4_decompress_safe_continue needs to resolve back-references into
        // previous blocks (the encoder compresses with LZ4_compress_fast_continue). The image
        // is at most kMaxImagePixels * 4 = 256 MiB, so the capacity fits in an int.
        const int n = LZ4_decompress_safe_continue(&stream, reinterpret_cast<const char*>(src.data()),
                                                   reinterpret_cast<char*>(dst.data()),
                                                   static_cast<int>(size), static_cast<int>(dst.size()));
        if (n <= 0)
            throw ProtocolError("lz4 image: corrupt block " + std::to_string(blockIndex) +
                                " (or it decodes past the " + std::to_string(out.size()) + "-byte image)");
        produced += static_cast<size_t>(n);
        in += size;
        ++blockIndex;
    }
    if (produced != out.size())
        throw ProtocolError("lz4 image: decoded " + std::to_string(produced) + " of " +
                            std::to_string(out.size()) + " bytes");
}

// The byte view of a Pixmap's words, for decoding 32-bit images in place.
std::span<uint8_t> bytesOf(Pixmap& pixmap) {
    return {reinterpret_cast<uint8_t*>(pixmap.pixels.data()), pixmap.pixels.size() * sizeof(uint32_t)};
}

} // namespace

Pixmap decodeLz4Image(std::span<const uint8_t> data, uint32_t width, uint32_t height) {
    if (!plausibleImageSize(width, height))
        throw ProtocolError("lz4 image: implausible size " + std::to_string(width) + "x" +
                            std::to_string(height));
    if (data.size() < 2)
        throw ProtocolError("lz4 image: missing header");
    const bool topDown = data[0] != 0;
    const uint8_t format = data[1];
    const size_t bpp = bytesPerPixel(format);
    if (bpp == 0)
        throw ProtocolError("lz4 image: unsupported format " + std::to_string(format));
    const auto blocks = data.subspan(2);

    const size_t w = width;
    const size_t h = height;
    const size_t rowBytes = w * bpp;
    const size_t total = rowBytes * h; // at most 256 MiB, see plausibleImageSize
    // No LZ4 sequence yields more than 255 bytes per input byte (a match grows by at most 255
    // per length byte), so a stream this short cannot fill the image. Rejecting it before the
    // allocation keeps a few bytes from a server from costing hundreds of megabytes.
    if (total / kMaxLz4Ratio > blocks.size())
        throw ProtocolError("lz4 image: " + std::to_string(blocks.size()) + " bytes cannot hold a " +
                            std::to_string(width) + "x" + std::to_string(height) + " image");

    const bool alpha = format == SPICE_BITMAP_FMT_RGBA;
    Pixmap out(static_cast<int>(width), static_cast<int>(height), alpha);

    if (bpp == 4) {
        // 32-bit rows have the Pixmap's own memory layout on little-endian hosts, so they are
        // decompressed straight into it and fixed up in place: no second buffer.
        inflate(blocks, bytesOf(out));
        if constexpr (std::endian::native == std::endian::big) {
            for (uint32_t& p : out.pixels)
                p = __builtin_bswap32(p);
        }
        // One pass that both forces opaque alpha (32BIT's top byte is padding) and, for
        // bottom-up streams, swaps rows into top-down order.
        const uint32_t fill = alpha ? 0 : kOpaque;
        if (topDown) {
            if (!alpha) {
                for (uint32_t& p : out.pixels)
                    p |= fill;
            }
        } else {
            for (size_t y = 0; y < (h + 1) / 2; ++y) {
                const auto a = out.row(static_cast<int>(y));
                const auto b = out.row(static_cast<int>(h - 1 - y));
                for (size_t x = 0; x < w; ++x) {
                    const uint32_t t = a[x];
                    a[x] = b[x] | fill;
                    b[x] = t | fill;
                }
            }
        }
        return out;
    }

    // 16- and 24-bit rows are decompressed into a scratch buffer and then widened row by row.
    // make_unique_for_overwrite skips zeroing memory that LZ4 fully overwrites (inflate()
    // fails unless every byte was produced).
    auto scratch = std::make_unique_for_overwrite<uint8_t[]>(total);
    const std::span<uint8_t> raw(scratch.get(), total);
    inflate(blocks, raw);
    for (size_t y = 0; y < h; ++y) {
        const std::span<const uint8_t> src = raw.subspan(y * rowBytes, rowBytes);
        const auto dst = out.row(static_cast<int>(topDown ? y : h - 1 - y));
        if (bpp == 3)
            rowBgr24(src, dst);
        else
            rowX555(src, dst);
    }
    return out;
}

} // namespace saffron
