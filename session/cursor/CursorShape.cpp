#include "cursor/CursorShape.h"

#include "wire/Reader.h"

#include <spice/enums.h>

namespace saffron {

namespace {
// Cursors larger than this are not pointers; Windows allows up to 256x256 with scaling.
constexpr uint16_t kMaxCursorSide = 512;

bool bitAt(std::span<const uint8_t> plane, size_t stride, int x, int y) {
    return (plane[size_t(y) * stride + size_t(x) / 8] >> (7 - (x % 8))) & 1;
}
} // namespace

CursorShape decodeCursor(const CursorHeader& h, std::span<const uint8_t> data) {
    if (h.width == 0 || h.height == 0 || h.width > kMaxCursorSide || h.height > kMaxCursorSide)
        throw ProtocolError("cursor of " + std::to_string(h.width) + "x" + std::to_string(h.height) +
                            " rejected");
    CursorShape shape;
    shape.hotX = std::min<int>(h.hotX, h.width - 1);
    shape.hotY = std::min<int>(h.hotY, h.height - 1);
    shape.image = Pixmap(h.width, h.height, true);
    const int w = h.width, ht = h.height;
    const size_t maskStride = (size_t(w) + 7) / 8;
    const size_t maskSize = maskStride * size_t(ht);
    Reader r(data);

    if (h.type == SPICE_CURSOR_TYPE_ALPHA) {
        Reader px(r.array(uint64_t(w) * ht, 4));
        for (auto& p : shape.image.pixels)
            p = px.u32();
        return shape;
    }
    if (h.type == SPICE_CURSOR_TYPE_MONO) {
        const auto andMask = r.bytes(maskSize);
        const auto xorMask = r.bytes(maskSize);
        for (int y = 0; y < ht; ++y)
            for (int x = 0; x < w; ++x) {
                const bool a = bitAt(andMask, maskStride, x, y), xo = bitAt(xorMask, maskStride, x, y);
                // AND=1,XOR=0 transparent; 0,0 black; 0,1 white; 1,1 "invert screen", which a
                // composited pointer cannot do: show it black so the shape stays visible.
                shape.image.at(x, y) = a && !xo ? 0u : (!a && xo ? 0xffffffffu : 0xff000000u);
            }
        return shape;
    }

    unsigned bpp = 0;
    switch (h.type) {
    case SPICE_CURSOR_TYPE_COLOR4:
        bpp = 4;
        break;
    case SPICE_CURSOR_TYPE_COLOR16:
        bpp = 16;
        break;
    case SPICE_CURSOR_TYPE_COLOR24:
        bpp = 24;
        break;
    case SPICE_CURSOR_TYPE_COLOR32:
        bpp = 32;
        break;
    default:
        throw ProtocolError("cursor type " + std::to_string(h.type) + " is not supported");
    }
    const size_t stride = (size_t(w) * bpp + 7) / 8;
    const auto colors = r.bytes(stride * size_t(ht));
    std::vector<uint32_t> palette;
    if (bpp == 4) {
        Reader pal(r.bytes(16 * 4));
        for (int i = 0; i < 16; ++i)
            palette.push_back(pal.u32());
    }
    const auto andMask = r.bytes(maskSize);
    for (int y = 0; y < ht; ++y) {
        const auto row = colors.subspan(size_t(y) * stride, stride);
        for (int x = 0; x < w; ++x) {
            uint32_t rgb = 0;
            switch (bpp) {
            case 4:
                rgb = palette[(row[size_t(x) / 2] >> ((x & 1) ? 0 : 4)) & 0xf];
                break;
            case 16: {
                const uint16_t v = uint16_t(row[size_t(x) * 2] | (row[size_t(x) * 2 + 1] << 8));
                const uint32_t r5 = (v >> 10) & 0x1f, g5 = (v >> 5) & 0x1f, b5 = v & 0x1f;
                rgb = ((r5 << 3 | r5 >> 2) << 16) | ((g5 << 3 | g5 >> 2) << 8) | (b5 << 3 | b5 >> 2);
                break;
            }
            case 24:
                rgb = uint32_t(row[size_t(x) * 3]) | uint32_t(row[size_t(x) * 3 + 1]) << 8 |
                      uint32_t(row[size_t(x) * 3 + 2]) << 16;
                break;
            case 32:
                rgb = uint32_t(row[size_t(x) * 4]) | uint32_t(row[size_t(x) * 4 + 1]) << 8 |
                      uint32_t(row[size_t(x) * 4 + 2]) << 16;
                break;
            }
            const bool transparent = bitAt(andMask, maskStride, x, y);
            // With AND=1 a non-zero colour means "invert"; shown opaque for the same reason as MONO.
            shape.image.at(x, y) =
                transparent && (rgb & 0xffffff) == 0 ? 0u : (0xff000000u | (rgb & 0xffffffu));
        }
    }
    return shape;
}

} // namespace saffron
