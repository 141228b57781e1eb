#include "codecs/LzDecoder.h"

#include "codecs/PixelRows.h"

#include <algorithm>
#include <string>
#include <vector>

namespace saffron {

using codecs::detail::PaletteTable;
using lz::ImageType;

namespace {

struct Header {
    ImageType type = ImageType::Invalid;
    uint32_t width = 0;
    uint32_t height = 0;
    uint32_t stride = 0;
    bool topDown = false;
};

Header readHeader(lz::Input& in) {
    if (in.be32() != lz::kMagic)
        in.fail("bad magic");
    const uint32_t version = in.be32();
    if (version != lz::kVersion)
        in.fail("unsupported version " + std::to_string(version >> 16) + "." +
                std::to_string(version & 0xffff));
    const uint32_t type = in.be32();
    if (type == 0 || type > uint32_t(ImageType::A8))
        in.fail("unknown image type " + std::to_string(type));
    Header h;
    h.type = ImageType(type);
    h.width = in.be32();
    h.height = in.be32();
    h.stride = in.be32();
    h.topDown = in.be32() != 0;
    return h;
}

// How a stream type lays out its rows: units are what back-references count (pixels, or bytes
// for the palette types), `pixelsPerByte` is 0 for non-palette types.
unsigned pixelsPerByte(ImageType t) {
    switch (t) {
    case ImageType::Plt1Le:
    case ImageType::Plt1Be:
        return 8;
    case ImageType::Plt4Le:
    case ImageType::Plt4Be:
        return 2;
    case ImageType::Plt8:
        return 1;
    default:
        return 0;
    }
}

unsigned bytesPerPixel(ImageType t) {
    switch (t) {
    case ImageType::Rgb16:
        return 2;
    case ImageType::Rgb24:
        return 3;
    case ImageType::Rgb32:
    case ImageType::Rgba:
    case ImageType::Xxxa:
        return 4;
    case ImageType::A8:
        return 1;
    default:
        return 0;
    }
}

// Runs the tokens of one pass until `out` is full. LiteralBytes is what one literal unit takes
// in the stream, MinMatch the length bias of back-references for this unit size (lz.c: a match
// is only worth encoding from 3 bytes, 2 16-bit pixels or 1 24/32-bit pixel). `literal(src, i)`
// builds one unit from src[i ..]. Every length and distance is checked against what has been
// produced so far before a single unit is written.
template <size_t LiteralBytes, size_t MinMatch, typename Unit, typename Literal>
void inflate(lz::Input& in, std::span<Unit> out, Literal literal) {
    const size_t end = out.size();
    size_t op = 0;
    while (op < end) {
        const unsigned ctrl = in.byte();
        if (ctrl < 32) {
            const size_t run = size_t(ctrl) + 1;
            if (run > end - op)
                in.fail("literal run of " + std::to_string(run) + " past the end of the image");
            const auto src = in.take(run * LiteralBytes);
            for (size_t i = 0; i < run; ++i)
                out[op + i] = literal(src, i * LiteralBytes);
            op += run;
            continue;
        }
        size_t len = (ctrl >> 5) - 1;
        if (len == 6) {
            unsigned more = 0;
            do {
                more = in.byte();
                len += more;
            } while (more == 255);
        }
        size_t dist = size_t(ctrl & 31) << 8 | in.byte();
        // The largest short distance, 31/255, announces a 16-bit one beyond the 8191 that
        // 13 bits can express (lz.c MAX_DISTANCE / MAX_FARDISTANCE).
        if (dist == 0x1fff) {
            const size_t high = in.byte();
            dist = (high << 8 | in.byte()) + 8191;
        }
        len += MinMatch;
        dist += 1;
        if (dist > op)
            in.fail("back-reference " + std::to_string(dist) + " units before unit " + std::to_string(op));
        if (len > end - op)
            in.fail("back-reference of " + std::to_string(len) + " units past the end of the image");
        lz::copyWithin(out, op, dist, len);
        op += len;
    }
}

uint32_t literalBgr(std::span<const uint8_t> s, size_t i) {
    return lz::kOpaque | uint32_t(s[i + 2]) << 16 | uint32_t(s[i + 1]) << 8 | s[i];
}
uint32_t literal555(std::span<const uint8_t> s, size_t i) {
    return lz::widen555(s[i], s[i + 1]);
}
uint8_t literalByte(std::span<const uint8_t> s, size_t i) {
    return s[i];
}

void requireFeasible(lz::Input& in, uint64_t units) {
    if (units > uint64_t(in.remaining()) * lz::kMaxUnitsPerByte)
        in.fail(std::to_string(in.remaining()) + " bytes cannot hold " + std::to_string(units) + " units");
}

void requireEnd(const lz::Input& in) {
    if (in.remaining() != 0)
        in.fail(std::to_string(in.remaining()) + " bytes after the last pixel");
}

PaletteTable paletteTable(std::span<const uint32_t> palette) {
    PaletteTable table;
    table.fill(lz::kOpaque);
    const size_t n = std::min(palette.size(), table.size());
    for (size_t i = 0; i < n; ++i)
        table[i] = lz::kOpaque | (palette[i] & 0x00ffffffu);
    return table;
}

// The rows of a one-unit-per-byte plane (palette indices or A8), `rowBytes` apart in stream
// order, converted into the top-down Pixmap.
template <typename RowFn>
void convertRows(std::span<const uint8_t> plane, size_t rowBytes, bool topDown, Pixmap& out, RowFn row) {
    const int h = out.height;
    for (int y = 0; y < h; ++y)
        row(plane.subspan(size_t(y) * rowBytes, rowBytes), out.row(topDown ? y : h - 1 - y));
}

Pixmap decodePalette(lz::Input& in, const Header& h, std::span<const uint32_t> palette) {
    if (palette.empty())
        in.fail("palette image without a palette");
    const unsigned ppb = pixelsPerByte(h.type);
    const uint64_t rowBytes = (uint64_t(h.width) + ppb - 1) / ppb;
    if (h.stride != rowBytes)
        in.fail("stride " + std::to_string(h.stride) + " for a row of " + std::to_string(rowBytes) +
                " bytes");
    const uint64_t units = rowBytes * h.height;
    requireFeasible(in, units);
    std::vector<uint8_t> plane(units);
    inflate<1, 3>(in, std::span<uint8_t>(plane), literalByte);
    requireEnd(in);

    const PaletteTable lut = paletteTable(palette);
    Pixmap out(int(h.width), int(h.height));
    const std::span<const uint8_t> rows(plane);
    using namespace codecs::detail;
    switch (h.type) {
    case ImageType::Plt8:
        convertRows(rows, rowBytes, h.topDown, out, [&](auto s, auto d) { rowIndexed8(s, d, lut); });
        break;
    case ImageType::Plt4Be:
        convertRows(rows, rowBytes, h.topDown, out, [&](auto s, auto d) { rowIndexed4<true>(s, d, lut); });
        break;
    case ImageType::Plt4Le:
        convertRows(rows, rowBytes, h.topDown, out, [&](auto s, auto d) { rowIndexed4<false>(s, d, lut); });
        break;
    case ImageType::Plt1Be:
        convertRows(rows, rowBytes, h.topDown, out,
                    [&](auto s, auto d) { rowIndexed1<true>(s, d, lut[0], lut[1]); });
        break;
    default:
        convertRows(rows, rowBytes, h.topDown, out,
                    [&](auto s, auto d) { rowIndexed1<false>(s, d, lut[0], lut[1]); });
        break;
    }
    return out;
}

Pixmap decodeA8(lz::Input& in, const Header& h) {
    const uint64_t units = uint64_t(h.width) * h.height;
    requireFeasible(in, units);
    std::vector<uint8_t> plane(units);
    inflate<1, 3>(in, std::span<uint8_t>(plane), literalByte);
    requireEnd(in);
    Pixmap out(int(h.width), int(h.height), true);
    convertRows(std::span<const uint8_t>(plane), h.width, h.topDown, out,
                [](auto s, auto d) { codecs::detail::rowAlpha8(s, d); });
    return out;
}

Pixmap decodeRgb(lz::Input& in, const Header& h) {
    const bool alpha = h.type == ImageType::Rgba;
    const uint64_t pixels = uint64_t(h.width) * h.height;
    requireFeasible(in, alpha ? 2 * pixels : pixels);
    Pixmap out(int(h.width), int(h.height), alpha);
    const std::span<uint32_t> words(out.pixels);
    // The colour pass fills the Pixmap in stream order; the rows are put top-down at the end.
    if (h.type == ImageType::Rgb16)
        inflate<2, 2>(in, words, literal555);
    else
        inflate<3, 1>(in, words, literalBgr);
    if (alpha) {
        // RGBA's second pass carries the alpha bytes of all pixels (lz.c lz_rgb_alpha_*), with
        // byte-sized units and byte-sized back-references.
        std::vector<uint8_t> plane(pixels);
        inflate<1, 3>(in, std::span<uint8_t>(plane), literalByte);
        for (size_t i = 0; i < pixels; ++i)
            words[i] = (words[i] & 0x00ffffffu) | uint32_t(plane[i]) << 24;
    }
    requireEnd(in);
    if (!h.topDown)
        lz::flipRows(out);
    return out;
}

} // namespace

namespace lz {

void flipRows(Pixmap& image) {
    for (int top = 0, bottom = image.height - 1; top < bottom; ++top, --bottom) {
        const auto a = image.row(top);
        const auto b = image.row(bottom);
        std::swap_ranges(a.begin(), a.end(), b.begin());
    }
}

} // namespace lz

Pixmap decodeLz(std::span<const uint8_t> payload, uint32_t width, uint32_t height,
                std::span<const uint32_t> palette) {
    lz::Input in(payload, "lz image");
    if (!plausibleImageSize(width, height))
        in.fail("implausible size " + std::to_string(width) + "x" + std::to_string(height));
    const Header h = readHeader(in);
    if (h.width != width || h.height != height)
        in.fail("stream is " + std::to_string(h.width) + "x" + std::to_string(h.height) +
                ", descriptor says " + std::to_string(width) + "x" + std::to_string(height));
    if (pixelsPerByte(h.type) != 0)
        return decodePalette(in, h, palette);
    if (h.type == ImageType::Xxxa)
        in.fail("alpha-only stream outside a JPEG_ALPHA image");
    // lz.c lz_set_sizes: RGB rows are packed, stride is exactly width * bytes per pixel.
    if (h.stride != uint64_t(width) * bytesPerPixel(h.type))
        in.fail("stride " + std::to_string(h.stride) + " for width " + std::to_string(width));
    if (h.type == ImageType::A8)
        return decodeA8(in, h);
    return decodeRgb(in, h);
}

void decodeLzAlphaPlane(std::span<const uint8_t> stream, Pixmap& image, bool topDown) {
    lz::Input in(stream, "jpeg alpha plane");
    const Header h = readHeader(in);
    if (h.type != ImageType::Xxxa)
        in.fail("type " + std::to_string(int(h.type)) + " instead of XXXA");
    if (image.isNull() || h.width != uint32_t(image.width) || h.height != uint32_t(image.height))
        in.fail("plane is " + std::to_string(h.width) + "x" + std::to_string(h.height) + ", image is " +
                std::to_string(image.width) + "x" + std::to_string(image.height));
    if (h.stride != uint64_t(h.width) * 4)
        in.fail("stride " + std::to_string(h.stride) + " for width " + std::to_string(h.width));
    if (h.topDown != topDown)
        in.fail("row order differs from the image's TOP_DOWN flag");
    const size_t w = h.width;
    const uint64_t pixels = uint64_t(w) * h.height;
    requireFeasible(in, pixels);
    std::vector<uint8_t> plane(pixels);
    inflate<1, 3>(in, std::span<uint8_t>(plane), literalByte);
    requireEnd(in);

    const int rows = image.height;
    for (int y = 0; y < rows; ++y) {
        const auto src = std::span<const uint8_t>(plane).subspan(size_t(y) * w, w);
        const auto dst = image.row(topDown ? y : rows - 1 - y);
        for (size_t x = 0; x < w; ++x) {
            const uint32_t a = src[x];
            const uint32_t c = dst[x];
            const uint32_t r = std::min((c >> 16) & 0xff, a);
            const uint32_t g = std::min((c >> 8) & 0xff, a);
            const uint32_t b = std::min(c & 0xff, a);
            dst[x] = a << 24 | r << 16 | g << 8 | b;
        }
    }
    image.hasAlpha = true;
}

} // namespace saffron
