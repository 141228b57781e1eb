// Writes the seed corpora of the session fuzzers: valid messages of every kind the fuzzers
// reach, built with the hostile tests' builders (tests/hostile/SpiceBuilders.h), plus a few
// classic edge cases. Run from a SAFFRON_FUZZ build:
//   fuzz_session_make_corpus tests/fuzz-session/corpus
#include "SessionFuzzing.h"
#include "SpiceBuilders.h"
#include "wire/Writer.h"

#include <filesystem>
#include <fstream>
#include <iostream>
#include <lz4.h>
#include <memory>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <spice/protocol.h>
#include <spice/vd_agent.h>
#include <string>

using namespace saffron;
using namespace saffron::hostile;
namespace fs = std::filesystem;

namespace {

fs::path root;

void write(const std::string& fuzzer, const std::string& name, const Bytes& bytes) {
    const fs::path dir = root / fuzzer;
    fs::create_directories(dir);
    std::ofstream(dir / name, std::ios::binary)
        .write(reinterpret_cast<const char*>(bytes.data()), long(bytes.size()));
}

// A sequence of messages in the SessionFuzzing.h record format.
class Records {
public:
    explicit Records(std::vector<uint16_t> types) : types_(std::move(types)) {}
    Records& add(uint16_t type, const Bytes& body = {}) {
        fuzz::appendRecord(out_, types_, type, body);
        return *this;
    }
    const Bytes& bytes() const { return out_; }

private:
    std::vector<uint16_t> types_;
    Bytes out_;
};

DrawBase on(uint32_t surface, Rect box, Clip clip = {}) {
    return DrawBase{surface, box, std::move(clip)};
}

// An LZ4 image as spice-server's lz4-encoder.c writes it: top_down, format, then big-endian
// sized blocks; `bytesPerPixel` of `color` (little-endian) per pixel, rows packed.
ImageSpec lz4Image(uint32_t w, uint32_t h, uint32_t color, uint8_t format = SPICE_BITMAP_FMT_32BIT,
                   unsigned bytesPerPixel = 4) {
    Bytes rows;
    for (uint32_t i = 0; i < w * h; ++i)
        for (unsigned b = 0; b < bytesPerPixel; ++b)
            rows.push_back(uint8_t(color >> (8 * b)));
    std::vector<char> block(size_t(LZ4_compressBound(int(rows.size()))));
    const int n = LZ4_compress_default(reinterpret_cast<const char*>(rows.data()), block.data(),
                                       int(rows.size()), int(block.size()));
    ImageSpec s;
    s.type = SPICE_IMAGE_TYPE_LZ4;
    s.width = w;
    s.height = h;
    s.data = {1, format, uint8_t(n >> 24), uint8_t(n >> 16), uint8_t(n >> 8), uint8_t(n)};
    s.data.insert(s.data.end(), block.begin(), block.begin() + n);
    return s;
}

ImageSpec jpegImage(uint32_t w, uint32_t h, uint32_t rgb) {
    ImageSpec s;
    s.type = SPICE_IMAGE_TYPE_JPEG;
    s.width = w;
    s.height = h;
    s.data = encodeSolidJpeg(w, h, rgb);
    return s;
}

ImageSpec indexed(uint8_t format, uint32_t w, uint32_t h, uint8_t fillByte) {
    ImageSpec s = zeroBitmap(format, w, h);
    std::fill(s.data.begin(), s.data.end(), fillByte);
    return s;
}

void linkSeeds() {
    std::unique_ptr<EVP_PKEY, void (*)(EVP_PKEY*)> key(EVP_RSA_gen(1024), EVP_PKEY_free);
    Bytes der(size_t(i2d_PUBKEY(key.get(), nullptr)));
    unsigned char* p = der.data();
    i2d_PUBKEY(key.get(), &p);
    auto reply = [&](uint32_t error, std::vector<uint32_t> common, std::vector<uint32_t> channel) {
        Writer body;
        body.u32(error).bytes(der).u32(uint32_t(common.size())).u32(uint32_t(channel.size())).u32(178);
        for (uint32_t c : common)
            body.u32(c);
        for (uint32_t c : channel)
            body.u32(c);
        Writer all;
        all.u32(SPICE_MAGIC).u32(SPICE_VERSION_MAJOR).u32(SPICE_VERSION_MINOR).u32(uint32_t(body.size()));
        all.bytes(body.data());
        return all.take();
    };
    write("fuzz_link_reply", "ok_mini_auth", reply(SPICE_LINK_ERR_OK, {0xb}, {0x1ff}));
    write("fuzz_link_reply", "ok_no_caps", reply(SPICE_LINK_ERR_OK, {}, {}));
    write("fuzz_link_reply", "ok_many_caps", reply(SPICE_LINK_ERR_OK, {0xb, 0, 0}, {1, 2, 3, 4}));
    write("fuzz_link_reply", "permission_denied", reply(SPICE_LINK_ERR_PERMISSION_DENIED, {}, {}));
}

void framerSeeds() {
    auto stream = [](uint8_t flags, bool mini, int count, size_t bodySize) {
        Bytes s{flags, 0x2a, 0x17, 0x99, 0x03};
        for (int i = 0; i < count; ++i) {
            const Bytes f = frame(uint16_t(300 + i), Bytes(bodySize + size_t(i), uint8_t(i)),
                                  mini ? std::nullopt : std::optional<uint64_t>(i + 1));
            s.insert(s.end(), f.begin(), f.end());
        }
        return s;
    };
    write("fuzz_message_framer", "mini_three", stream(1, true, 3, 10));
    write("fuzz_message_framer", "full_three_x4", stream(0 | (3 << 1), false, 3, 10));
    // 20 messages of ~100 bytes, 32 copies: about 70 KiB, past the compaction threshold.
    write("fuzz_message_framer", "mini_many_x32", stream(1 | (31 << 1), true, 20, 100));
    Bytes big = stream(1, true, 2, 4);
    const Bytes h = header(304, (128u << 20) + 1);
    big.insert(big.end(), h.begin(), h.end());
    write("fuzz_message_framer", "mini_too_large", big);
    Bytes empty = stream(1, true, 0, 0);
    const Bytes e = frame(101, {});
    for (int i = 0; i < 8; ++i)
        empty.insert(empty.end(), e.begin(), e.end());
    write("fuzz_message_framer", "mini_empty_bodies", empty);
}

void displaySeeds() {
    const std::string f = "fuzz_display_messages";
    const auto types = fuzz::displayTypes();
    const Rect box8 = rectXYWH(4, 4, 8, 8);
    const Rect src8 = rectXYWH(0, 0, 8, 8);

    write(
        f, "surface_create",
        Records(types)
            .add(SPICE_MSG_DISPLAY_SURFACE_CREATE, surfaceCreate(2, 16, 16, SPICE_SURFACE_FMT_16_565, 0))
            .add(SPICE_MSG_DISPLAY_DRAW_FILL, drawFill(on(2, rectXYWH(0, 0, 16, 16)), Brush::solid(0x808080)))
            .add(SPICE_MSG_DISPLAY_SURFACE_DESTROY, surfaceDestroy(2))
            .add(SPICE_MSG_DISPLAY_SURFACE_CREATE, surfaceCreate(0, 32, 32))
            .bytes());
    write(f, "draw_copy_bitmap",
          Records(types)
              .add(SPICE_MSG_DISPLAY_DRAW_COPY,
                   drawCopy(on(0, box8), ImageRef::of(solidBitmap(8, 8, 0xff0000)), src8))
              .add(SPICE_MSG_DISPLAY_MARK)
              .bytes());
    write(f, "draw_copy_cache",
          Records(types)
              .add(SPICE_MSG_DISPLAY_DRAW_COPY,
                   drawCopy(on(0, box8),
                            ImageRef::of(solidBitmap(8, 8, 0x00ff00, 5, SPICE_IMAGE_FLAGS_CACHE_ME)), src8))
              .add(SPICE_MSG_DISPLAY_DRAW_COPY,
                   drawCopy(on(0, rectXYWH(20, 20, 8, 8)), ImageRef::of(fromCache(5)), src8))
              .add(SPICE_MSG_DISPLAY_INVAL_LIST, invalList({{SPICE_RES_TYPE_PIXMAP, 5}}))
              .add(SPICE_MSG_DISPLAY_INVAL_ALL_PIXMAPS)
              .bytes());
    {
        ImageSpec p8 = indexed(SPICE_BITMAP_FMT_8BIT, 8, 8, 1);
        p8.bitmapFlags |= SPICE_BITMAP_FLAGS_PAL_CACHE_ME;
        p8.palette = PaletteSpec{9, 4, {0, 0xff0000, 0x00ff00, 0x0000ff}};
        ImageSpec p4 = indexed(SPICE_BITMAP_FMT_4BIT_LE, 8, 8, 0x21);
        p4.bitmapFlags |= SPICE_BITMAP_FLAGS_PAL_FROM_CACHE;
        p4.paletteId = 9;
        ImageSpec p1 = indexed(SPICE_BITMAP_FMT_1BIT_BE, 8, 8, 0x5a);
        p1.palette = PaletteSpec{10, 2, {0, 0xffffff}};
        ImageSpec a8 = indexed(SPICE_BITMAP_FMT_8BIT_A, 8, 8, 0x80);
        ImageSpec b24 = indexed(SPICE_BITMAP_FMT_24BIT, 8, 8, 0x40);
        b24.bitmapFlags = 0; // bottom-up
        ImageSpec b16 = indexed(SPICE_BITMAP_FMT_16BIT, 8, 8, 0x3c);
        ImageSpec p4be = indexed(SPICE_BITMAP_FMT_4BIT_BE, 8, 8, 0x12);
        p4be.palette = PaletteSpec{11, 3, {0x111111, 0x222222, 0x333333}};
        ImageSpec p1le = indexed(SPICE_BITMAP_FMT_1BIT_LE, 8, 8, 0x0f);
        p1le.palette = PaletteSpec{12, 2, {0xff00ff, 0x00ffff}};
        ImageSpec rgba = indexed(SPICE_BITMAP_FMT_RGBA, 8, 8, 0x40);
        write(f, "draw_copy_palettes",
              Records(types)
                  .add(SPICE_MSG_DISPLAY_DRAW_COPY, drawCopy(on(0, box8), ImageRef::of(p8), src8))
                  .add(SPICE_MSG_DISPLAY_DRAW_COPY, drawCopy(on(0, box8), ImageRef::of(p4), src8))
                  .add(SPICE_MSG_DISPLAY_DRAW_COPY, drawCopy(on(0, box8), ImageRef::of(p1), src8))
                  .add(SPICE_MSG_DISPLAY_DRAW_COPY, drawCopy(on(1, box8), ImageRef::of(a8), src8))
                  .add(SPICE_MSG_DISPLAY_DRAW_COPY, drawCopy(on(0, box8), ImageRef::of(b24), src8))
                  .add(SPICE_MSG_DISPLAY_DRAW_COPY, drawCopy(on(0, box8), ImageRef::of(b16), src8))
                  .add(SPICE_MSG_DISPLAY_DRAW_COPY, drawCopy(on(0, box8), ImageRef::of(p4be), src8))
                  .add(SPICE_MSG_DISPLAY_DRAW_COPY, drawCopy(on(0, box8), ImageRef::of(p1le), src8))
                  .add(SPICE_MSG_DISPLAY_DRAW_COPY, drawCopy(on(1, box8), ImageRef::of(rgba), src8))
                  .add(SPICE_MSG_DISPLAY_INVAL_PALETTE, u64Body(9))
                  .add(SPICE_MSG_DISPLAY_INVAL_ALL_PALETTES)
                  .bytes());
    }
    write(
        f, "draw_copy_lz4",
        Records(types)
            .add(SPICE_MSG_DISPLAY_DRAW_COPY,
                 drawCopy(on(0, box8), ImageRef::of(lz4Image(8, 8, 0x123456)), src8))
            .add(SPICE_MSG_DISPLAY_DRAW_COPY,
                 drawCopy(on(0, box8), ImageRef::of(lz4Image(8, 8, 0x7c1f, SPICE_BITMAP_FMT_16BIT, 2)), src8))
            .add(SPICE_MSG_DISPLAY_DRAW_COPY,
                 drawCopy(on(0, box8), ImageRef::of(lz4Image(8, 8, 0x102030, SPICE_BITMAP_FMT_24BIT, 3)),
                          src8))
            .add(SPICE_MSG_DISPLAY_DRAW_COPY,
                 drawCopy(on(1, box8), ImageRef::of(lz4Image(8, 8, 0x80404040, SPICE_BITMAP_FMT_RGBA, 4)),
                          src8))
            .bytes());
    write(f, "draw_copy_jpeg",
          Records(types)
              .add(SPICE_MSG_DISPLAY_DRAW_COPY,
                   drawCopy(on(0, box8), ImageRef::of(jpegImage(8, 8, 0x3366cc)), src8))
              .bytes());
    {
        Brush pattern;
        pattern.type = SPICE_BRUSH_TYPE_PATTERN;
        pattern.pattern = ImageRef::of(solidBitmap(4, 4, 0x808000));
        pattern.x = 2;
        pattern.y = -3;
        Mask mask;
        mask.flags = SPICE_MASK_FLAGS_INVERS;
        mask.x = 1;
        mask.bitmap = ImageRef::of(indexed(SPICE_BITMAP_FMT_1BIT_LE, 8, 8, 0xf0));
        mask.bitmap.image->palette = PaletteSpec{0, 2, {0, 0xffffff}};
        write(f, "draw_fill_pattern_mask",
              Records(types)
                  .add(SPICE_MSG_DISPLAY_DRAW_FILL, drawFill(on(0, box8), pattern, SPICE_ROPD_OP_XOR, mask))
                  .add(SPICE_MSG_DISPLAY_DRAW_OPAQUE,
                       drawOpaque(on(0, box8), ImageRef::of(solidBitmap(8, 8, 0x0000ff)), src8, pattern,
                                  SPICE_ROPD_OP_AND | SPICE_ROPD_INVERS_SRC, mask))
                  .add(SPICE_MSG_DISPLAY_DRAW_ROP3,
                       drawRop3(on(0, box8), ImageRef::of(solidBitmap(8, 8, 0x00ffff)), src8,
                                Brush::solid(0xf0f0f0), 0xca, mask))
                  .bytes());
    }
    write(f, "draw_other_kinds",
          Records(types)
              .add(SPICE_MSG_DISPLAY_DRAW_BLEND,
                   drawCopy(on(0, box8), ImageRef::of(solidBitmap(8, 8, 0x445566)), src8, SPICE_ROPD_OP_OR))
              .add(SPICE_MSG_DISPLAY_DRAW_TRANSPARENT,
                   drawTransparent(on(0, box8), ImageRef::of(solidBitmap(8, 8, 0x010203)), src8, 0x010203))
              .add(SPICE_MSG_DISPLAY_DRAW_ALPHA_BLEND,
                   drawAlphaBlend(on(0, box8), ImageRef::of(surfaceImage(1, 32, 32)), rectXYWH(0, 0, 16, 16),
                                  0x80, SPICE_ALPHA_FLAGS_SRC_SURFACE_HAS_ALPHA))
              .add(SPICE_MSG_DISPLAY_DRAW_BLACKNESS,
                   drawMaskOnly(on(0, box8, clipRects({rectXYWH(0, 0, 6, 6), rectXYWH(8, 8, 10, 10)}))))
              .add(SPICE_MSG_DISPLAY_DRAW_WHITENESS, drawMaskOnly(on(0, rectXYWH(-4, -4, 8, 8))))
              .add(SPICE_MSG_DISPLAY_DRAW_INVERS, drawMaskOnly(on(0, rectXYWH(60, 60, 8, 8))))
              .add(SPICE_MSG_DISPLAY_COPY_BITS, copyBits(on(0, rectXYWH(10, 10, 20, 20)), 5, 5))
              .bytes());
    write(f, "draw_copy_self_scaled",
          Records(types)
              .add(SPICE_MSG_DISPLAY_DRAW_COPY,
                   drawCopy(on(0, rectXYWH(0, 0, 64, 64)), ImageRef::of(surfaceImage(0, 64, 64)),
                            rectXYWH(8, 8, 16, 16), SPICE_ROPD_OP_PUT, SPICE_IMAGE_SCALE_MODE_INTERPOLATE))
              .add(SPICE_MSG_DISPLAY_DRAW_COPY,
                   drawCopy(on(1, rectXYWH(0, 0, 32, 32)), ImageRef::of(solidBitmap(3, 5, 0xabcdef)),
                            rectXYWH(0, 0, 3, 5)))
              .bytes());
    {
        auto glyph = [](int x, int y, uint16_t w, uint16_t h, unsigned bpp) {
            GlyphSpec g;
            g.renderX = x;
            g.renderY = y;
            g.originX = 1;
            g.originY = -1;
            g.width = w;
            g.height = h;
            for (size_t i = 0; i < size_t(h) * ((w * bpp + 7) / 8); ++i)
                g.data.push_back(uint8_t(0x5a + i * 29));
            return g;
        };
        Brush back = Brush::solid(0x202020);
        auto seg = [](uint8_t flags, std::vector<std::pair<int32_t, int32_t>> pixels) {
            PathSegmentSpec s{flags, std::nullopt, {}};
            for (auto [x, y] : pixels)
                s.points.emplace_back(fix28_4(x), fix28_4(y));
            return s;
        };
        write(
            f, "draw_text_stroke",
            Records(types)
                .add(SPICE_MSG_DISPLAY_DRAW_TEXT,
                     drawText(on(0, rectXYWH(0, 0, 40, 20)),
                              StringSpec{std::nullopt,
                                         SPICE_STRING_FLAGS_RASTER_A1,
                                         {glyph(2, 10, 8, 8, 1), glyph(12, 10, 5, 7, 1)}},
                              rectXYWH(0, 0, 40, 20), Brush::solid(0xffffff), back, SPICE_ROPD_OP_PUT,
                              SPICE_ROPD_OP_PUT))
                .add(SPICE_MSG_DISPLAY_DRAW_TEXT,
                     drawText(on(0, rectXYWH(0, 20, 40, 20), clipRects({rectXYWH(0, 20, 30, 10)})),
                              StringSpec{std::nullopt, SPICE_STRING_FLAGS_RASTER_A4, {glyph(4, 30, 6, 6, 4)}},
                              Rect{}, Brush::solid(0x00ff00), Brush{SPICE_BRUSH_TYPE_NONE, 0, {}, 0, 0}))
                .add(SPICE_MSG_DISPLAY_DRAW_TEXT,
                     drawText(on(1, rectXYWH(0, 0, 32, 32)),
                              StringSpec{std::nullopt,
                                         SPICE_STRING_FLAGS_RASTER_A8 | SPICE_STRING_FLAGS_RASTER_TOP_DOWN,
                                         {glyph(3, 3, 4, 4, 8)}},
                              Rect{}, Brush::solid(0x0000ff), Brush{SPICE_BRUSH_TYPE_NONE, 0, {}, 0, 0},
                              SPICE_ROPD_OP_XOR))
                .add(SPICE_MSG_DISPLAY_DRAW_STROKE,
                     drawStroke(on(0, rectXYWH(0, 0, 64, 64)),
                                PathSpec{std::nullopt,
                                         {seg(SPICE_PATH_BEGIN, {{2, 2}, {30, 2}}), seg(0, {{30, 30}}),
                                          seg(SPICE_PATH_END | SPICE_PATH_CLOSE, {{2, 30}})}},
                                Brush::solid(0xff00ff)))
                .add(SPICE_MSG_DISPLAY_DRAW_STROKE,
                     drawStroke(on(0, rectXYWH(0, 0, 64, 64)),
                                PathSpec{std::nullopt,
                                         {seg(SPICE_PATH_BEGIN | SPICE_PATH_BEZIER | SPICE_PATH_END,
                                              {{5, 60}, {20, 30}, {40, 70}, {60, 40}})}},
                                Brush::solid(0xffff00), SPICE_ROPD_OP_XOR, SPICE_LINE_FLAGS_STYLED))
                .bytes());
    }
    write(f, "stream",
          Records(types)
              .add(SPICE_MSG_DISPLAY_STREAM_DATA, streamData(1, encodeSolidJpeg(16, 16, 0xff8800)))
              .add(SPICE_MSG_DISPLAY_STREAM_CLIP, streamClip(1, clipRects({rectXYWH(0, 0, 8, 8)})))
              .add(SPICE_MSG_DISPLAY_STREAM_DATA_SIZED,
                   streamDataSized(1, 8, 8, rectXYWH(20, 20, 8, 8), encodeSolidJpeg(8, 8, 0x0088ff)))
              .add(SPICE_MSG_DISPLAY_STREAM_CREATE,
                   streamCreate(1, 2, 0, SPICE_VIDEO_CODEC_TYPE_MJPEG, 8, 8, 8, 8, rectXYWH(0, 0, 8, 8)))
              .add(SPICE_MSG_DISPLAY_STREAM_DATA, streamData(2, encodeSolidJpeg(8, 8, 0x00ff00)))
              .add(SPICE_MSG_DISPLAY_STREAM_DESTROY, u32Body(1))
              .add(SPICE_MSG_DISPLAY_STREAM_DESTROY_ALL)
              .bytes());
    write(f, "lists_and_base",
          Records(types)
              .add(SPICE_MSG_SET_ACK, setAck(1, 10))
              .add(SPICE_MSG_PING, ping(1, 99))
              .add(SPICE_MSG_NOTIFY, notify(SPICE_NOTIFY_SEVERITY_WARN, {'h', 'i'}))
              .add(SPICE_MSG_DISPLAY_MONITORS_CONFIG,
                   monitorsConfig({{0, 0, 64, 64, 0, 0}, {1, 1, 32, 32, 64, 0}}))
              .add(SPICE_MSG_DISPLAY_RESET)
              .add(SPICE_MSG_DISPLAY_MARK)
              .bytes());
}

void mainSeeds() {
    const std::string f = "fuzz_main_messages";
    const auto types = fuzz::mainTypes();
    Writer uuid;
    for (int i = 0; i < 16; ++i)
        uuid.u8(uint8_t(i));
    write(f, "init_list",
          Records(types)
              .add(SPICE_MSG_MAIN_INIT, mainInit(1, false, 0))
              .add(SPICE_MSG_MAIN_CHANNELS_LIST,
                   channelsList({{SPICE_CHANNEL_DISPLAY, 0}, {SPICE_CHANNEL_INPUTS, 0}}))
              .add(SPICE_MSG_MAIN_MOUSE_MODE, Writer().u16(3).u16(2).take())
              .add(SPICE_MSG_MAIN_MULTI_MEDIA_TIME, u32Body(1234))
              .add(SPICE_MSG_MAIN_NAME, mainName({'v', 'm', 0}))
              .add(SPICE_MSG_MAIN_UUID, uuid.take())
              .bytes());
    // Agent: capabilities with clipboard selection and by-demand, then every clipboard message.
    Writer caps;
    caps.u32(1).u32((1u << VD_AGENT_CAP_CLIPBOARD_BY_DEMAND) | (1u << VD_AGENT_CAP_CLIPBOARD_SELECTION) |
                    (1u << VD_AGENT_CAP_MONITORS_CONFIG));
    const Bytes sel{VD_AGENT_CLIPBOARD_SELECTION_CLIPBOARD, 0, 0, 0};
    auto withSel = [&](Bytes rest) {
        Bytes b = sel;
        b.insert(b.end(), rest.begin(), rest.end());
        return b;
    };
    Records agent(types);
    agent.add(SPICE_MSG_MAIN_INIT, mainInit(1, true, 10))
        .add(SPICE_MSG_MAIN_AGENT_DATA, agentRecord(VD_AGENT_ANNOUNCE_CAPABILITIES, caps.take()))
        .add(SPICE_MSG_MAIN_AGENT_DATA,
             agentRecord(VD_AGENT_CLIPBOARD_GRAB, withSel(u32Body(VD_AGENT_CLIPBOARD_UTF8_TEXT))))
        .add(SPICE_MSG_MAIN_AGENT_DATA,
             agentRecord(VD_AGENT_CLIPBOARD_REQUEST, withSel(u32Body(VD_AGENT_CLIPBOARD_UTF8_TEXT))))
        .add(SPICE_MSG_MAIN_AGENT_DATA,
             agentRecord(VD_AGENT_CLIPBOARD,
                         withSel(Writer().u32(VD_AGENT_CLIPBOARD_UTF8_TEXT).u8('o').u8('k').take())))
        .add(SPICE_MSG_MAIN_AGENT_DATA, agentRecord(VD_AGENT_CLIPBOARD_RELEASE, sel))
        .add(SPICE_MSG_MAIN_AGENT_DATA,
             agentRecord(VD_AGENT_REPLY, Writer().u32(VD_AGENT_MONITORS_CONFIG).u32(1).take()))
        .add(SPICE_MSG_MAIN_AGENT_TOKEN, u32Body(5))
        .add(SPICE_MSG_MAIN_AGENT_DISCONNECTED)
        .add(SPICE_MSG_MAIN_AGENT_CONNECTED_TOKENS, u32Body(3));
    write(f, "agent_clipboard", agent.bytes());
    const Bytes record =
        agentRecord(VD_AGENT_CLIPBOARD, Writer().u32(VD_AGENT_CLIPBOARD_UTF8_TEXT).u8('x').take());
    write(f, "agent_split",
          Records(types)
              .add(SPICE_MSG_MAIN_AGENT_CONNECTED)
              .add(SPICE_MSG_MAIN_AGENT_DATA, Bytes(record.begin(), record.begin() + 9))
              .add(SPICE_MSG_MAIN_AGENT_DATA, Bytes(record.begin() + 9, record.end()))
              .bytes());
}

void cursorSeeds() {
    const std::string f = "fuzz_cursor_messages";
    const auto types = fuzz::cursorTypes();
    CursorSpec fromCache;
    fromCache.flags = SPICE_CURSOR_FLAGS_FROM_CACHE;
    fromCache.unique = 7;
    write(f, "alpha_cache",
          Records(types)
              .add(SPICE_MSG_CURSOR_INIT,
                   cursorInit(5, 5, true, alphaCursor(8, 8, 0x80ff0000, 7, SPICE_CURSOR_FLAGS_CACHE_ME)))
              .add(SPICE_MSG_CURSOR_SET, cursorSet(6, 6, true, fromCache))
              .add(SPICE_MSG_CURSOR_MOVE, cursorMove(-3, 40))
              .add(SPICE_MSG_CURSOR_HIDE)
              .add(SPICE_MSG_CURSOR_INVAL_ONE, u64Body(7))
              .bytes());
    auto shaped = [](uint8_t type, uint16_t w, uint16_t h, size_t bytes) {
        CursorSpec c;
        c.type = type;
        c.width = w;
        c.height = h;
        c.hotX = 1;
        c.hotY = 2;
        c.unique = type;
        for (size_t i = 0; i < bytes; ++i)
            c.data.push_back(uint8_t(i * 37));
        return c;
    };
    // Sizes as CursorShape.cpp reads them: colour rows, a 16-entry palette for COLOR4, masks.
    write(f, "mono",
          Records(types)
              .add(SPICE_MSG_CURSOR_SET, cursorSet(0, 0, true, shaped(SPICE_CURSOR_TYPE_MONO, 16, 16, 64)))
              .bytes());
    write(f, "color_kinds",
          Records(types)
              .add(SPICE_MSG_CURSOR_SET,
                   cursorSet(0, 0, true, shaped(SPICE_CURSOR_TYPE_COLOR4, 16, 16, 128 + 64 + 32)))
              .add(SPICE_MSG_CURSOR_SET,
                   cursorSet(0, 0, true, shaped(SPICE_CURSOR_TYPE_COLOR16, 16, 16, 512 + 32)))
              .add(SPICE_MSG_CURSOR_SET,
                   cursorSet(0, 0, true, shaped(SPICE_CURSOR_TYPE_COLOR24, 16, 16, 768 + 32)))
              .add(SPICE_MSG_CURSOR_SET,
                   cursorSet(0, 0, true, shaped(SPICE_CURSOR_TYPE_COLOR32, 16, 16, 1024 + 32)))
              .bytes());
    CursorSpec none;
    none.flags = SPICE_CURSOR_FLAGS_NONE;
    write(f, "reset_trail",
          Records(types)
              .add(SPICE_MSG_CURSOR_INIT, cursorInit(0, 0, false, none))
              .add(SPICE_MSG_CURSOR_TRAIL, Writer().u16(4).u16(2).take())
              .add(SPICE_MSG_CURSOR_INVAL_ALL)
              .add(SPICE_MSG_CURSOR_RESET)
              .bytes());
}

void agentSeeds() {
    const std::string f = "fuzz_agent_messages";
    auto chunked = [](uint8_t flags, const std::vector<Bytes>& records, size_t chunk) {
        Bytes all;
        for (const Bytes& r : records)
            all.insert(all.end(), r.begin(), r.end());
        Bytes out{flags};
        for (size_t at = 0; at < all.size(); at += chunk) {
            const size_t n = std::min(chunk, all.size() - at);
            out.push_back(uint8_t(n));
            out.insert(out.end(), all.begin() + long(at), all.begin() + long(at + n));
        }
        return out;
    };
    const Bytes sel{0, 0, 0, 0};
    Bytes clip = sel;
    const Bytes text = Writer().u32(VD_AGENT_CLIPBOARD_UTF8_TEXT).u8('h').u8('i').take();
    clip.insert(clip.end(), text.begin(), text.end());
    write(f, "clipboard_with_selection", chunked(1, {agentRecord(VD_AGENT_CLIPBOARD, clip)}, 7));
    write(f, "grab_request",
          chunked(0,
                  {agentRecord(VD_AGENT_CLIPBOARD_GRAB, Writer().u32(1).u32(2).u32(3).take()),
                   agentRecord(VD_AGENT_CLIPBOARD_REQUEST, u32Body(1)),
                   agentRecord(VD_AGENT_CLIPBOARD_RELEASE, {})},
                  40));
    write(f, "bad_protocol", chunked(0, {agentRecord(VD_AGENT_CLIPBOARD, text, std::nullopt, 2)}, 255));
}

} // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::cerr << "usage: " << argv[0] << " <tests/fuzz-session/corpus>\n";
        return 2;
    }
    root = argv[1];
    linkSeeds();
    framerSeeds();
    displaySeeds();
    mainSeeds();
    cursorSeeds();
    agentSeeds();
    return 0;
}
