#pragma once

#include "display/Surface.h"

#include <QImage>
#include <QRect>

namespace saffron {

// Copies a surface (or one region of it) into a QImage under the surface lock. Used for
// screenshots and for the demo window's partial updates.
QImage copySurface(const Surface& surface);
void copySurfaceRegion(const Surface& surface, const QRect& rect, QImage& target);

} // namespace saffron
