#include "display/Canvas.h"

#include <algorithm>
#include <cstring>
#include <spice/enums.h>

namespace saffron {

bool RopDescriptor::isPlainCopy() const {
    return bits == SPICE_ROPD_OP_PUT;
}

uint32_t RopDescriptor::apply(uint32_t s, uint32_t d) const {
    if (bits & SPICE_ROPD_INVERS_SRC)
        s = ~s;
    if (bits & SPICE_ROPD_INVERS_DEST)
        d = ~d;
    uint32_t r;
    if (bits & SPICE_ROPD_OP_PUT)
        r = s;
    else if (bits & SPICE_ROPD_OP_OR)
        r = s | d;
    else if (bits & SPICE_ROPD_OP_AND)
        r = s & d;
    else if (bits & SPICE_ROPD_OP_XOR)
        r = s ^ d;
    else if (bits & SPICE_ROPD_OP_BLACKNESS)
        r = 0;
    else if (bits & SPICE_ROPD_OP_WHITENESS)
        r = 0xffffffffu;
    else if (bits & SPICE_ROPD_OP_INVERS)
        r = ~d;
    else
        r = s; // a descriptor with no operation: spice-server only sends this for PUT
    if (bits & SPICE_ROPD_INVERS_RES)
        r = ~r;
    return r;
}

ClipRegion ClipRegion::forDraw(const QRect& box, const std::vector<QRect>& clipRects, bool hasClip,
                               const QRect& surfaceBounds) {
    ClipRegion region;
    const QRect base = box.intersected(surfaceBounds);
    if (base.isEmpty())
        return region;
    if (!hasClip) {
        region.rects_.push_back(base);
        return region;
    }
    // spice-server sends the rectangles of a pixman region, which never overlap; anything else
    // would make XOR/invert draws apply twice and multiply the work, so overlaps are cut away.
    for (const QRect& c : clipRects) {
        std::vector<QRect> pieces{c.intersected(base)};
        for (const QRect& existing : region.rects_) {
            std::vector<QRect> next;
            for (const QRect& p : pieces) {
                if (!p.intersects(existing)) {
                    next.push_back(p);
                    continue;
                }
                // p minus existing: up to four bands around the intersection.
                const QRect i = p.intersected(existing);
                if (i.top() > p.top())
                    next.emplace_back(QPoint(p.left(), p.top()), QPoint(p.right(), i.top() - 1));
                if (i.bottom() < p.bottom())
                    next.emplace_back(QPoint(p.left(), i.bottom() + 1), QPoint(p.right(), p.bottom()));
                if (i.left() > p.left())
                    next.emplace_back(QPoint(p.left(), i.top()), QPoint(i.left() - 1, i.bottom()));
                if (i.right() < p.right())
                    next.emplace_back(QPoint(i.right() + 1, i.top()), QPoint(p.right(), i.bottom()));
            }
            pieces = std::move(next);
            if (pieces.empty())
                break;
        }
        for (const QRect& p : pieces)
            if (!p.isEmpty())
                region.rects_.push_back(p);
    }
    return region;
}

QRect ClipRegion::bounds() const {
    QRect b;
    for (const QRect& r : rects_)
        b = b.united(r);
    return b;
}

bool DrawMask::allows(int boxX, int boxY) const {
    if (!bitmap)
        return true;
    const int mx = boxX + pos.x();
    const int my = boxY + pos.y();
    bool set =
        mx >= 0 && my >= 0 && mx < bitmap->width && my < bitmap->height && (bitmap->at(mx, my) & 0xffffffu);
    return set != invert;
}

namespace {
inline uint32_t lerp(uint32_t a, uint32_t b, uint32_t f256) {
    // Per-channel linear interpolation of two ARGB words, f in [0,256].
    const uint32_t rbA = a & 0x00ff00ffu, gA = (a >> 8) & 0x00ff00ffu;
    const uint32_t rbB = b & 0x00ff00ffu, gB = (b >> 8) & 0x00ff00ffu;
    const uint32_t rb = ((rbA * (256 - f256) + rbB * f256) >> 8) & 0x00ff00ffu;
    const uint32_t g = ((gA * (256 - f256) + gB * f256) >> 8) & 0x00ff00ffu;
    return rb | (g << 8);
}

inline int positiveMod(int v, int m) {
    const int r = v % m;
    return r < 0 ? r + m : r;
}

inline uint32_t over(uint32_t src, uint32_t dst, uint32_t alpha) {
    // src is premultiplied; scale it by the global alpha, then OVER.
    auto channel = [](uint32_t v, int shift) { return (v >> shift) & 0xffu; };
    uint32_t out = 0;
    const uint32_t sa = (channel(src, 24) * alpha + 127) / 255;
    for (int shift = 0; shift <= 24; shift += 8) {
        const uint32_t s = (channel(src, shift) * alpha + 127) / 255;
        const uint32_t d = channel(dst, shift);
        const uint32_t v = s + (d * (255 - sa) + 127) / 255;
        out |= std::min<uint32_t>(v, 255) << shift;
    }
    return out;
}
} // namespace

uint32_t Canvas::sample(const Source& s, const QRect& box, int x, int y) const {
    switch (s.kind) {
    case Source::Kind::Solid:
        return s.color;
    case Source::Kind::Pattern: {
        const Pixmap& p = *s.image;
        return p.at(positiveMod(x - s.patternOrigin.x(), p.width),
                    positiveMod(y - s.patternOrigin.y(), p.height));
    }
    case Source::Kind::Image:
        break;
    }
    const Pixmap& img = *s.image;
    const int bx = x - box.left(), by = y - box.top();
    if (s.area.width() == box.width() && s.area.height() == box.height())
        return img.at(s.area.left() + bx, s.area.top() + by);
    // Scaled: map the centre of the destination pixel into the source area.
    const int64_t fx = ((2 * int64_t(bx) + 1) * s.area.width() * 128) / box.width() - 128; // 1/256 px
    const int64_t fy = ((2 * int64_t(by) + 1) * s.area.height() * 128) / box.height() - 128;
    auto clampX = [&](int64_t v) {
        return int(std::clamp<int64_t>(v, 0, s.area.width() - 1)) + s.area.left();
    };
    auto clampY = [&](int64_t v) {
        return int(std::clamp<int64_t>(v, 0, s.area.height() - 1)) + s.area.top();
    };
    if (!s.smooth)
        return img.at(clampX((fx + 128) >> 8), clampY((fy + 128) >> 8));
    const int64_t x0 = fx >> 8, y0 = fy >> 8;
    const uint32_t tx = uint32_t(fx & 0xff), ty = uint32_t(fy & 0xff);
    const uint32_t top = lerp(img.at(clampX(x0), clampY(y0)), img.at(clampX(x0 + 1), clampY(y0)), tx);
    const uint32_t bottom =
        lerp(img.at(clampX(x0), clampY(y0 + 1)), img.at(clampX(x0 + 1), clampY(y0 + 1)), tx);
    return lerp(top, bottom, ty);
}

void Canvas::draw(const ClipRegion& clip, const QRect& box, const Source& src, RopDescriptor rop,
                  const DrawMask& mask) {
    const bool unscaledImage = src.kind == Source::Kind::Image && src.area.size() == box.size();
    for (const QRect& r : clip.rects()) {
        if (rop.isPlainCopy() && !mask.bitmap && unscaledImage) {
            // The common case (QXL copy of a decoded image): straight row copies.
            for (int y = r.top(); y <= r.bottom(); ++y) {
                const auto srow = src.image->row(src.area.top() + (y - box.top()));
                auto drow = dst_.row(y);
                const int sx = src.area.left() + (r.left() - box.left());
                // An opaque Pixmap's words already carry alpha 0xff (Pixmap.h), so only an
                // alpha source drawn onto an opaque surface needs its alpha forced.
                if (dstAlpha_ || !src.image->hasAlpha) {
                    std::memcpy(&drow[r.left()], &srow[sx], sizeof(uint32_t) * r.width());
                } else {
                    for (int i = 0; i < r.width(); ++i)
                        drow[r.left() + i] = srow[sx + i] | 0xff000000u;
                }
            }
            continue;
        }
        if (rop.isPlainCopy() && !mask.bitmap && src.kind == Source::Kind::Solid) {
            const uint32_t c = finish(src.color);
            for (int y = r.top(); y <= r.bottom(); ++y)
                std::fill_n(&dst_.row(y)[r.left()], r.width(), c);
            continue;
        }
        for (int y = r.top(); y <= r.bottom(); ++y) {
            auto drow = dst_.row(y);
            for (int x = r.left(); x <= r.right(); ++x) {
                if (!mask.allows(x - box.left(), y - box.top()))
                    continue;
                drow[x] = finish(rop.apply(sample(src, box, x, y), drow[x]));
            }
        }
    }
}

void Canvas::drawRop3(const ClipRegion& clip, const QRect& box, const Source& src, const Source& brush,
                      uint8_t rop3, const DrawMask& mask) {
    for (const QRect& r : clip.rects()) {
        for (int y = r.top(); y <= r.bottom(); ++y) {
            auto drow = dst_.row(y);
            for (int x = r.left(); x <= r.right(); ++x) {
                if (!mask.allows(x - box.left(), y - box.top()))
                    continue;
                const uint32_t P = sample(brush, box, x, y), S = sample(src, box, x, y), D = drow[x];
                // Bit i of the code is the result for (P,S,D) = (i>>2&1, i>>1&1, i&1), bitwise.
                uint32_t out = 0;
                for (int i = 0; i < 8; ++i) {
                    if (!(rop3 >> i & 1))
                        continue;
                    out |= ((i & 4) ? P : ~P) & ((i & 2) ? S : ~S) & ((i & 1) ? D : ~D);
                }
                drow[x] = finish(out);
            }
        }
    }
}

void Canvas::drawTransparent(const ClipRegion& clip, const QRect& box, const Source& src, uint32_t key) {
    for (const QRect& r : clip.rects()) {
        for (int y = r.top(); y <= r.bottom(); ++y) {
            auto drow = dst_.row(y);
            for (int x = r.left(); x <= r.right(); ++x) {
                const uint32_t s = sample(src, box, x, y);
                if ((s & 0xffffffu) != (key & 0xffffffu))
                    drow[x] = finish(s);
            }
        }
    }
}

void Canvas::drawAlphaBlend(const ClipRegion& clip, const QRect& box, const Source& src, uint8_t alpha,
                            bool srcHasAlpha) {
    for (const QRect& r : clip.rects()) {
        for (int y = r.top(); y <= r.bottom(); ++y) {
            auto drow = dst_.row(y);
            for (int x = r.left(); x <= r.right(); ++x) {
                uint32_t s = sample(src, box, x, y);
                if (!srcHasAlpha)
                    s |= 0xff000000u;
                drow[x] = finish(over(s, drow[x], alpha));
            }
        }
    }
}

void Canvas::copyBits(const ClipRegion& clip, const QRect& box, QPoint srcPos) {
    const QRect bounds(0, 0, dst_.width, dst_.height);
    const int dx = srcPos.x() - box.left(), dy = srcPos.y() - box.top();
    // Copy into a temporary per rectangle so overlapping source and destination are safe
    // regardless of the direction of the scroll.
    std::vector<uint32_t> tmp;
    for (const QRect& r : clip.rects()) {
        const QRect srcRect = r.translated(dx, dy).intersected(bounds);
        if (srcRect.isEmpty())
            continue;
        const QRect dstRect = srcRect.translated(-dx, -dy);
        tmp.resize(size_t(srcRect.width()) * srcRect.height());
        for (int y = 0; y < srcRect.height(); ++y)
            std::memcpy(&tmp[size_t(y) * srcRect.width()], &dst_.row(srcRect.top() + y)[srcRect.left()],
                        sizeof(uint32_t) * srcRect.width());
        for (int y = 0; y < dstRect.height(); ++y)
            std::memcpy(&dst_.row(dstRect.top() + y)[dstRect.left()], &tmp[size_t(y) * srcRect.width()],
                        sizeof(uint32_t) * srcRect.width());
    }
}

} // namespace saffron
