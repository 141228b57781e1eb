#pragma once

// Builders for the bodies of server-to-client SPICE messages, written from spice.proto and
// <spice/protocol.h>/<spice/enums.h> (layouts as spice-server marshals them: every struct
// packed, little-endian, pointers are u32 offsets from the start of the message body).
// They exist to craft valid *and* broken messages: every size, count and pointer a hostile
// server could lie about can be overridden. Shared by the hostile server tests and the fuzz
// corpus generator.

#include <cstdint>
#include <functional>
#include <optional>
#include <spice/enums.h>
#include <vector>

namespace saffron::hostile {

using Bytes = std::vector<uint8_t>;

// spice.proto Rect: top, left, bottom, right (half-open, int32 each).
struct Rect {
    int32_t top = 0;
    int32_t left = 0;
    int32_t bottom = 0;
    int32_t right = 0;
};
inline Rect rectXYWH(int32_t x, int32_t y, int32_t w, int32_t h) {
    return Rect{y, x, y + h, x + w};
}

// ---------------------------------------------------------------- base and main channel

Bytes setAck(uint32_t generation, uint32_t window);
Bytes ping(uint32_t id, uint64_t timestamp);
// `textLength` overrides the message_len field (the text itself is `text`).
Bytes notify(uint32_t severity, const Bytes& text, std::optional<uint32_t> textLength = std::nullopt);

Bytes mainInit(uint32_t sessionId, bool agentConnected, uint32_t agentTokens, uint32_t mouseModes = 3,
               uint32_t currentMouseMode = 1);
struct ChannelRef {
    uint8_t type = 0;
    uint8_t id = 0;
};
Bytes channelsList(const std::vector<ChannelRef>& channels, std::optional<uint32_t> count = std::nullopt);
Bytes mainName(const Bytes& name, std::optional<uint32_t> length = std::nullopt);
// One VDAgentMessage record (<spice/vd_agent.h>): protocol, type, opaque, size, data. `size`
// defaults to data.size(); the body of an AGENT_DATA message is any slice of such records.
Bytes agentRecord(uint32_t type, const Bytes& data, std::optional<uint32_t> size = std::nullopt,
                  uint32_t protocol = 1);

// ---------------------------------------------------------------- display channel: images

struct PaletteSpec {
    uint64_t unique = 0;
    uint16_t count = 0;         // num_ents as sent
    std::vector<uint32_t> ents; // entries actually present (may be fewer than count)
};

// spice.proto Image: ImageDescriptor followed by the data of its type.
struct ImageSpec {
    uint64_t id = 0;
    uint8_t type = SPICE_IMAGE_TYPE_BITMAP;
    uint8_t flags = 0; // SPICE_IMAGE_FLAGS_*
    uint32_t width = 0;
    uint32_t height = 0;
    // BITMAP
    uint8_t format = SPICE_BITMAP_FMT_32BIT;
    uint8_t bitmapFlags = SPICE_BITMAP_FLAGS_TOP_DOWN;
    std::optional<uint32_t> bitmapWidth;  // BitmapData.x, defaults to width
    std::optional<uint32_t> bitmapHeight; // BitmapData.y, defaults to height
    uint32_t stride = 0;
    uint64_t paletteId = 0;                // with SPICE_BITMAP_FLAGS_PAL_FROM_CACHE
    std::optional<PaletteSpec> palette;    // placed after the pixel data
    std::optional<uint32_t> paletteOffset; // raw palette pointer instead of `palette`
    // BITMAP pixel rows; LZ4/JPEG binary data
    Bytes data;
    std::optional<uint32_t> dataSize; // LZ4/JPEG data_size field, defaults to data.size()
    // SURFACE
    uint32_t surfaceId = 0;
};

// A 32-bit xRGB bitmap image filled with `color`.
ImageSpec solidBitmap(uint32_t width, uint32_t height, uint32_t color, uint64_t id = 0, uint8_t flags = 0);
// A bitmap of given SPICE_BITMAP_FMT_* with rows of zero bytes (tight stride).
ImageSpec zeroBitmap(uint8_t format, uint32_t width, uint32_t height);
ImageSpec fromCache(uint64_t id, uint32_t width = 0, uint32_t height = 0);
ImageSpec surfaceImage(uint32_t surfaceId, uint32_t width, uint32_t height);

// Either an image written into the message (its pointer patched in), or a raw pointer value.
struct ImageRef {
    std::optional<ImageSpec> image;
    uint32_t rawOffset = 0;
    static ImageRef of(ImageSpec s) { return ImageRef{std::move(s), 0}; }
    static ImageRef raw(uint32_t offset) { return ImageRef{std::nullopt, offset}; }
};

// ---------------------------------------------------------------- display channel: drawing

struct Clip {
    bool rects = false; // false: SPICE_CLIP_TYPE_NONE
    std::vector<Rect> list;
    std::optional<uint32_t> count; // num_rects as sent, defaults to list.size()
};
inline Clip clipRects(std::vector<Rect> list) {
    return Clip{true, std::move(list), std::nullopt};
}

struct DrawBase {
    uint32_t surface = 0;
    Rect box;
    Clip clip;
};

struct Brush {
    uint8_t type = SPICE_BRUSH_TYPE_SOLID;
    uint32_t color = 0;
    ImageRef pattern;
    int32_t x = 0;
    int32_t y = 0;
    static Brush solid(uint32_t c) { return Brush{SPICE_BRUSH_TYPE_SOLID, c, {}, 0, 0}; }
};

struct Mask {
    uint8_t flags = 0;
    int32_t x = 0;
    int32_t y = 0;
    ImageRef bitmap; // rawOffset 0 and no image: no mask
};

Bytes surfaceCreate(uint32_t id, uint32_t width, uint32_t height, uint32_t format = SPICE_SURFACE_FMT_32_xRGB,
                    uint32_t flags = SPICE_SURFACE_FLAGS_PRIMARY);
Bytes surfaceDestroy(uint32_t id);

Bytes drawFill(const DrawBase& base, const Brush& brush, uint16_t rop = SPICE_ROPD_OP_PUT,
               const Mask& mask = {});
// DRAW_COPY and DRAW_BLEND share this body.
Bytes drawCopy(const DrawBase& base, const ImageRef& src, Rect srcArea, uint16_t rop = SPICE_ROPD_OP_PUT,
               uint8_t scaleMode = SPICE_IMAGE_SCALE_MODE_NEAREST, const Mask& mask = {});
Bytes drawOpaque(const DrawBase& base, const ImageRef& src, Rect srcArea, const Brush& brush,
                 uint16_t rop = SPICE_ROPD_OP_PUT, const Mask& mask = {});
// DRAW_BLACKNESS, DRAW_WHITENESS and DRAW_INVERS share this body.
Bytes drawMaskOnly(const DrawBase& base, const Mask& mask = {});
Bytes drawRop3(const DrawBase& base, const ImageRef& src, Rect srcArea, const Brush& brush, uint8_t rop3,
               const Mask& mask = {});
Bytes drawTransparent(const DrawBase& base, const ImageRef& src, Rect srcArea, uint32_t transparentColor);
Bytes drawAlphaBlend(const DrawBase& base, const ImageRef& src, Rect srcArea, uint8_t alpha,
                     uint8_t alphaFlags = 0);
Bytes copyBits(const DrawBase& base, int32_t srcX, int32_t srcY);

Bytes invalList(const std::vector<std::pair<uint8_t, uint64_t>>& resources,
                std::optional<uint16_t> count = std::nullopt);
Bytes u64Body(uint64_t v);
Bytes u32Body(uint32_t v);

struct MonitorHeadSpec {
    uint32_t id = 0;
    uint32_t surfaceId = 0;
    uint32_t width = 0, height = 0, x = 0, y = 0;
};
Bytes monitorsConfig(const std::vector<MonitorHeadSpec>& heads, std::optional<uint16_t> count = std::nullopt);

// spice.proto String: raster glyphs (1, 4 or 8 bits per pixel, rows padded to bytes).
struct GlyphSpec {
    int32_t renderX = 0, renderY = 0; // render_pos
    int32_t originX = 0, originY = 0; // glyph_origin
    uint16_t width = 0, height = 0;
    Bytes data; // height rows of (width * bpp + 7) / 8 bytes
};
struct StringSpec {
    std::optional<uint16_t> count; // length as sent, defaults to glyphs.size()
    uint8_t flags = SPICE_STRING_FLAGS_RASTER_A1;
    std::vector<GlyphSpec> glyphs;
};
// spice.proto Path: segments of 28.4 fixed-point points.
struct PathSegmentSpec {
    uint8_t flags = SPICE_PATH_BEGIN | SPICE_PATH_END;
    std::optional<uint32_t> count; // defaults to points.size()
    std::vector<std::pair<int32_t, int32_t>> points;
};
struct PathSpec {
    std::optional<uint32_t> count; // num_segments, defaults to segments.size()
    std::vector<PathSegmentSpec> segments;
};
inline int32_t fix28_4(int32_t pixels) {
    return int32_t(uint32_t(pixels) << 4);
}

// DRAW_TEXT; `rawString` replaces the String pointer (the String is then not written).
Bytes drawText(const DrawBase& base, const StringSpec& str, Rect backArea, const Brush& fore,
               const Brush& back, uint16_t foreMode = SPICE_ROPD_OP_PUT, uint16_t backMode = 0,
               std::optional<uint32_t> rawString = std::nullopt);
// DRAW_STROKE; `rawPath` replaces the Path pointer. STYLED line flags add nseg and a style pointer.
Bytes drawStroke(const DrawBase& base, const PathSpec& path, const Brush& brush,
                 uint16_t foreMode = SPICE_ROPD_OP_PUT, uint8_t lineFlags = 0,
                 std::optional<uint32_t> rawPath = std::nullopt);

// ---------------------------------------------------------------- display channel: streams

Bytes streamCreate(uint32_t surface, uint32_t id, uint8_t flags, uint8_t codec, uint32_t width,
                   uint32_t height, uint32_t srcWidth, uint32_t srcHeight, Rect dest, const Clip& clip = {});
// mmTime: the frame's multimedia time (0, long past once the main channel started the clock).
Bytes streamData(uint32_t id, const Bytes& frame, std::optional<uint32_t> size = std::nullopt,
                 uint32_t mmTime = 0);
Bytes streamDataSized(uint32_t id, uint32_t width, uint32_t height, Rect dest, const Bytes& frame);
Bytes streamClip(uint32_t id, const Clip& clip);

// A baseline JFIF stream of a solid colour (0xRRGGBB), encoded with libjpeg at quality 95.
Bytes encodeSolidJpeg(uint32_t width, uint32_t height, uint32_t rgb);
// The same for any picture: rgbAt(x, y) gives each pixel's 0xRRGGBB.
Bytes encodeJpeg(uint32_t width, uint32_t height,
                 const std::function<uint32_t(uint32_t x, uint32_t y)>& rgbAt);

// ---------------------------------------------------------------- cursor channel

struct CursorSpec {
    uint16_t flags = 0; // SPICE_CURSOR_FLAGS_*
    uint64_t unique = 0;
    uint8_t type = SPICE_CURSOR_TYPE_ALPHA;
    uint16_t width = 0, height = 0, hotX = 0, hotY = 0;
    Bytes data;
};
// An ALPHA cursor filled with one premultiplied ARGB value.
CursorSpec alphaCursor(uint16_t width, uint16_t height, uint32_t argb, uint64_t unique = 1,
                       uint16_t flags = 0);
Bytes cursorInit(int16_t x, int16_t y, bool visible, const CursorSpec& cursor);
Bytes cursorSet(int16_t x, int16_t y, bool visible, const CursorSpec& cursor);
Bytes cursorMove(int16_t x, int16_t y);

// ---------------------------------------------------------------- framing

// A complete message with the 6-byte mini header, or the 18-byte full header when `serial` is set.
Bytes frame(uint16_t type, const Bytes& body, std::optional<uint64_t> serial = std::nullopt);
// A header alone, announcing `size` bytes that may never come.
Bytes header(uint16_t type, uint32_t size, std::optional<uint64_t> serial = std::nullopt);

} // namespace saffron::hostile
