#pragma once

#include "display/Pixmap.h"

#include <string>

namespace saffron::testserver {

// Writes `image` as a binary PPM (P6, maxval 255): the red, green and blue bytes of each
// 0xAARRGGBB pixel, rows top-down. Alpha is dropped: the primary surface is xRGB.
bool writePpm(const std::string& path, const Pixmap& image);

} // namespace saffron::testserver
