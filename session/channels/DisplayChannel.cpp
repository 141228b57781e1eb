#include "channels/DisplayChannel.h"

#include "Log.h"
#include "codecs/JpegDecoder.h"
#include "display/Canvas.h"
#include "wire/Writer.h"

#include <QElapsedTimer>
#include <spice/enums.h>
#include <spice/protocol.h>

namespace saffron {

namespace {
// Hostile servers could ask for thousands of huge surfaces; real ones use at most a few
// hundred off-screen surfaces (Windows QXL driver) and a primary.
constexpr size_t kMaxSurfaces = 4096;
constexpr uint64_t kMaxTotalSurfacePixels = 160ull * 1024 * 1024;
constexpr size_t kMaxStreams = 64; // SPICE_MAX_NUM_STREAMS in spice-server is 50

bool knownSurfaceFormat(uint32_t f) {
    switch (f) {
    case SPICE_SURFACE_FMT_1_A:
    case SPICE_SURFACE_FMT_8_A:
    case SPICE_SURFACE_FMT_16_555:
    case SPICE_SURFACE_FMT_16_565:
    case SPICE_SURFACE_FMT_32_xRGB:
    case SPICE_SURFACE_FMT_32_ARGB:
        return true;
    default:
        return false;
    }
}

void checkArea(const Pixmap& image, const QRect& area) {
    if (area.isEmpty() || !QRect(0, 0, image.width, image.height).contains(area))
        throw ProtocolError("source area outside its image");
}
} // namespace

DisplayChannel::DisplayChannel(const SessionOptions& options, uint8_t id, QObject* parent)
    : Channel(options, SPICE_CHANNEL_DISPLAY, id, parent),
      images_([this](uint32_t sid) { return surfaceImage(sid); }) {
    qRegisterMetaType<saffron::SurfacePtr>();
    qRegisterMetaType<saffron::MonitorHead>();
}

bool DisplayChannel::decodesCompression(int c) {
    return c >= SPICE_IMAGE_COMPRESSION_OFF && c <= SPICE_IMAGE_COMPRESSION_LZ4;
}

Capabilities DisplayChannel::channelCaps() const {
    Capabilities caps;
    caps.set(SPICE_DISPLAY_CAP_SIZED_STREAM);
    caps.set(SPICE_DISPLAY_CAP_MONITORS_CONFIG);
    caps.set(SPICE_DISPLAY_CAP_LZ4_COMPRESSION);
    caps.set(SPICE_DISPLAY_CAP_PREF_COMPRESSION);
    // No MULTI_CODEC: the server then streams MJPEG only, which we decode with libjpeg until the
    // GStreamer video path lands.
    return caps;
}

void DisplayChannel::onReady() {
    Writer init;
    init.u8(1).i64(ImageReader::kPixmapCachePixels).u8(1).i32(int32_t(GlzDictionary::kDefaultWindowPixels));
    send(SPICE_MSGC_DISPLAY_INIT, init.data());

    // Every image codec is decoded, so the server's own choice stands (QEMU: auto_glz) unless
    // the user asked for one.
    if (const auto wanted = options().preferredCompression) {
        if (!decodesCompression(*wanted)) {
            qCWarning(lcDisplay) << "unknown image compression" << *wanted << "not requested";
        } else if (serverChannelCaps().has(SPICE_DISPLAY_CAP_PREF_COMPRESSION)) {
            send(SPICE_MSGC_DISPLAY_PREFERRED_COMPRESSION, Writer().u8(uint8_t(*wanted)).take());
            qCInfo(lcDisplay) << "preferred image compression" << *wanted;
        } else {
            qCWarning(lcDisplay) << "the server cannot be asked for an image compression";
        }
    }
}

Surface& DisplayChannel::surfaceFor(uint32_t id) {
    auto it = surfaces_.find(id);
    if (it == surfaces_.end())
        throw ProtocolError("draw on missing surface " + std::to_string(id));
    return *it->second;
}

std::shared_ptr<const Pixmap> DisplayChannel::surfaceImage(uint32_t id) {
    auto it = surfaces_.find(id);
    if (it == surfaces_.end())
        return nullptr;
    if (id == currentDrawSurface_) // drawing a surface onto itself: read from a snapshot
        return std::make_shared<const Pixmap>(it->second->pixmap);
    SurfacePtr keep = it->second;
    return std::shared_ptr<const Pixmap>(keep, &keep->pixmap);
}

void DisplayChannel::touched(const Surface& s, const QRect& rect) {
    if (s.primary && !rect.isEmpty())
        dirty_ = dirty_.united(rect);
}

void DisplayChannel::onBatchDone() {
    if (!dirty_.isEmpty()) {
        emit primaryUpdated(dirty_);
        dirty_ = QRect();
    }
}

void DisplayChannel::createSurface(Reader& r) {
    const uint32_t id = r.u32();
    const uint32_t width = r.u32();
    const uint32_t height = r.u32();
    const uint32_t format = r.u32();
    const uint32_t flags = r.u32();
    if (!plausibleImageSize(width, height))
        throw ProtocolError("surface of " + std::to_string(width) + "x" + std::to_string(height) +
                            " rejected");
    if (!knownSurfaceFormat(format))
        throw ProtocolError("unknown surface format " + std::to_string(format));
    destroySurface(id);
    if (surfaces_.size() >= kMaxSurfaces ||
        totalSurfacePixels_ + uint64_t(width) * height > kMaxTotalSurfacePixels)
        throw ProtocolError("server exceeded the surface memory limit");
    auto s = std::make_shared<Surface>();
    s->id = id;
    s->format = format;
    s->primary = flags & SPICE_SURFACE_FLAGS_PRIMARY;
    s->pixmap = Pixmap(int(width), int(height), s->hasAlpha());
    if (!s->hasAlpha())
        std::fill(s->pixmap.pixels.begin(), s->pixmap.pixels.end(), 0xff000000u);
    totalSurfacePixels_ += uint64_t(width) * height;
    surfaces_[id] = s;
    qCInfo(lcDisplay) << "surface" << id << width << "x" << height << "format" << format
                      << (s->primary ? "primary" : "");
    if (s->primary) {
        primary_ = s;
        emit primarySurfaceChanged(s);
        dirty_ = s->bounds();
    }
}

void DisplayChannel::destroySurface(uint32_t id) {
    auto it = surfaces_.find(id);
    if (it == surfaces_.end())
        return;
    totalSurfacePixels_ -= uint64_t(it->second->pixmap.width) * it->second->pixmap.height;
    for (auto s = streams_.begin(); s != streams_.end();)
        s = s->second.surfaceId == id ? streams_.erase(s) : std::next(s);
    const bool wasPrimary = it->second == primary_;
    surfaces_.erase(it);
    if (wasPrimary) {
        primary_.reset();
        dirty_ = QRect();
        emit primarySurfaceChanged(nullptr);
    }
}

void DisplayChannel::handleMessage(uint16_t type, std::span<const uint8_t> body) {
    Reader r(body);
    switch (type) {
    case SPICE_MSG_DISPLAY_SURFACE_CREATE:
        createSurface(r);
        break;
    case SPICE_MSG_DISPLAY_SURFACE_DESTROY:
        destroySurface(r.u32());
        break;
    case SPICE_MSG_DISPLAY_MARK:
        if (!marked_) {
            marked_ = true;
            onBatchDone();
            emit marked();
        }
        break;
    case SPICE_MSG_DISPLAY_RESET:
        images_.invalidateAllPalettes();
        break;
    case SPICE_MSG_DISPLAY_INVAL_LIST: {
        const uint16_t count = r.u16();
        Reader list(r.array(count, 9));
        for (uint16_t i = 0; i < count; ++i) {
            const uint8_t resType = list.u8();
            const uint64_t id = list.u64();
            if (resType == SPICE_RES_TYPE_PIXMAP)
                images_.invalidateImage(id);
        }
        break;
    }
    case SPICE_MSG_DISPLAY_INVAL_ALL_PIXMAPS:
        images_.invalidateAllImages();
        break;
    case SPICE_MSG_DISPLAY_INVAL_PALETTE:
        images_.invalidatePalette(r.u64());
        break;
    case SPICE_MSG_DISPLAY_INVAL_ALL_PALETTES:
        images_.invalidateAllPalettes();
        break;
    case SPICE_MSG_DISPLAY_STREAM_CREATE:
        handleStreamCreate(r);
        break;
    case SPICE_MSG_DISPLAY_STREAM_DATA:
        handleStreamData(r, false);
        break;
    case SPICE_MSG_DISPLAY_STREAM_DATA_SIZED:
        handleStreamData(r, true);
        break;
    case SPICE_MSG_DISPLAY_STREAM_CLIP: {
        const uint32_t id = r.u32();
        auto clip = display::readClip(r);
        auto it = streams_.find(id);
        if (it != streams_.end())
            it->second.clip = std::move(clip);
        break;
    }
    case SPICE_MSG_DISPLAY_STREAM_DESTROY:
        streams_.erase(r.u32());
        break;
    case SPICE_MSG_DISPLAY_STREAM_DESTROY_ALL:
        streams_.clear();
        break;
    case SPICE_MSG_DISPLAY_MONITORS_CONFIG: {
        const uint16_t count = r.u16();
        r.u16(); // max_allowed
        Reader heads(r.array(count, 28));
        QList<MonitorHead> list;
        for (uint16_t i = 0; i < count; ++i) {
            MonitorHead h;
            h.monitorId = heads.u32();
            h.surfaceId = heads.u32();
            const uint32_t w = heads.u32(), hgt = heads.u32(), x = heads.u32(), y = heads.u32();
            heads.u32(); // flags
            if (plausibleImageSize(w, hgt) && x < uint32_t(display::kMaxCoordinate) &&
                y < uint32_t(display::kMaxCoordinate))
                h.rect = QRect(int(x), int(y), int(w), int(hgt));
            list << h;
        }
        emit monitorsConfigChanged(list);
        break;
    }
    case SPICE_MSG_DISPLAY_COPY_BITS:
        handleDraw(type, r);
        break;
    case SPICE_MSG_DISPLAY_MODE:
    case SPICE_MSG_DISPLAY_STREAM_ACTIVATE_REPORT:
    case SPICE_MSG_DISPLAY_QUALITY_INDICATOR:
        break;
    default:
        // Every type in this range not handled above is a draw operation.
        if (type >= SPICE_MSG_DISPLAY_DRAW_FILL && type <= SPICE_MSG_DISPLAY_DRAW_COMPOSITE) {
            handleDraw(type, r);
        } else {
            qCDebug(lcDisplay) << "ignoring display message" << type;
        }
    }
}

void DisplayChannel::handleDraw(uint16_t type, const Reader& msg) {
    ++displayStats_.draws;
    Reader r = msg;
    const display::Base base = display::readBase(r);
    Surface& surface = surfaceFor(base.surfaceId);
    currentDrawSurface_ = base.surfaceId;
    struct Reset {
        uint32_t& v;
        ~Reset() { v = UINT32_MAX; }
    } reset{currentDrawSurface_};

    QElapsedTimer decodeTimer;
    decodeTimer.start();
    // Resolves an image pointer and builds a Source mapping `area` of it onto the draw box.
    std::vector<std::shared_ptr<const Pixmap>> keep;
    auto imageSource = [&](uint32_t offset, const QRect& area, bool smooth) {
        auto img = images_.read(msg, offset);
        checkArea(*img, area);
        keep.push_back(img);
        Source s;
        s.kind = Source::Kind::Image;
        s.image = img.get();
        s.area = area;
        s.smooth = smooth;
        return s;
    };
    auto brushSource = [&](const display::Brush& b) {
        Source s;
        if (b.type == display::Brush::Type::Pattern) {
            auto img = images_.read(msg, b.patternImage);
            keep.push_back(img);
            s.kind = Source::Kind::Pattern;
            s.image = img.get();
            s.patternOrigin = base.box.topLeft() - b.patternPos;
        } else {
            s.color = b.color;
        }
        return s;
    };
    auto maskOf = [&](const display::Mask& m) {
        DrawMask mask;
        if (m.bitmap) {
            auto img = images_.read(msg, m.bitmap);
            keep.push_back(img);
            mask.bitmap = img.get();
            mask.pos = m.pos;
            mask.invert = m.invert;
        }
        return mask;
    };

    const ClipRegion clip =
        ClipRegion::forDraw(base.box, base.clip.rects, base.clip.hasRects, surface.bounds());
    Canvas canvas(surface.pixmap, surface.hasAlpha());
    auto locked = [&](auto&& fn) {
        const quint64 decodeNs = quint64(decodeTimer.nsecsElapsed());
        displayStats_.decodeNs += decodeNs;
        if (clip.isEmpty())
            return;
        QMutexLocker lock(&surface.mutex);
        fn();
        touched(surface, clip.bounds());
    };

    switch (type) {
    case SPICE_MSG_DISPLAY_DRAW_FILL: {
        const auto brush = display::readBrush(r);
        const RopDescriptor rop{r.u16()};
        const auto mask = maskOf(display::readMask(r));
        const Source src = brushSource(brush);
        locked([&] { canvas.draw(clip, base.box, src, rop, mask); });
        break;
    }
    case SPICE_MSG_DISPLAY_DRAW_COPY:
    case SPICE_MSG_DISPLAY_DRAW_BLEND: {
        const uint32_t image = r.u32();
        const QRect area = display::readRect(r);
        const RopDescriptor rop{r.u16()};
        const bool smooth = r.u8() == SPICE_IMAGE_SCALE_MODE_INTERPOLATE;
        const auto mask = maskOf(display::readMask(r));
        const Source src = imageSource(image, area, smooth);
        locked([&] { canvas.draw(clip, base.box, src, rop, mask); });
        break;
    }
    case SPICE_MSG_DISPLAY_DRAW_OPAQUE: {
        const uint32_t image = r.u32();
        const QRect area = display::readRect(r);
        const auto brush = display::readBrush(r);
        const RopDescriptor rop{r.u16()};
        const bool smooth = r.u8() == SPICE_IMAGE_SCALE_MODE_INTERPOLATE;
        const auto mask = maskOf(display::readMask(r));
        const Source src = imageSource(image, area, smooth);
        const Source fill = brushSource(brush);
        // Opaque: the brush fills the box, then the source is combined with it by the rop
        // (canvas_base.c draw_opaque semantics).
        locked([&] {
            canvas.draw(clip, base.box, fill, RopDescriptor{SPICE_ROPD_OP_PUT}, mask);
            canvas.draw(clip, base.box, src, rop, mask);
        });
        break;
    }
    case SPICE_MSG_DISPLAY_DRAW_BLACKNESS:
    case SPICE_MSG_DISPLAY_DRAW_WHITENESS:
    case SPICE_MSG_DISPLAY_DRAW_INVERS: {
        const auto mask = maskOf(display::readMask(r));
        const uint16_t op = type == SPICE_MSG_DISPLAY_DRAW_BLACKNESS   ? SPICE_ROPD_OP_BLACKNESS
                            : type == SPICE_MSG_DISPLAY_DRAW_WHITENESS ? SPICE_ROPD_OP_WHITENESS
                                                                       : SPICE_ROPD_OP_INVERS;
        locked([&] { canvas.draw(clip, base.box, Source{}, RopDescriptor{op}, mask); });
        break;
    }
    case SPICE_MSG_DISPLAY_DRAW_ROP3: {
        const uint32_t image = r.u32();
        const QRect area = display::readRect(r);
        const auto brush = display::readBrush(r);
        const uint8_t rop3 = r.u8();
        const bool smooth = r.u8() == SPICE_IMAGE_SCALE_MODE_INTERPOLATE;
        const auto mask = maskOf(display::readMask(r));
        const Source src = imageSource(image, area, smooth);
        const Source pat = brushSource(brush);
        locked([&] { canvas.drawRop3(clip, base.box, src, pat, rop3, mask); });
        break;
    }
    case SPICE_MSG_DISPLAY_DRAW_TRANSPARENT: {
        const uint32_t image = r.u32();
        const QRect area = display::readRect(r);
        const uint32_t key = r.u32();
        r.u32(); // true_color: informational
        const Source src = imageSource(image, area, false);
        locked([&] { canvas.drawTransparent(clip, base.box, src, key); });
        break;
    }
    case SPICE_MSG_DISPLAY_DRAW_ALPHA_BLEND: {
        const uint8_t alphaFlags = r.u8();
        const uint8_t alpha = r.u8();
        const uint32_t image = r.u32();
        const QRect area = display::readRect(r);
        const Source src = imageSource(image, area, true);
        const bool srcAlpha = (alphaFlags & SPICE_ALPHA_FLAGS_SRC_SURFACE_HAS_ALPHA) || src.image->hasAlpha;
        locked([&] { canvas.drawAlphaBlend(clip, base.box, src, alpha, srcAlpha); });
        break;
    }
    case SPICE_MSG_DISPLAY_COPY_BITS: {
        const QPoint srcPos = display::readPoint(r);
        locked([&] { canvas.copyBits(clip, base.box, srcPos); });
        break;
    }
    case SPICE_MSG_DISPLAY_DRAW_TEXT: {
        const uint32_t str = r.u32();
        const QRect backArea = display::readRect(r);
        const auto fore = display::readBrush(r);
        const auto back = display::readBrush(r);
        const RopDescriptor foreMode{r.u16()};
        const RopDescriptor backMode{r.u16()};
        const QRect area = clip.bounds();
        Pixmap mask = area.isEmpty() ? Pixmap() : Pixmap(area.width(), area.height());
        if (!area.isEmpty())
            display::rasterizeGlyphs(msg.at(str), area, mask);
        const Source foreSrc = brushSource(fore);
        const Source backSrc = brushSource(back);
        locked([&] {
            // Windows text: an optional background rectangle, then the glyphs through their mask.
            if (backMode.bits && back.type != display::Brush::Type::None) {
                const ClipRegion backClip =
                    ClipRegion::forDraw(backArea, clip.rects(), true, surface.bounds());
                canvas.draw(backClip, backArea, backSrc, backMode);
            }
            canvas.draw(clip, area, foreSrc, foreMode, DrawMask{&mask, QPoint(), false});
        });
        break;
    }
    case SPICE_MSG_DISPLAY_DRAW_STROKE: {
        const uint32_t path = r.u32();
        const uint8_t lineFlags = r.u8();
        if (lineFlags & SPICE_LINE_FLAGS_STYLED) {
            r.u8();  // style_nseg
            r.u32(); // style: dashes are drawn solid
        }
        const auto brush = display::readBrush(r);
        const RopDescriptor foreMode{r.u16()};
        r.u16(); // back_mode: only used for styled lines' gaps
        const QRect area = clip.bounds();
        Pixmap mask = area.isEmpty() ? Pixmap() : Pixmap(area.width(), area.height());
        if (!area.isEmpty())
            display::rasterizePath(msg.at(path), area, mask);
        const Source src = brushSource(brush);
        locked([&] { canvas.draw(clip, area, src, foreMode, DrawMask{&mask, QPoint(), false}); });
        break;
    }
    default:
        // COMPOSITE is sent by the X.org QXL driver for RENDER; a BIOS, the Linux framebuffer
        // console, QEMU's VGA modes and the Windows drivers' common paths never use it.
        ++displayStats_.badDraws;
        throw ProtocolError("draw type " + std::to_string(type) + " is not supported yet");
    }
}

void DisplayChannel::handleStreamCreate(Reader& r) {
    Stream s;
    s.surfaceId = r.u32();
    const uint32_t id = r.u32();
    const uint8_t flags = r.u8();
    s.codec = r.u8();
    r.u64(); // stamp
    s.width = r.u32();
    s.height = r.u32();
    const uint32_t srcW = r.u32(), srcH = r.u32();
    s.dest = display::readRect(r);
    s.clip = display::readClip(r);
    s.topDown = flags & SPICE_STREAM_FLAGS_TOP_DOWN;
    if (!plausibleImageSize(s.width, s.height) || srcW == 0 || srcH == 0 || srcW > s.width || srcH > s.height)
        throw ProtocolError("stream with implausible size");
    s.srcArea = QRect(0, 0, int(srcW), int(srcH));
    if (!surfaces_.count(s.surfaceId))
        throw ProtocolError("stream on missing surface");
    if (streams_.size() >= kMaxStreams && !streams_.count(id))
        throw ProtocolError("too many streams");
    if (s.codec != SPICE_VIDEO_CODEC_TYPE_MJPEG)
        qCWarning(lcDisplay) << "stream" << id << "uses codec" << s.codec << "which is not decoded yet";
    streams_[id] = s;
}

void DisplayChannel::handleStreamData(Reader& r, bool sized) {
    const uint32_t id = r.u32();
    r.u32(); // multimedia time: frames are shown on arrival (low-latency mode)
    auto it = streams_.find(id);
    if (it == streams_.end())
        return; // data for a destroyed stream (spice-server may still have it in flight)
    Stream& s = it->second;
    if (sized) {
        const uint32_t w = r.u32(), h = r.u32();
        const QRect dest = display::readRect(r);
        if (!plausibleImageSize(w, h))
            throw ProtocolError("stream frame with implausible size");
        s.width = w;
        s.height = h;
        s.srcArea = QRect(0, 0, int(w), int(h));
        s.dest = dest;
    }
    const uint32_t size = r.u32();
    auto data = r.array(size, 1);
    if (s.codec != SPICE_VIDEO_CODEC_TYPE_MJPEG)
        return;
    QElapsedTimer t;
    t.start();
    Pixmap frame = decodeJpeg(data, s.width, s.height);
    if (!s.topDown) {
        // Bottom-up frames (spice-server sets TOP_DOWN for guests that draw top-down).
        for (int y = 0; y < frame.height / 2; ++y)
            std::swap_ranges(frame.row(y).begin(), frame.row(y).end(),
                             frame.row(frame.height - 1 - y).begin());
    }
    displayStats_.decodeNs += quint64(t.nsecsElapsed());
    ++displayStats_.streamFrames;
    Surface& surface = surfaceFor(s.surfaceId);
    const ClipRegion clip = ClipRegion::forDraw(s.dest, s.clip.rects, s.clip.hasRects, surface.bounds());
    if (clip.isEmpty())
        return;
    Source src;
    src.kind = Source::Kind::Image;
    src.image = &frame;
    src.area = s.srcArea;
    src.smooth = true;
    Canvas canvas(surface.pixmap, surface.hasAlpha());
    QMutexLocker lock(&surface.mutex);
    canvas.draw(clip, s.dest, src, RopDescriptor{SPICE_ROPD_OP_PUT});
    touched(surface, clip.bounds());
}

} // namespace saffron
