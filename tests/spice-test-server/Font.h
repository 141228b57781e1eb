#pragma once

#include "display/Pixmap.h"

#include <cstdint>
#include <string_view>

namespace saffron::testserver {

// A tiny 5x7 bitmap font (upper-case letters, digits, a little punctuation) so that the
// workloads can draw readable, high-contrast "text" without depending on a font library;
// every pixel stays a pure function of the string, which keeps the expected images exact.
inline constexpr int kGlyphWidth = 5;
inline constexpr int kGlyphHeight = 7;
// Horizontal advance of one character, in unscaled pixels (glyph plus one column of space).
inline constexpr int kGlyphAdvance = kGlyphWidth + 1;

// Draws `text` with its top-left corner at (x, y), each font pixel a scale x scale square.
// Lower-case letters are drawn as upper-case; unknown characters as a hollow box.
// Pixels outside `target` are clipped.
void drawText(Pixmap& target, int x, int y, int scale, std::string_view text, uint32_t color);

// Width in pixels that drawText needs for `text` at `scale`.
int textWidth(std::string_view text, int scale);

} // namespace saffron::testserver
