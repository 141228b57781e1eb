#include "SpiceBuilders.h"

#include "wire/Writer.h"

#include <cstdio>
#include <cstdlib>
#include <functional>
#include <jpeglib.h>
#include <memory>
#include <spice/protocol.h>

namespace saffron::hostile {

namespace {

// A message body whose pointed-to parts (images, palettes) are appended after its fixed part,
// the way spice-server's marshaller lays them out, with the pointers patched afterwards.
class Body {
public:
    Writer w;

    void rect(const Rect& r) { w.i32(r.top).i32(r.left).i32(r.bottom).i32(r.right); }
    void point(int32_t x, int32_t y) { w.i32(x).i32(y); }

    void clip(const Clip& c) {
        if (!c.rects) {
            w.u8(SPICE_CLIP_TYPE_NONE);
            return;
        }
        w.u8(SPICE_CLIP_TYPE_RECTS).u32(c.count.value_or(uint32_t(c.list.size())));
        for (const Rect& r : c.list)
            rect(r);
    }
    void base(const DrawBase& b) {
        w.u32(b.surface);
        rect(b.box);
        clip(b.clip);
    }
    // Writes the pointer now, the image later (in finish()).
    void image(const ImageRef& ref) {
        if (ref.image)
            pending_.push_back({w.size(), *ref.image, {}});
        w.u32(ref.image ? 0 : ref.rawOffset);
    }
    // A pointer to `bytes`, appended in finish(); or a raw pointer value.
    void blob(Bytes bytes, std::optional<uint32_t> raw) {
        if (!raw)
            pending_.push_back({w.size(), std::nullopt, std::move(bytes)});
        w.u32(raw.value_or(0));
    }
    void brush(const Brush& b) {
        w.u8(b.type);
        if (b.type == SPICE_BRUSH_TYPE_SOLID) {
            w.u32(b.color);
        } else if (b.type == SPICE_BRUSH_TYPE_PATTERN) {
            image(b.pattern);
            point(b.x, b.y);
        }
    }
    void mask(const Mask& m) {
        w.u8(m.flags);
        point(m.x, m.y);
        image(m.bitmap);
    }
    Bytes finish() {
        for (const auto& p : pending_) {
            w.patchU32(p.at, uint32_t(w.size()));
            if (p.spec)
                writeImage(*p.spec);
            else
                w.bytes(p.raw);
        }
        return w.take();
    }

private:
    void writeImage(const ImageSpec& s) {
        w.u64(s.id).u8(s.type).u8(s.flags).u32(s.width).u32(s.height);
        switch (s.type) {
        case SPICE_IMAGE_TYPE_BITMAP: {
            w.u8(s.format).u8(s.bitmapFlags);
            w.u32(s.bitmapWidth.value_or(s.width)).u32(s.bitmapHeight.value_or(s.height)).u32(s.stride);
            size_t palettePointer = SIZE_MAX;
            if (s.bitmapFlags & SPICE_BITMAP_FLAGS_PAL_FROM_CACHE) {
                w.u64(s.paletteId);
            } else {
                palettePointer = w.size();
                w.u32(s.paletteOffset.value_or(0));
            }
            w.bytes(s.data);
            if (s.palette && !s.paletteOffset && palettePointer != SIZE_MAX) {
                w.patchU32(palettePointer, uint32_t(w.size()));
                w.u64(s.palette->unique).u16(s.palette->count);
                for (uint32_t e : s.palette->ents)
                    w.u32(e);
            }
            break;
        }
        case SPICE_IMAGE_TYPE_LZ4:
        case SPICE_IMAGE_TYPE_JPEG:
            w.u32(s.dataSize.value_or(uint32_t(s.data.size())));
            w.bytes(s.data);
            break;
        case SPICE_IMAGE_TYPE_SURFACE:
            w.u32(s.surfaceId);
            break;
        default:
            w.bytes(s.data); // FROM_CACHE has no data; anything else: whatever the test asks
            break;
        }
    }

    struct Pending {
        size_t at;
        std::optional<ImageSpec> spec;
        Bytes raw;
    };
    std::vector<Pending> pending_;
};

} // namespace

Bytes setAck(uint32_t generation, uint32_t window) {
    return Writer().u32(generation).u32(window).take();
}

Bytes ping(uint32_t id, uint64_t timestamp) {
    return Writer().u32(id).u64(timestamp).take();
}

Bytes notify(uint32_t severity, const Bytes& text, std::optional<uint32_t> textLength) {
    Writer w;
    w.u64(0).u32(severity).u32(0).u32(0).u32(textLength.value_or(uint32_t(text.size()))).bytes(text);
    return w.take();
}

Bytes mainInit(uint32_t sessionId, bool agentConnected, uint32_t agentTokens, uint32_t mouseModes,
               uint32_t currentMouseMode) {
    Writer w;
    w.u32(sessionId)
        .u32(1)
        .u32(mouseModes)
        .u32(currentMouseMode)
        .u32(agentConnected ? 1 : 0)
        .u32(agentTokens);
    w.u32(0).u32(0); // multi_media_time, ram_hint
    return w.take();
}

Bytes channelsList(const std::vector<ChannelRef>& channels, std::optional<uint32_t> count) {
    Writer w;
    w.u32(count.value_or(uint32_t(channels.size())));
    for (const ChannelRef& c : channels)
        w.u8(c.type).u8(c.id);
    return w.take();
}

Bytes mainName(const Bytes& name, std::optional<uint32_t> length) {
    return Writer().u32(length.value_or(uint32_t(name.size()))).bytes(name).take();
}

Bytes agentRecord(uint32_t type, const Bytes& data, std::optional<uint32_t> size, uint32_t protocol) {
    Writer w;
    w.u32(protocol).u32(type).u64(0).u32(size.value_or(uint32_t(data.size()))).bytes(data);
    return w.take();
}

ImageSpec solidBitmap(uint32_t width, uint32_t height, uint32_t color, uint64_t id, uint8_t flags) {
    ImageSpec s;
    s.id = id;
    s.flags = flags;
    s.width = width;
    s.height = height;
    s.format = SPICE_BITMAP_FMT_32BIT;
    s.stride = width * 4;
    Writer px;
    for (uint32_t i = 0; i < width * height; ++i)
        px.u32(color);
    s.data = px.take();
    return s;
}

ImageSpec zeroBitmap(uint8_t format, uint32_t width, uint32_t height) {
    unsigned bpp = 32;
    switch (format) {
    case SPICE_BITMAP_FMT_1BIT_LE:
    case SPICE_BITMAP_FMT_1BIT_BE:
        bpp = 1;
        break;
    case SPICE_BITMAP_FMT_4BIT_LE:
    case SPICE_BITMAP_FMT_4BIT_BE:
        bpp = 4;
        break;
    case SPICE_BITMAP_FMT_8BIT:
    case SPICE_BITMAP_FMT_8BIT_A:
        bpp = 8;
        break;
    case SPICE_BITMAP_FMT_16BIT:
        bpp = 16;
        break;
    case SPICE_BITMAP_FMT_24BIT:
        bpp = 24;
        break;
    default:
        break;
    }
    ImageSpec s;
    s.width = width;
    s.height = height;
    s.format = format;
    s.stride = (width * bpp + 7) / 8;
    s.data.assign(size_t(s.stride) * height, 0);
    return s;
}

ImageSpec fromCache(uint64_t id, uint32_t width, uint32_t height) {
    ImageSpec s;
    s.id = id;
    s.type = SPICE_IMAGE_TYPE_FROM_CACHE;
    s.width = width;
    s.height = height;
    return s;
}

ImageSpec surfaceImage(uint32_t surfaceId, uint32_t width, uint32_t height) {
    ImageSpec s;
    s.type = SPICE_IMAGE_TYPE_SURFACE;
    s.width = width;
    s.height = height;
    s.surfaceId = surfaceId;
    return s;
}

Bytes surfaceCreate(uint32_t id, uint32_t width, uint32_t height, uint32_t format, uint32_t flags) {
    return Writer().u32(id).u32(width).u32(height).u32(format).u32(flags).take();
}

Bytes surfaceDestroy(uint32_t id) {
    return Writer().u32(id).take();
}

Bytes drawFill(const DrawBase& base, const Brush& brush, uint16_t rop, const Mask& mask) {
    Body b;
    b.base(base);
    b.brush(brush);
    b.w.u16(rop);
    b.mask(mask);
    return b.finish();
}

Bytes drawCopy(const DrawBase& base, const ImageRef& src, Rect srcArea, uint16_t rop, uint8_t scaleMode,
               const Mask& mask) {
    Body b;
    b.base(base);
    b.image(src);
    b.rect(srcArea);
    b.w.u16(rop).u8(scaleMode);
    b.mask(mask);
    return b.finish();
}

Bytes drawOpaque(const DrawBase& base, const ImageRef& src, Rect srcArea, const Brush& brush, uint16_t rop,
                 const Mask& mask) {
    Body b;
    b.base(base);
    b.image(src);
    b.rect(srcArea);
    b.brush(brush);
    b.w.u16(rop).u8(SPICE_IMAGE_SCALE_MODE_NEAREST);
    b.mask(mask);
    return b.finish();
}

Bytes drawMaskOnly(const DrawBase& base, const Mask& mask) {
    Body b;
    b.base(base);
    b.mask(mask);
    return b.finish();
}

Bytes drawRop3(const DrawBase& base, const ImageRef& src, Rect srcArea, const Brush& brush, uint8_t rop3,
               const Mask& mask) {
    Body b;
    b.base(base);
    b.image(src);
    b.rect(srcArea);
    b.brush(brush);
    b.w.u8(rop3).u8(SPICE_IMAGE_SCALE_MODE_NEAREST);
    b.mask(mask);
    return b.finish();
}

Bytes drawTransparent(const DrawBase& base, const ImageRef& src, Rect srcArea, uint32_t transparentColor) {
    Body b;
    b.base(base);
    b.image(src);
    b.rect(srcArea);
    b.w.u32(transparentColor).u32(transparentColor);
    return b.finish();
}

Bytes drawAlphaBlend(const DrawBase& base, const ImageRef& src, Rect srcArea, uint8_t alpha,
                     uint8_t alphaFlags) {
    Body b;
    b.base(base);
    b.w.u8(alphaFlags).u8(alpha);
    b.image(src);
    b.rect(srcArea);
    return b.finish();
}

Bytes copyBits(const DrawBase& base, int32_t srcX, int32_t srcY) {
    Body b;
    b.base(base);
    b.point(srcX, srcY);
    return b.finish();
}

Bytes drawText(const DrawBase& base, const StringSpec& str, Rect backArea, const Brush& fore,
               const Brush& back, uint16_t foreMode, uint16_t backMode, std::optional<uint32_t> rawString) {
    Writer s;
    s.u16(str.count.value_or(uint16_t(str.glyphs.size()))).u8(str.flags);
    for (const GlyphSpec& g : str.glyphs) {
        s.i32(g.renderX).i32(g.renderY).i32(g.originX).i32(g.originY).u16(g.width).u16(g.height);
        s.bytes(g.data);
    }
    Body b;
    b.base(base);
    b.blob(s.take(), rawString);
    b.rect(backArea);
    b.brush(fore);
    b.brush(back);
    b.w.u16(foreMode).u16(backMode);
    return b.finish();
}

Bytes drawStroke(const DrawBase& base, const PathSpec& path, const Brush& brush, uint16_t foreMode,
                 uint8_t lineFlags, std::optional<uint32_t> rawPath) {
    Writer p;
    p.u32(path.count.value_or(uint32_t(path.segments.size())));
    for (const PathSegmentSpec& seg : path.segments) {
        p.u8(seg.flags).u32(seg.count.value_or(uint32_t(seg.points.size())));
        for (const auto& [x, y] : seg.points)
            p.i32(x).i32(y);
    }
    Body b;
    b.base(base);
    b.blob(p.take(), rawPath);
    b.w.u8(lineFlags);
    if (lineFlags & SPICE_LINE_FLAGS_STYLED) {
        b.w.u8(2);
        b.blob(Writer().i32(fix28_4(3)).i32(fix28_4(2)).take(), std::nullopt); // dash, gap
    }
    b.brush(brush);
    b.w.u16(foreMode).u16(0);
    return b.finish();
}

Bytes invalList(const std::vector<std::pair<uint8_t, uint64_t>>& resources, std::optional<uint16_t> count) {
    Writer w;
    w.u16(count.value_or(uint16_t(resources.size())));
    for (const auto& [type, id] : resources)
        w.u8(type).u64(id);
    return w.take();
}

Bytes u64Body(uint64_t v) {
    return Writer().u64(v).take();
}
Bytes u32Body(uint32_t v) {
    return Writer().u32(v).take();
}

Bytes monitorsConfig(const std::vector<MonitorHeadSpec>& heads, std::optional<uint16_t> count) {
    Writer w;
    w.u16(count.value_or(uint16_t(heads.size()))).u16(16);
    for (const MonitorHeadSpec& h : heads)
        w.u32(h.id).u32(h.surfaceId).u32(h.width).u32(h.height).u32(h.x).u32(h.y).u32(0);
    return w.take();
}

Bytes streamCreate(uint32_t surface, uint32_t id, uint8_t flags, uint8_t codec, uint32_t width,
                   uint32_t height, uint32_t srcWidth, uint32_t srcHeight, Rect dest, const Clip& clip) {
    Body b;
    b.w.u32(surface).u32(id).u8(flags).u8(codec).u64(0);
    b.w.u32(width).u32(height).u32(srcWidth).u32(srcHeight);
    b.rect(dest);
    b.clip(clip);
    return b.finish();
}

Bytes streamData(uint32_t id, const Bytes& frame, std::optional<uint32_t> size, uint32_t mmTime) {
    Writer w;
    w.u32(id).u32(mmTime).u32(size.value_or(uint32_t(frame.size()))).bytes(frame);
    return w.take();
}

Bytes streamDataSized(uint32_t id, uint32_t width, uint32_t height, Rect dest, const Bytes& frame) {
    Body b;
    b.w.u32(id).u32(0).u32(width).u32(height);
    b.rect(dest);
    b.w.u32(uint32_t(frame.size())).bytes(frame);
    return b.finish();
}

Bytes streamClip(uint32_t id, const Clip& clip) {
    Body b;
    b.w.u32(id);
    b.clip(clip);
    return b.finish();
}

Bytes encodeJpeg(uint32_t width, uint32_t height, const std::function<uint32_t(uint32_t, uint32_t)>& rgbAt) {
    jpeg_compress_struct cinfo{};
    jpeg_error_mgr jerr{};
    cinfo.err = jpeg_std_error(&jerr);
    // Only ever called with valid parameters; an error here is a bug in the test itself.
    jerr.error_exit = [](j_common_ptr) { std::abort(); };
    jpeg_create_compress(&cinfo);
    std::unique_ptr<jpeg_compress_struct, void (*)(jpeg_compress_struct*)> guard(&cinfo,
                                                                                 jpeg_destroy_compress);
    unsigned char* out = nullptr;
    unsigned long outSize = 0;
    jpeg_mem_dest(&cinfo, &out, &outSize);
    cinfo.image_width = width;
    cinfo.image_height = height;
    cinfo.input_components = 3;
    cinfo.in_color_space = JCS_RGB;
    jpeg_set_defaults(&cinfo);
    jpeg_set_quality(&cinfo, 95, TRUE);
    jpeg_start_compress(&cinfo, TRUE);
    std::vector<uint8_t> row(size_t(width) * 3);
    while (cinfo.next_scanline < cinfo.image_height) {
        for (uint32_t x = 0; x < width; ++x) {
            const uint32_t rgb = rgbAt(x, cinfo.next_scanline);
            row[x * 3] = uint8_t(rgb >> 16);
            row[x * 3 + 1] = uint8_t(rgb >> 8);
            row[x * 3 + 2] = uint8_t(rgb);
        }
        JSAMPROW p = row.data();
        jpeg_write_scanlines(&cinfo, &p, 1);
    }
    jpeg_finish_compress(&cinfo);
    // jpeg_mem_dest allocated the buffer with malloc.
    const std::unique_ptr<unsigned char, void (*)(void*)> owned(out, std::free);
    return Bytes(owned.get(), owned.get() + outSize);
}

Bytes encodeSolidJpeg(uint32_t width, uint32_t height, uint32_t rgb) {
    return encodeJpeg(width, height, [rgb](uint32_t, uint32_t) { return rgb; });
}

CursorSpec alphaCursor(uint16_t width, uint16_t height, uint32_t argb, uint64_t unique, uint16_t flags) {
    CursorSpec c;
    c.flags = flags;
    c.unique = unique;
    c.type = SPICE_CURSOR_TYPE_ALPHA;
    c.width = width;
    c.height = height;
    Writer px;
    for (uint32_t i = 0; i < uint32_t(width) * height; ++i)
        px.u32(argb);
    c.data = px.take();
    return c;
}

namespace {
void writeCursor(Writer& w, const CursorSpec& c) {
    w.u16(c.flags);
    if (c.flags & SPICE_CURSOR_FLAGS_NONE)
        return;
    w.u64(c.unique).u8(c.type).u16(c.width).u16(c.height).u16(c.hotX).u16(c.hotY);
    w.bytes(c.data);
}
} // namespace

Bytes cursorInit(int16_t x, int16_t y, bool visible, const CursorSpec& cursor) {
    Writer w;
    w.u16(uint16_t(x)).u16(uint16_t(y)).u16(0).u16(0).u8(visible ? 1 : 0);
    writeCursor(w, cursor);
    return w.take();
}

Bytes cursorSet(int16_t x, int16_t y, bool visible, const CursorSpec& cursor) {
    Writer w;
    w.u16(uint16_t(x)).u16(uint16_t(y)).u8(visible ? 1 : 0);
    writeCursor(w, cursor);
    return w.take();
}

Bytes cursorMove(int16_t x, int16_t y) {
    return Writer().u16(uint16_t(x)).u16(uint16_t(y)).take();
}

Bytes header(uint16_t type, uint32_t size, std::optional<uint64_t> serial) {
    Writer w;
    if (serial)
        w.u64(*serial);
    w.u16(type).u32(size);
    if (serial)
        w.u32(0); // sub_list
    return w.take();
}

Bytes frame(uint16_t type, const Bytes& body, std::optional<uint64_t> serial) {
    Bytes out = header(type, uint32_t(body.size()), serial);
    out.insert(out.end(), body.begin(), body.end());
    return out;
}

} // namespace saffron::hostile
