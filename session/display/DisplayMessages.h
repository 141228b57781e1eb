#pragma once

#include "display/Pixmap.h"
#include "wire/Reader.h"

#include <QPoint>
#include <QRect>
#include <cstdint>
#include <vector>

namespace saffron {

// Parsers for the building blocks of display messages (spice.proto: Rect, Point, Clip,
// DisplayBase, Brush, QMask). Pure functions over a Reader; every value is validated here so
// the drawing code can trust it.
namespace display {

// Coordinates beyond this are hostile or garbage; clamping keeps QRect arithmetic from
// overflowing.
inline constexpr int kMaxCoordinate = 1 << 20;
inline constexpr uint32_t kMaxClipRects = 1024;

QRect readRect(Reader& r);
QPoint readPoint(Reader& r);
QPoint readPoint16(Reader& r);

struct Clip {
    bool hasRects = false;
    std::vector<QRect> rects;
};
Clip readClip(Reader& r);

struct Base {
    uint32_t surfaceId = 0;
    QRect box;
    Clip clip;
};
Base readBase(Reader& r);

struct Brush {
    enum class Type { None, Solid, Pattern } type = Type::None;
    uint32_t color = 0;
    uint32_t patternImage = 0; // offset of the pattern Image in the message
    QPoint patternPos;
};
Brush readBrush(Reader& r);

struct Mask {
    bool invert = false;
    QPoint pos;
    uint32_t bitmap = 0; // offset of the mask Image, 0 = no mask
};
Mask readMask(Reader& r);

// Renders a spice.proto String (raster glyphs, 1/4/8 bits per pixel) into `mask` (non-zero =
// glyph pixel), which covers `area` of the surface. Glyph pixels outside `area` are dropped.
void rasterizeGlyphs(Reader str, const QRect& area, Pixmap& mask);
// Renders a spice.proto Path (polylines and cubic Béziers in 28.4 fixed point) as one-pixel
// lines into `mask`, which covers `area`. Work is bounded whatever the coordinates.
void rasterizePath(Reader path, const QRect& area, Pixmap& mask);

} // namespace display
} // namespace saffron
