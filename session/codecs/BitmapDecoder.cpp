#include "codecs/BitmapDecoder.h"

#include "codecs/PixelRows.h"
#include "wire/ProtocolError.h"

#include <algorithm>
#include <spice/enums.h>
#include <string>

namespace saffron {

using namespace codecs::detail;

unsigned bitmapBitsPerPixel(uint8_t format) {
    switch (format) {
    case SPICE_BITMAP_FMT_1BIT_LE:
    case SPICE_BITMAP_FMT_1BIT_BE:
        return 1;
    case SPICE_BITMAP_FMT_4BIT_LE:
    case SPICE_BITMAP_FMT_4BIT_BE:
        return 4;
    case SPICE_BITMAP_FMT_8BIT:
    case SPICE_BITMAP_FMT_8BIT_A:
        return 8;
    case SPICE_BITMAP_FMT_16BIT:
        return 16;
    case SPICE_BITMAP_FMT_24BIT:
        return 24;
    case SPICE_BITMAP_FMT_32BIT:
    case SPICE_BITMAP_FMT_RGBA:
        return 32;
    default:
        return 0;
    }
}

namespace {

bool isIndexed(uint8_t format) {
    return format >= SPICE_BITMAP_FMT_1BIT_LE && format <= SPICE_BITMAP_FMT_8BIT;
}

// Builds a table covering every index the format can express, so the row loops never need a
// range check; indices the server did not define stay opaque black (see BitmapDecoder.h).
PaletteTable makePaletteTable(std::span<const uint32_t> palette) {
    PaletteTable table;
    table.fill(kOpaque);
    const size_t n = std::min(palette.size(), table.size());
    for (size_t i = 0; i < n; ++i)
        table[i] = kOpaque | (palette[i] & 0x00ffffffu);
    return table;
}

// Runs `convert(srcRow, dstRow)` for every row. Sizes were validated by the caller, so every
// subspan here lies inside `data`; bottom-up bitmaps store the bottom row first.
template <typename RowFn>
void forEachRow(const BitmapInfo& info, std::span<const uint8_t> data, size_t rowBytes, Pixmap& out,
                RowFn convert) {
    const int height = out.height;
    for (int y = 0; y < height; ++y) {
        const auto src = data.subspan(static_cast<size_t>(y) * info.stride, rowBytes);
        convert(src, out.row(info.topDown ? y : height - 1 - y));
    }
}

} // namespace

Pixmap decodeBitmap(const BitmapInfo& info, std::span<const uint8_t> data,
                    std::span<const uint32_t> palette) {
    const unsigned bpp = bitmapBitsPerPixel(info.format);
    if (bpp == 0)
        throw ProtocolError("bitmap: unsupported format " + std::to_string(info.format));
    if (!plausibleImageSize(info.width, info.height))
        throw ProtocolError("bitmap: implausible size " + std::to_string(info.width) + "x" +
                            std::to_string(info.height));
    // Dimensions are at most kMaxImageDimension here, so none of this 64-bit arithmetic can
    // overflow: (16384 * 32 + 7) / 8 and 2^32 * 16384 both fit comfortably.
    const uint64_t rowBytes = (uint64_t{info.width} * bpp + 7) / 8;
    if (info.stride < rowBytes)
        throw ProtocolError("bitmap: stride " + std::to_string(info.stride) + " below the " +
                            std::to_string(rowBytes) + " bytes a row of " + std::to_string(info.width) +
                            " pixels needs");
    const uint64_t needed = uint64_t{info.stride} * info.height;
    if (needed > data.size())
        throw ProtocolError("bitmap: " + std::to_string(info.width) + "x" + std::to_string(info.height) +
                            " with stride " + std::to_string(info.stride) + " needs " +
                            std::to_string(needed) + " bytes, have " + std::to_string(data.size()));
    if (isIndexed(info.format) && palette.empty())
        throw ProtocolError("bitmap: indexed format " + std::to_string(info.format) + " without a palette");

    const bool alpha = info.format == SPICE_BITMAP_FMT_RGBA || info.format == SPICE_BITMAP_FMT_8BIT_A;
    Pixmap out(static_cast<int>(info.width), static_cast<int>(info.height), alpha);
    const size_t row = static_cast<size_t>(rowBytes);

    switch (info.format) {
    case SPICE_BITMAP_FMT_32BIT:
        forEachRow(info, data, row, out, [](auto src, auto dst) { rowXrgb32(src, dst); });
        break;
    case SPICE_BITMAP_FMT_RGBA:
        forEachRow(info, data, row, out, [](auto src, auto dst) { rowArgb32(src, dst); });
        break;
    case SPICE_BITMAP_FMT_24BIT:
        forEachRow(info, data, row, out, [](auto src, auto dst) { rowBgr24(src, dst); });
        break;
    case SPICE_BITMAP_FMT_16BIT:
        forEachRow(info, data, row, out, [](auto src, auto dst) { rowX555(src, dst); });
        break;
    case SPICE_BITMAP_FMT_8BIT_A:
        forEachRow(info, data, row, out, [](auto src, auto dst) { rowAlpha8(src, dst); });
        break;
    case SPICE_BITMAP_FMT_8BIT: {
        const PaletteTable lut = makePaletteTable(palette);
        forEachRow(info, data, row, out, [&](auto src, auto dst) { rowIndexed8(src, dst, lut); });
        break;
    }
    case SPICE_BITMAP_FMT_4BIT_BE: {
        const PaletteTable lut = makePaletteTable(palette);
        forEachRow(info, data, row, out, [&](auto src, auto dst) { rowIndexed4<true>(src, dst, lut); });
        break;
    }
    case SPICE_BITMAP_FMT_4BIT_LE: {
        const PaletteTable lut = makePaletteTable(palette);
        forEachRow(info, data, row, out, [&](auto src, auto dst) { rowIndexed4<false>(src, dst, lut); });
        break;
    }
    case SPICE_BITMAP_FMT_1BIT_BE: {
        const PaletteTable lut = makePaletteTable(palette);
        forEachRow(info, data, row, out,
                   [&](auto src, auto dst) { rowIndexed1<true>(src, dst, lut[0], lut[1]); });
        break;
    }
    case SPICE_BITMAP_FMT_1BIT_LE: {
        const PaletteTable lut = makePaletteTable(palette);
        forEachRow(info, data, row, out,
                   [&](auto src, auto dst) { rowIndexed1<false>(src, dst, lut[0], lut[1]); });
        break;
    }
    }
    return out;
}

} // namespace saffron
