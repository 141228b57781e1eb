#include "display/DisplayMessages.h"

#include <QPointF>
#include <algorithm>
#include <cmath>
#include <spice/enums.h>

namespace saffron::display {

namespace {
int clampCoord(int32_t v) {
    return std::clamp<int32_t>(v, -kMaxCoordinate, kMaxCoordinate);
}
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

void rasterizeGlyphs(Reader r, const QRect& area, Pixmap& mask) {
    const uint16_t count = r.u16();
    const uint8_t flags = r.u8();
    const unsigned bpp = (flags & SPICE_STRING_FLAGS_RASTER_A1)   ? 1
                         : (flags & SPICE_STRING_FLAGS_RASTER_A4) ? 4
                         : (flags & SPICE_STRING_FLAGS_RASTER_A8) ? 8
                                                                  : 0;
    if (bpp == 0)
        throw ProtocolError("text without a raster glyph format");
    for (uint16_t i = 0; i < count; ++i) {
        const QPoint render = readPoint(r);
        const QPoint origin = readPoint(r);
        const uint16_t w = r.u16();
        const uint16_t h = r.u16();
        const size_t stride = (size_t(w) * bpp + 7) / 8;
        const auto bits = r.array(h, stride);
        const QRect glyph(render + origin, QSize(w, h));
        const QRect visible = glyph.intersected(area);
        for (int y = visible.top(); y <= visible.bottom(); ++y) {
            const auto row = bits.subspan(size_t(y - glyph.top()) * stride, stride);
            for (int x = visible.left(); x <= visible.right(); ++x) {
                const size_t gx = size_t(x - glyph.left());
                bool on;
                if (bpp == 1)
                    on = (row[gx / 8] >> (7 - gx % 8)) & 1; // MSB first, as GDI lays out glyphs
                else if (bpp == 4)
                    on = ((row[gx / 2] >> ((gx & 1) ? 0 : 4)) & 0xf) >= 8; // anti-aliased: threshold
                else
                    on = row[gx] >= 128;
                if (on)
                    mask.at(x - area.left(), y - area.top()) = 0xffffffffu;
            }
        }
    }
}

namespace {
// Bresenham between two surface points, clipped to the mask; the step budget bounds the work a
// hostile path can cause.
void plotLine(QPoint a, QPoint b, const QRect& area, Pixmap& mask, int64_t& budget) {
    const QRect reach = area.adjusted(-1, -1, 1, 1);
    if (!reach.intersects(QRect(a, b).normalized().adjusted(0, 0, 1, 1)))
        return;
    int dx = std::abs(b.x() - a.x()), dy = -std::abs(b.y() - a.y());
    const int sx = a.x() < b.x() ? 1 : -1, sy = a.y() < b.y() ? 1 : -1;
    int err = dx + dy;
    QPoint p = a;
    while (budget-- > 0) {
        if (area.contains(p))
            mask.at(p.x() - area.left(), p.y() - area.top()) = 0xffffffffu;
        if (p == b)
            break;
        const int e2 = 2 * err;
        if (e2 >= dy) {
            err += dy;
            p.rx() += sx;
        }
        if (e2 <= dx) {
            err += dx;
            p.ry() += sy;
        }
    }
}

QPoint readPointFix(Reader& r) {
    // 28.4 fixed point, rounded to the nearest pixel.
    const int32_t x = std::clamp<int32_t>(r.i32(), -(kMaxCoordinate << 4), kMaxCoordinate << 4);
    const int32_t y = std::clamp<int32_t>(r.i32(), -(kMaxCoordinate << 4), kMaxCoordinate << 4);
    return {(x + 8) >> 4, (y + 8) >> 4};
}
} // namespace

void rasterizePath(Reader r, const QRect& area, Pixmap& mask) {
    int64_t budget = 16 * 1024 * 1024;
    const uint32_t segments = r.u32();
    QPoint start, current;
    bool open = false;
    for (uint32_t s = 0; s < segments; ++s) {
        const uint8_t flags = r.u8();
        const uint32_t count = r.u32();
        Reader pts(r.array(count, 8));
        std::vector<QPoint> points(count);
        for (auto& p : points)
            p = readPointFix(pts);
        size_t i = 0;
        if (flags & SPICE_PATH_BEGIN || !open) {
            if (points.empty())
                continue;
            start = current = points[0];
            open = true;
            i = 1;
        }
        if (flags & SPICE_PATH_BEZIER) {
            // Cubic Béziers: three points per curve after the current point, flattened into 16
            // chords.
            for (; i + 2 < points.size(); i += 3) {
                const QPointF p0 = current, p1 = points[i], p2 = points[i + 1], p3 = points[i + 2];
                QPoint prev = current;
                for (int k = 1; k <= 16; ++k) {
                    const double t = k / 16.0, u = 1 - t;
                    const QPointF q =
                        u * u * u * p0 + 3 * u * u * t * p1 + 3 * u * t * t * p2 + t * t * t * p3;
                    const QPoint next = q.toPoint();
                    plotLine(prev, next, area, mask, budget);
                    prev = next;
                }
                current = points[i + 2];
            }
        } else {
            for (; i < points.size(); ++i) {
                plotLine(current, points[i], area, mask, budget);
                current = points[i];
            }
        }
        if (flags & SPICE_PATH_CLOSE)
            plotLine(current, start, area, mask, budget);
        if (flags & (SPICE_PATH_END | SPICE_PATH_CLOSE))
            open = false;
    }
}

} // namespace saffron::display
