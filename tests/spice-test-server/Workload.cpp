#include "Workload.h"

#include "Font.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <spice/enums.h>
#include <string>

namespace saffron::testserver {

namespace {

constexpr uint32_t kOpaque = 0xFF000000u;

constexpr uint32_t rgb(uint32_t r, uint32_t g, uint32_t b) {
    return kOpaque | (r & 0xFF) << 16 | (g & 0xFF) << 8 | (b & 0xFF);
}

uint32_t clampByte(int v) {
    return static_cast<uint32_t>(std::clamp(v, 0, 255));
}

// A fixed integer hash (a "lowbias32" style mixer): the noise and the pseudo-words must be
// identical on every run and every machine, so no std::rand or floating point anywhere.
uint32_t mix(uint32_t v) {
    v ^= v >> 16;
    v *= 0x7feb352dU;
    v ^= v >> 15;
    v *= 0x846ca68bU;
    v ^= v >> 16;
    return v;
}

uint32_t hash2(uint32_t a, uint32_t b) {
    return mix(a * 0x9E3779B1U ^ mix(b + 0x632BE5ABU));
}

void fillRect(Pixmap& p, int left, int top, int right, int bottom, uint32_t color) {
    left = std::max(left, 0);
    top = std::max(top, 0);
    right = std::min(right, p.width);
    bottom = std::min(bottom, p.height);
    for (int y = top; y < bottom; ++y)
        for (int x = left; x < right; ++x)
            p.at(x, y) = color;
}

// --- static ---------------------------------------------------------------------------

Pixmap makeStaticPattern(int w, int h) {
    Pixmap p(w, h);
    // Colour bars (top 3/8): the classic eight, so a channel swap is obvious at a glance.
    constexpr std::array<uint32_t, 8> bars = {rgb(255, 255, 255), rgb(255, 255, 0), rgb(0, 255, 255),
                                              rgb(0, 255, 0),     rgb(255, 0, 255), rgb(255, 0, 0),
                                              rgb(0, 0, 255),     rgb(0, 0, 0)};
    const int barsEnd = h * 3 / 8;
    const int rampsEnd = h * 5 / 8;
    for (int y = 0; y < barsEnd; ++y)
        for (int x = 0; x < w; ++x)
            p.at(x, y) = bars[static_cast<size_t>(x * 8 / w)];

    // Four horizontal ramps (red, green, blue, grey): every 8-bit level appears, so lossy
    // compression or a wrong byte order shows up as banding or swapped strips.
    const int rampsHeight = rampsEnd - barsEnd;
    for (int y = barsEnd; y < rampsEnd; ++y) {
        const int strip = (y - barsEnd) * 4 / rampsHeight;
        for (int x = 0; x < w; ++x) {
            const uint32_t v = static_cast<uint32_t>(x * 255 / (w - 1));
            switch (strip) {
            case 0:
                p.at(x, y) = rgb(v, 0, 0);
                break;
            case 1:
                p.at(x, y) = rgb(0, v, 0);
                break;
            case 2:
                p.at(x, y) = rgb(0, 0, v);
                break;
            default:
                p.at(x, y) = rgb(v, v, v);
                break;
            }
        }
    }

    // Text and high-contrast detail (bottom 3/8).
    fillRect(p, 0, rampsEnd, w, h, rgb(0x20, 0x20, 0x20));
    const int scale = std::max(1, std::min(w, h) / 256);
    const int lineStep = (kGlyphHeight + 3) * scale;
    int textY = rampsEnd + 8 * scale;
    const std::string size = std::to_string(w) + "X" + std::to_string(h) + " STATIC";
    for (std::string_view line :
         {std::string_view("SAFFRON TEST PATTERN"), std::string_view(size),
          std::string_view("ABCDEFGHIJKLMNOPQRSTUVWXYZ"), std::string_view("0123456789 +-=/#.:()!?")}) {
        drawText(p, 16, textY, scale, line, rgb(255, 255, 255));
        textY += lineStep;
    }
    // Right quarter: a one-pixel checkerboard above two-pixel vertical lines.
    const int detailLeft = w * 3 / 4;
    const int detailMid = rampsEnd + (h - rampsEnd) / 2;
    for (int y = rampsEnd + 8; y < detailMid - 4; ++y)
        for (int x = detailLeft; x < w - 8; ++x)
            p.at(x, y) = ((x + y) & 1) ? rgb(255, 255, 255) : rgb(0, 0, 0);
    for (int y = detailMid + 4; y < h - 8; ++y)
        for (int x = detailLeft; x < w - 8; ++x)
            p.at(x, y) = ((x / 2) & 1) ? rgb(255, 255, 255) : rgb(0, 0, 0);

    // Border and coloured corners: a flipped, shifted or cropped image is caught at the edges.
    fillRect(p, 0, 0, w, 2, rgb(255, 128, 0));
    fillRect(p, 0, h - 2, w, h, rgb(255, 128, 0));
    fillRect(p, 0, 0, 2, h, rgb(255, 128, 0));
    fillRect(p, w - 2, 0, w, h, rgb(255, 128, 0));
    fillRect(p, 2, 2, 14, 14, rgb(255, 0, 0));
    fillRect(p, w - 14, 2, w - 2, 14, rgb(0, 255, 0));
    fillRect(p, 2, h - 14, 14, h - 2, rgb(0, 0, 255));
    fillRect(p, w - 14, h - 14, w - 2, h - 2, rgb(255, 255, 255));
    return p;
}

// --- photo ----------------------------------------------------------------------------

Pixmap makePhoto(int w, int h) {
    Pixmap p(w, h);
    const int64_t cx = w / 2;
    const int64_t cy = h / 2;
    const int64_t maxD2 = cx * cx + cy * cy;
    // A bright "sun" blob with quadratic fall-off: smooth like a photograph, no libm needed.
    const int64_t sunX = w * 3 / 4;
    const int64_t sunY = h / 4;
    const int64_t sunR = std::max(8, std::min(w, h) / 3);
    const int64_t sunR2 = sunR * sunR;
    for (int y = 0; y < h; ++y) {
        for (int x = 0; x < w; ++x) {
            const int64_t dx = x - cx;
            const int64_t dy = y - cy;
            const int vignette = static_cast<int>((dx * dx + dy * dy) * 255 / std::max<int64_t>(maxD2, 1));
            const int64_t sx = x - sunX;
            const int64_t sy = y - sunY;
            const int64_t sd2 = sx * sx + sy * sy;
            const int sun = sd2 < sunR2 ? static_cast<int>((sunR2 - sd2) * 140 / sunR2) : 0;
            const int noise =
                static_cast<int>(hash2(static_cast<uint32_t>(x), static_cast<uint32_t>(y)) & 31) - 16;
            const int r = 30 + x * 180 / std::max(w - 1, 1) + sun - vignette / 4 + noise;
            const int g = 50 + y * 150 / std::max(h - 1, 1) + sun - vignette / 3 + noise;
            const int b = 210 - vignette * 150 / 255 + sun / 3 + noise;
            p.at(x, y) = kOpaque | clampByte(r) << 16 | clampByte(g) << 8 | clampByte(b);
        }
    }
    return p;
}

// --- scroll ---------------------------------------------------------------------------

Pixmap scrollLine(int w, int line) {
    Pixmap p(w, kScrollBand);
    const uint32_t background = (line % 2) ? rgb(0xF4, 0xF4, 0xF4) : rgb(0xFF, 0xFF, 0xFF);
    fillRect(p, 0, 0, w, kScrollBand, background);
    const uint32_t seed = mix(static_cast<uint32_t>(line));
    // A coloured marker at the left edge: a misplaced band shows a broken colour sequence.
    fillRect(p, 0, 0, 3, kScrollBand, kOpaque | (seed & 0x00FFFFFF));

    char label[32];
    std::snprintf(label, sizeof label, "%06d", line);
    drawText(p, 6, 1, 2, label, rgb(0, 0, 0x90));
    int x = 6 + textWidth(label, 2) + 12;
    constexpr std::array<uint32_t, 3> inks = {rgb(0, 0, 0), rgb(0x90, 0, 0), rgb(0, 0x70, 0)};
    for (uint32_t word = 0; x < w; ++word) {
        const uint32_t hw = hash2(static_cast<uint32_t>(line), word);
        const int length = 2 + static_cast<int>(hw % 8);
        std::string text;
        for (int i = 0; i < length; ++i)
            text.push_back(static_cast<char>('A' + hash2(hw, static_cast<uint32_t>(i)) % 26));
        drawText(p, x, 1, 2, text, inks[(hw >> 8) % inks.size()]);
        x += textWidth(text, 2) + 12;
    }
    return p;
}

// --- video ----------------------------------------------------------------------------

// 0..255..0 over a period of 512.
int triangle(int v) {
    v &= 511;
    return v < 256 ? v : 511 - v;
}

// Frame `index` of the "video" area: drifting colour gradients and a moving soft ball,
// smooth enough for spice-server's natural-image heuristics to stream it.
Pixmap makeVideoFrame(int w, int h, int index) {
    Pixmap p(w, h);
    const int radius = std::max(4, h / 6);
    const int64_t r2 = int64_t(radius) * radius;
    const int ballX = radius + triangle(index * 9) * std::max(w - 2 * radius, 1) / 255;
    const int ballY = radius + triangle(index * 7 + 128) * std::max(h - 2 * radius, 1) / 255;
    for (int y = 0; y < h; ++y) {
        for (int x = 0; x < w; ++x) {
            int r = triangle(x * 512 / w + index * 6);
            int g = triangle(y * 512 / h + index * 4);
            int b = triangle((x + y) * 256 / std::max(w, h) + index * 8);
            const int64_t dx = x - ballX;
            const int64_t dy = y - ballY;
            const int64_t d2 = dx * dx + dy * dy;
            if (d2 < r2) {
                const int light = static_cast<int>((r2 - d2) * 255 / r2);
                r += (255 - r) * light / 255;
                g += (255 - g) * light / 255;
                b += (255 - b) * light / 255;
            }
            p.at(x, y) = kOpaque | clampByte(r) << 16 | clampByte(g) << 8 | clampByte(b);
        }
    }
    return p;
}

// --- video-moving and video-noise -----------------------------------------------------

constexpr uint32_t kWhite = rgb(255, 255, 255);
constexpr uint32_t kBlack = rgb(0, 0, 0);

// The frame number as a row of black/white cells (see frameCodeCell in Workload.h). Cells of
// 16 px start at the video area's origin, which is also the origin of the encoders' 8x8 and
// 16x16 blocks, so each cell is a flat block that even a starved encoder keeps recognisable.
void stampFrameCode(Pixmap& p, int index) {
    const int cell = frameCodeCell(p.width, p.height);
    if (cell == 0)
        return;
    for (int i = 0; i < kFrameCodeBits; ++i) {
        const bool one = (static_cast<unsigned>(index) >> (kFrameCodeBits - 1 - i)) & 1u;
        fillRect(p, i * cell, 0, (i + 1) * cell, cell, one ? kWhite : kBlack);
    }
}

// Drifting colour gradients, a yellow vertical bar and a blue horizontal bar sweeping across
// with hard edges, a shaded orange ball on a Lissajous path, a "FRAME n" label and the frame
// code. Everything moves a fixed distance per frame number, so the picture is a function of
// (w, h, index) alone, whatever the frame rate.
Pixmap makeMovingPicture(int w, int h, int index) {
    Pixmap p(w, h);
    // Separable gradients: red varies along x, green along y, blue along the anti-diagonal;
    // tables keep a 1920x1080 picture cheap enough for 60 frames a second.
    std::vector<uint32_t> red(static_cast<size_t>(w));
    std::vector<uint32_t> blue(static_cast<size_t>(w + h));
    for (int x = 0; x < w; ++x)
        red[static_cast<size_t>(x)] = static_cast<uint32_t>(triangle(x * 512 / w + index * 5));
    for (int d = 0; d < w + h; ++d)
        blue[static_cast<size_t>(d)] = static_cast<uint32_t>(triangle(d * 512 / (w + h) + index * 7 + 256));
    for (int y = 0; y < h; ++y) {
        const uint32_t green = static_cast<uint32_t>(triangle(y * 512 / h + index * 3));
        auto row = p.row(y);
        for (int x = 0; x < w; ++x)
            row[static_cast<size_t>(x)] = kOpaque | red[static_cast<size_t>(x)] << 16 | green << 8 |
                                          blue[static_cast<size_t>(x + h - 1 - y)];
    }

    const int barWidth = std::max(2, w / 24);
    const int barX = triangle(index * 6) * (w - barWidth) / 255;
    fillRect(p, barX, 0, barX + barWidth, h, rgb(255, 224, 32));
    const int barHeight = std::max(2, h / 24);
    const int barY = triangle(index * 4 + 128) * (h - barHeight) / 255;
    fillRect(p, 0, barY, w, barY + barHeight, rgb(32, 64, 255));

    const int radius = std::max(4, std::min(w, h) / 8);
    const int64_t r2 = int64_t(radius) * radius;
    const int ballX = radius + triangle(index * 5 + 64) * std::max(w - 2 * radius, 1) / 255;
    const int ballY = radius + triangle(index * 3) * std::max(h - 2 * radius, 1) / 255;
    for (int y = std::max(0, ballY - radius); y < std::min(h, ballY + radius); ++y) {
        for (int x = std::max(0, ballX - radius); x < std::min(w, ballX + radius); ++x) {
            const int64_t dx = x - ballX;
            const int64_t dy = y - ballY;
            const int64_t d2 = dx * dx + dy * dy;
            if (d2 >= r2)
                continue;
            const int light = static_cast<int>((r2 - d2) * 255 / r2);
            p.at(x, y) = rgb(clampByte(96 + light * 159 / 255), clampByte(32 + light * 200 / 255),
                             clampByte(16 + light * 120 / 255));
        }
    }

    const int cell = frameCodeCell(w, h);
    const int scale = std::max(1, std::min(w, h) / 160);
    char label[32];
    std::snprintf(label, sizeof label, "FRAME %06d", index);
    const int labelX = std::max(cell, 2);
    const int labelY = cell + std::max(cell / 2, 2);
    fillRect(p, labelX - scale, labelY - scale, labelX + textWidth(label, scale) + scale,
             labelY + (kGlyphHeight + 1) * scale, kBlack);
    drawText(p, labelX, labelY, scale, label, kWhite);
    stampFrameCode(p, index);
    return p;
}

// Full-range RGB noise, new every frame: nothing for an encoder to predict, neither within
// the picture nor from the previous one. Each row runs its own xorshift32 generator seeded
// from (frame, row), so any frame is computed directly and rows are cheap.
Pixmap makeNoisePicture(int w, int h, int index) {
    Pixmap p(w, h);
    for (int y = 0; y < h; ++y) {
        uint32_t state = hash2(static_cast<uint32_t>(index), static_cast<uint32_t>(y)) | 1u;
        for (uint32_t& px : p.row(y)) {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            px = kOpaque | (state & 0x00FFFFFFu);
        }
    }
    stampFrameCode(p, index);
    return p;
}

// --- cursors --------------------------------------------------------------------------

constexpr int kCursorSize = 32;

void setMaskBit(std::vector<uint8_t>& data, size_t offset, int x, int y) {
    const int stride = (kCursorSize + 7) / 8;
    data[offset + static_cast<size_t>(y * stride + x / 8)] |= static_cast<uint8_t>(0x80 >> (x % 8));
}

void putWord(std::vector<uint8_t>& data, size_t index, uint32_t v) {
    for (size_t i = 0; i < 4; ++i)
        data[index * 4 + i] = static_cast<uint8_t>(v >> (8 * i));
}

bool inArrow(int x, int y) {
    if (x < 0 || y < 0)
        return false;
    const bool head = y < 20 && x * 3 <= y * 2;
    const bool stem = y >= 14 && y < 28 && x >= 3 && x <= 7;
    return head || stem;
}

std::shared_ptr<const CursorShape> makeAlphaCursor() {
    auto shape = std::make_shared<CursorShape>();
    shape->type = SPICE_CURSOR_TYPE_ALPHA;
    shape->width = shape->height = kCursorSize;
    shape->unique = 1;
    shape->data.assign(kCursorSize * kCursorSize * 4, 0);
    for (int y = 0; y < kCursorSize; ++y) {
        for (int x = 0; x < kCursorSize; ++x) {
            uint32_t v = 0;
            if (inArrow(x, y)) {
                const bool edge =
                    !inArrow(x - 1, y) || !inArrow(x + 1, y) || !inArrow(x, y - 1) || !inArrow(x, y + 1);
                v = edge ? 0xFF000000u : 0xFFFFFFFFu;
            } else if (inArrow(x - 2, y - 2)) {
                // Half-transparent black shadow: identical premultiplied or not.
                v = 0x60000000u;
            }
            putWord(shape->data, static_cast<size_t>(y * kCursorSize + x), v);
        }
    }
    return shape;
}

std::shared_ptr<const CursorShape> makeMonoCursor() {
    auto shape = std::make_shared<CursorShape>();
    shape->type = SPICE_CURSOR_TYPE_MONO;
    shape->width = shape->height = kCursorSize;
    shape->hotX = shape->hotY = 15;
    shape->unique = 2;
    const size_t plane = static_cast<size_t>((kCursorSize + 7) / 8 * kCursorSize);
    shape->data.assign(plane * 2, 0);
    for (int y = 0; y < kCursorSize; ++y) {
        for (int x = 0; x < kCursorSize; ++x) {
            const int dx = std::abs(x - 15);
            const int dy = std::abs(y - 15);
            const bool arm = (dx <= 1 && dy <= 13) || (dy <= 1 && dx <= 13);
            bool andBit = true;
            bool xorBit = false;
            if (arm) {
                andBit = false;
                xorBit = dx == 0 || dy == 0; // white centre line, black sides
            } else if (std::max(dx, dy) == 6) {
                xorBit = true; // AND 1 + XOR 1: inverts the screen
            }
            if (andBit)
                setMaskBit(shape->data, 0, x, y);
            if (xorBit)
                setMaskBit(shape->data, plane, x, y);
        }
    }
    return shape;
}

std::shared_ptr<const CursorShape> makeColorCursor() {
    auto shape = std::make_shared<CursorShape>();
    shape->type = SPICE_CURSOR_TYPE_COLOR32;
    shape->width = shape->height = kCursorSize;
    shape->hotX = shape->hotY = 16;
    shape->unique = 3;
    const size_t pixels = kCursorSize * kCursorSize * 4;
    shape->data.assign(pixels + static_cast<size_t>((kCursorSize + 7) / 8 * kCursorSize), 0);
    for (int y = 0; y < kCursorSize; ++y) {
        for (int x = 0; x < kCursorSize; ++x) {
            const int d = std::abs(x - 16) + std::abs(y - 16);
            uint32_t v = 0;
            if (d <= 14)
                v = d >= 13
                        ? 0u
                        : (static_cast<uint32_t>(x * 8) << 16 | static_cast<uint32_t>(y * 8) << 8 | 0x80u);
            else
                setMaskBit(shape->data, pixels, x, y);
            putWord(shape->data, static_cast<size_t>(y * kCursorSize + x), v);
        }
    }
    return shape;
}

// --- workloads ------------------------------------------------------------------------

DrawOp fullCopy(Pixmap image) {
    DrawOp op;
    op.kind = DrawOp::Kind::Copy;
    op.dst = {0, 0, image.width, image.height};
    op.image = std::move(image);
    return op;
}

class StaticWorkload : public Workload {
public:
    std::string_view name() const override { return "static"; }
    bool animated() const override { return false; }
    std::optional<Frame> frame(int index, int w, int h) const override {
        if (index != 1)
            return std::nullopt;
        Frame f;
        f.draws.push_back(fullCopy(staticPattern(w, h)));
        return f;
    }
};

class PhotoWorkload : public Workload {
public:
    std::string_view name() const override { return "photo"; }
    bool animated() const override { return false; }
    std::optional<Frame> frame(int index, int w, int h) const override {
        if (index != 1)
            return std::nullopt;
        Frame f;
        f.draws.push_back(fullCopy(photoImage(w, h)));
        return f;
    }
};

// Frame k shows document rows [(k-1)*band, (k-1)*band + h): frame 1 paints them all, each
// later frame moves the screen up one band with QXL_COPY_BITS and paints the new bottom band.
class ScrollWorkload : public Workload {
public:
    std::string_view name() const override { return "scroll"; }
    bool animated() const override { return true; }
    std::optional<Frame> frame(int index, int w, int h) const override {
        Frame f;
        if (index == 1) {
            f.draws.push_back(fullCopy(scrollDocument(w, 0, h)));
            return f;
        }
        DrawOp scroll;
        scroll.kind = DrawOp::Kind::CopyBits;
        scroll.dst = {0, 0, w, h - kScrollBand};
        scroll.srcX = 0;
        scroll.srcY = kScrollBand;
        f.draws.push_back(std::move(scroll));

        DrawOp band;
        band.kind = DrawOp::Kind::Copy;
        band.dst = {0, h - kScrollBand, w, h};
        band.image = scrollDocument(w, (index - 1) * kScrollBand + h - kScrollBand, kScrollBand);
        f.draws.push_back(std::move(band));
        return f;
    }
};

// What spice-server's stream detection looks for (display-channel.cpp drawable_can_stream,
// video-stream.cpp is_next_stream_frame and video_stream_add_frame): opaque QXL_DRAW_COPY
// draws of a bitmap with ROP "put" on the primary surface, each with exactly the bbox and
// source size of the previous one, less than 200 ms apart, 20 in a row. Our bitmaps never
// carry QXL_IMAGE_CACHE, so every frame is a fresh bitmap the server must send or encode.
DrawOp videoDraw(const Rect& area, Pixmap picture) {
    DrawOp op;
    op.kind = DrawOp::Kind::Copy;
    op.dst = area;
    op.image = std::move(picture);
    return op;
}

// Frame 1 paints the photo; every later frame repaints the video area (by default the
// centre quarter: half width, half height) with the next picture of an animation, at the
// same place and size each time.
class VideoWorkload : public Workload {
public:
    explicit VideoWorkload(VideoArea area) : area_(area) {}
    std::string_view name() const override { return "video"; }
    bool animated() const override { return true; }
    std::optional<Frame> frame(int index, int w, int h) const override {
        Frame f;
        if (index == 1) {
            f.draws.push_back(fullCopy(photoImage(w, h)));
            return f;
        }
        const Rect area = videoRect(w, h);
        f.draws.push_back(videoDraw(area, makeVideoFrame(area.width(), area.height(), index)));
        return f;
    }
    int replayFrom(int frames) const override { return frames; }
    Rect videoRect(int w, int h) const override { return resolveVideoArea(area_, w, h); }

private:
    VideoArea area_;
};

// video-moving and video-noise: frame 1 paints the static pattern around the video area
// (unless the area is the whole surface) and picture 1 into it; frame k repaints the area
// with picture k. The surface after frame k is thus the pattern plus picture k, which is
// what a client test compares a presented stream frame with.
class PictureVideoWorkload : public Workload {
public:
    using Picture = Pixmap (*)(int width, int height, int index);
    PictureVideoWorkload(std::string_view name, Picture picture, VideoArea area)
        : name_(name), picture_(picture), area_(area) {}
    std::string_view name() const override { return name_; }
    bool animated() const override { return true; }
    std::optional<Frame> frame(int index, int w, int h) const override {
        Frame f;
        const Rect area = videoRect(w, h);
        if (index == 1 && area != Rect{0, 0, w, h})
            f.draws.push_back(fullCopy(staticPattern(w, h)));
        f.draws.push_back(videoDraw(area, picture_(area.width(), area.height(), index)));
        return f;
    }
    int replayFrom(int frames) const override { return frames; }
    Rect videoRect(int w, int h) const override { return resolveVideoArea(area_, w, h); }

private:
    std::string_view name_;
    Picture picture_;
    VideoArea area_;
};

// Frame 1 paints the static pattern and sets the alpha cursor; every 50 frames the shape
// changes (alpha, mono, colour, again), in between the cursor moves along a fixed path.
class CursorWorkload : public Workload {
public:
    std::string_view name() const override { return "cursor"; }
    bool animated() const override { return true; }
    std::optional<Frame> frame(int index, int w, int h) const override {
        static const std::array<std::shared_ptr<const CursorShape>, 3> shapes = {alphaCursor(), monoCursor(),
                                                                                 colorCursor()};
        Frame f;
        if (index == 1)
            f.draws.push_back(fullCopy(staticPattern(w, h)));
        const int phase = (index - 1) % 150;
        CursorOp op;
        op.x = w / 4 + (index * 7) % (w / 2);
        op.y = h / 4 + (index * 5) % (h / 2);
        if (phase % 50 == 0) {
            op.kind = CursorOp::Kind::Set;
            op.shape = shapes[static_cast<size_t>(phase / 50)];
        } else {
            op.kind = CursorOp::Kind::Move;
        }
        f.cursor.push_back(std::move(op));
        return f;
    }
};

} // namespace

Rect resolveVideoArea(const VideoArea& area, int width, int height) {
    const Rect centre{width / 4, height / 4, width / 4 + width / 2, height / 4 + height / 2};
    switch (area.mode) {
    case VideoArea::Mode::Fullscreen:
        return {0, 0, width, height};
    case VideoArea::Mode::Rect: {
        // The surface may have shrunk (resize) since the rectangle was checked.
        const Rect clipped{std::max(area.rect.left, 0), std::max(area.rect.top, 0),
                           std::min(area.rect.right, width), std::min(area.rect.bottom, height)};
        return clipped.width() > 0 && clipped.height() > 0 ? clipped : centre;
    }
    case VideoArea::Mode::Centre:
        break;
    }
    return centre;
}

std::unique_ptr<Workload> makeWorkload(std::string_view name, const VideoArea& area) {
    if (name == "static")
        return std::make_unique<StaticWorkload>();
    if (name == "scroll")
        return std::make_unique<ScrollWorkload>();
    if (name == "cursor")
        return std::make_unique<CursorWorkload>();
    if (name == "photo")
        return std::make_unique<PhotoWorkload>();
    if (name == "video")
        return std::make_unique<VideoWorkload>(area);
    if (name == "video-moving")
        return std::make_unique<PictureVideoWorkload>("video-moving", &movingPicture, area);
    if (name == "video-noise")
        return std::make_unique<PictureVideoWorkload>("video-noise", &noisePicture, area);
    return nullptr;
}

void applyDraw(Pixmap& surface, const DrawOp& op) {
    const Rect& d = op.dst;
    if (op.kind == DrawOp::Kind::Copy) {
        for (int y = 0; y < d.height(); ++y)
            for (int x = 0; x < d.width(); ++x)
                surface.at(d.left + x, d.top + y) = op.image.at(x, y);
        return;
    }
    // Source and destination overlap when scrolling; go through a copy like memmove.
    Pixmap source(d.width(), d.height());
    for (int y = 0; y < d.height(); ++y)
        for (int x = 0; x < d.width(); ++x)
            source.at(x, y) = surface.at(op.srcX + x, op.srcY + y);
    for (int y = 0; y < d.height(); ++y)
        for (int x = 0; x < d.width(); ++x)
            surface.at(d.left + x, d.top + y) = source.at(x, y);
}

Pixmap expectedSurface(const Workload& workload, int width, int height, int frames) {
    Pixmap surface(width, height);
    const auto replay = [&](int index) {
        const auto f = workload.frame(index, width, height);
        if (!f)
            return false;
        for (const DrawOp& op : f->draws)
            applyDraw(surface, op);
        return true;
    };
    if (frames < 1 || !replay(1))
        return surface;
    for (int i = std::max(2, workload.replayFrom(frames)); i <= frames; ++i)
        if (!replay(i))
            break;
    return surface;
}

Pixmap staticPattern(int width, int height) {
    return makeStaticPattern(width, height);
}

uint32_t displayColour(int display) {
    switch (display % 4) {
    case 1:
        return 0xff2060a0;
    case 2:
        return 0xff20a060;
    case 3:
        return 0xffa06020;
    default:
        return 0xff606060;
    }
}

Pixmap displayPicture(int display, int width, int height) {
    Pixmap out(width, height);
    constexpr int kFrame = 4;
    constexpr uint32_t kWhite = 0xffffffff;
    for (int y = 0; y < height; ++y) {
        auto row = out.row(y);
        const bool edgeRow = y < kFrame || y >= height - kFrame;
        for (int x = 0; x < width; ++x)
            row[x] = edgeRow || x < kFrame || x >= width - kFrame ? kWhite : displayColour(display);
    }
    const std::string name = "DISPLAY " + std::to_string(display + 1);
    const int scale = std::max(1, std::min(width / (textWidth(name, 1) * 2), height / (kGlyphHeight * 4)));
    drawText(out, (width - textWidth(name, scale)) / 2, (height - kGlyphHeight * scale) / 2, scale, name,
             kWhite);
    return out;
}

Frame displayFrame(int display, int width, int height) {
    Frame f;
    f.draws.push_back(fullCopy(displayPicture(display, width, height)));
    return f;
}

Pixmap photoImage(int width, int height) {
    return makePhoto(width, height);
}

Pixmap scrollDocument(int width, int firstRow, int rows) {
    Pixmap out(width, rows);
    int cachedLine = -1;
    Pixmap line;
    for (int y = 0; y < rows; ++y) {
        const int docRow = firstRow + y;
        if (docRow / kScrollBand != cachedLine) {
            cachedLine = docRow / kScrollBand;
            line = scrollLine(width, cachedLine);
        }
        const auto src = line.row(docRow % kScrollBand);
        std::copy(src.begin(), src.end(), out.row(y).begin());
    }
    return out;
}

Pixmap movingPicture(int width, int height, int index) {
    return makeMovingPicture(width, height, index);
}

Pixmap noisePicture(int width, int height, int index) {
    return makeNoisePicture(width, height, index);
}

int frameCodeCell(int width, int height) {
    const int cell = std::min({16, width / kFrameCodeBits, height / 4});
    return cell >= 4 ? cell : 0;
}

std::optional<int> readFrameCode(const Pixmap& picture, const Rect& area) {
    const int cell = frameCodeCell(area.width(), area.height());
    if (cell == 0 || area.left < 0 || area.top < 0 || area.right > picture.width ||
        area.bottom > picture.height)
        return std::nullopt;
    // The centre half of each cell: block edges are where lossy encoders smear most.
    const int inset = cell / 4;
    int value = 0;
    for (int i = 0; i < kFrameCodeBits; ++i) {
        int64_t sum = 0;
        int count = 0;
        for (int y = inset; y < cell - inset; ++y) {
            for (int x = i * cell + inset; x < (i + 1) * cell - inset; ++x) {
                const uint32_t px = picture.at(area.left + x, area.top + y);
                // BT.601 luma in 8.8 fixed point.
                sum += (77 * ((px >> 16) & 0xFF) + 150 * ((px >> 8) & 0xFF) + 29 * (px & 0xFF)) >> 8;
                ++count;
            }
        }
        value = value << 1 | (sum >= int64_t(128) * count ? 1 : 0);
    }
    return value;
}

std::shared_ptr<const CursorShape> alphaCursor() {
    static const auto shape = makeAlphaCursor();
    return shape;
}

std::shared_ptr<const CursorShape> monoCursor() {
    static const auto shape = makeMonoCursor();
    return shape;
}

std::shared_ptr<const CursorShape> colorCursor() {
    static const auto shape = makeColorCursor();
    return shape;
}

} // namespace saffron::testserver
