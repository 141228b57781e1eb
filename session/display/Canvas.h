#pragma once

#include "display/Pixmap.h"

#include <QPoint>
#include <QRect>
#include <cstdint>
#include <optional>
#include <vector>

namespace saffron {

// SPICE raster operation descriptor (spice.proto `ropd` flags): optional inversion of source,
// brush and destination, one operation, optional inversion of the result.
struct RopDescriptor {
    uint16_t bits = 0;
    bool isPlainCopy() const;
    uint32_t apply(uint32_t src, uint32_t dst) const;
};

// Where a draw may touch: the draw's box intersected with its clip rectangles and the surface.
// Built once per draw from untrusted rectangles; empty rectangles are dropped.
class ClipRegion {
public:
    static ClipRegion forDraw(const QRect& box, const std::vector<QRect>& clipRects, bool hasClip,
                              const QRect& surfaceBounds);
    const std::vector<QRect>& rects() const { return rects_; }
    bool isEmpty() const { return rects_.empty(); }
    QRect bounds() const;

private:
    std::vector<QRect> rects_;
};

// A 1-bit mask (spice.proto QMask): pixels draw only where the mask is set (or unset with
// INVERS). Positioned relative to the draw box at `pos`.
struct DrawMask {
    const Pixmap* bitmap = nullptr;
    QPoint pos;
    bool invert = false;
    bool allows(int boxX, int boxY) const;
};

// A source for a draw: a solid colour or an image area mapped onto the draw box (scaled when
// the sizes differ, with nearest or bilinear sampling as the draw's scale_mode says), or a
// pattern image tiled from an origin.
struct Source {
    enum class Kind { Solid, Image, Pattern } kind = Kind::Solid;
    uint32_t color = 0;
    const Pixmap* image = nullptr;
    QRect area;           // Image: source rectangle, already validated against the image
    bool smooth = false;  // Image: bilinear when scaling
    QPoint patternOrigin; // Pattern: where the tile's origin lies on the surface
};

// Drawing primitives on a surface. Every function clips to `clip`; sources are validated by the
// caller (DisplayChannel) so the inner loops need no per-pixel checks.
class Canvas {
public:
    explicit Canvas(Pixmap& target, bool targetHasAlpha) : dst_(target), dstAlpha_(targetHasAlpha) {}

    // Fill/copy/blend/opaque/blackness/whiteness/invers: `rop` combines source with destination.
    void draw(const ClipRegion& clip, const QRect& box, const Source& src, RopDescriptor rop,
              const DrawMask& mask = {});
    // ROP3 with a brush (P), source (S) and destination (D), Windows ternary raster op codes.
    void drawRop3(const ClipRegion& clip, const QRect& box, const Source& src, const Source& brush,
                  uint8_t rop3, const DrawMask& mask = {});
    // Pixels equal to `transparentColor` (RGB compared) are skipped.
    void drawTransparent(const ClipRegion& clip, const QRect& box, const Source& src,
                         uint32_t transparentColor);
    // Porter-Duff OVER with a global alpha; `srcHasAlpha` uses the source's premultiplied alpha.
    void drawAlphaBlend(const ClipRegion& clip, const QRect& box, const Source& src, uint8_t alpha,
                        bool srcHasAlpha);
    // Moves pixels within the surface (scrolling): the box receives the area at `srcPos`.
    // Overlap-safe.
    void copyBits(const ClipRegion& clip, const QRect& box, QPoint srcPos);

private:
    uint32_t sample(const Source& s, const QRect& box, int x, int y) const;
    uint32_t finish(uint32_t v) const { return dstAlpha_ ? v : (v | 0xff000000u); }

    Pixmap& dst_;
    bool dstAlpha_;
};

} // namespace saffron
