#include "display/DisplayMessages.h"

#include <spice/enums.h>

#include <algorithm>

namespace saffron::display {

namespace {
int clampCoord(int32_t v) { return std::clamp<int32_t>(v, -kMaxCoordinate, kMaxCoordinate); }
} // namespace

QRect readRect(Reader& r) {
    const int top = clampCoord(r.i32());
    const int left = clampCoord(r.i32());
    const int bottom = clampCoord(r.i32());
    const int right = clampCoord(r.i32());
    // SPICE rects are half-open [left,right) x [top,bottom); an inverted one is empty.
    if (right <= left || bottom <= top)
        return QRect();
    return QRect(left, top, right - left, bottom - top);
}

QPoint readPoint(Reader& r) {
    const int x = clampCoord(r.i32());
    const int y = clampCoord(r.i32());
    return {x, y};
}

QPoint readPoint16(Reader& r) {
    const int x = r.i16();
    const int y = r.i16();
    return {x, y};
}

Clip readClip(Reader& r) {
    Clip clip;
    const uint8_t type = r.u8();
    if (type == SPICE_CLIP_TYPE_NONE)
        return clip;
    if (type != SPICE_CLIP_TYPE_RECTS)
        throw ProtocolError("unknown clip type " + std::to_string(type));
    clip.hasRects = true;
    const uint32_t n = r.u32();
    // Real clip regions have tens of rectangles; the cap bounds the work of one draw.
    if (n > kMaxClipRects)
        throw ProtocolError("clip with " + std::to_string(n) + " rectangles rejected");
    Reader rects(r.array(n, 16));
    clip.rects.reserve(n);
    for (uint32_t i = 0; i < n; ++i) {
        QRect rect = readRect(rects);
        if (!rect.isEmpty())
            clip.rects.push_back(rect);
    }
    return clip;
}

Base readBase(Reader& r) {
    Base b;
    b.surfaceId = r.u32();
    b.box = readRect(r);
    b.clip = readClip(r);
    return b;
}

Brush readBrush(Reader& r) {
    Brush b;
    switch (r.u8()) {
    case SPICE_BRUSH_TYPE_NONE:
        break;
    case SPICE_BRUSH_TYPE_SOLID:
        b.type = Brush::Type::Solid;
        b.color = r.u32();
        break;
    case SPICE_BRUSH_TYPE_PATTERN:
        b.type = Brush::Type::Pattern;
        b.patternImage = r.u32();
        b.patternPos = readPoint(r);
        break;
    default:
        throw ProtocolError("unknown brush type");
    }
    return b;
}

Mask readMask(Reader& r) {
    Mask m;
    m.invert = r.u8() & SPICE_MASK_FLAGS_INVERS;
    m.pos = readPoint(r);
    m.bitmap = r.u32();
    return m;
}

} // namespace saffron::display
