#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace saffron {

// A decoded image or surface in the one pixel layout the engine uses everywhere:
// 32-bit words 0xAARRGGBB in native byte order (the same layout as QImage::Format_RGB32 and
// Format_ARGB32_Premultiplied, and as pixman's x8r8g8b8/a8r8g8b8 which spice-server assumes),
// rows top-down, stride == width. Alpha is premultiplied when hasAlpha is set; without it every
// word's top byte is 0xff (what Format_RGB32 requires), so opaque images copy with memcpy.
struct Pixmap {
    int width = 0;
    int height = 0;
    bool hasAlpha = false;
    std::vector<uint32_t> pixels;

    Pixmap() = default;
    Pixmap(int w, int h, bool alpha = false)
        : width(w), height(h), hasAlpha(alpha), pixels(static_cast<size_t>(w) * static_cast<size_t>(h)) {}

    bool isNull() const { return width <= 0 || height <= 0; }
    std::span<uint32_t> row(int y) {
        return {pixels.data() + static_cast<size_t>(y) * width, static_cast<size_t>(width)};
    }
    std::span<const uint32_t> row(int y) const {
        return {pixels.data() + static_cast<size_t>(y) * width, static_cast<size_t>(width)};
    }
    uint32_t& at(int x, int y) { return pixels[static_cast<size_t>(y) * width + x]; }
    uint32_t at(int x, int y) const { return pixels[static_cast<size_t>(y) * width + x]; }
};

// Largest surface or image dimension we accept from a server. 16384 covers 8K multi-head
// layouts; anything larger is treated as hostile (it would be gigabytes of memory).
inline constexpr int kMaxImageDimension = 16384;
inline constexpr uint64_t kMaxImagePixels = 64ull * 1024 * 1024;

inline bool plausibleImageSize(uint64_t w, uint64_t h) {
    return w > 0 && h > 0 && w <= kMaxImageDimension && h <= kMaxImageDimension && w * h <= kMaxImagePixels;
}

} // namespace saffron
