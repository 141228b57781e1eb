#pragma once

#include "display/Surface.h"

#include <QImage>

namespace saffron {

// Copies a surface into a QImage under the surface lock (screenshots).
QImage copySurface(const Surface& surface);

} // namespace saffron
