#include "channels/DisplayChannel.h"

#include "Log.h"
#include "display/Canvas.h"
#include "streams/VideoStreams.h"
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

DisplayChannel::DisplayChannel(const SessionOptions& options, uint8_t id,
                               std::shared_ptr<const MultimediaClock> clock, QObject* parent)
    : Channel(options, SPICE_CHANNEL_DISPLAY, id, parent),
      images_([this](uint32_t sid) { return surfaceImage(sid); }) {
    qRegisterMetaType<saffron::SurfacePtr>();
    qRegisterMetaType<saffron::MonitorHead>();
    VideoStreams::Host host;
    host.surface = [this](uint32_t sid) {
        auto it = surfaces_.find(sid);
        return it == surfaces_.end() ? SurfacePtr() : it->second;
    };
    host.send = [this](uint16_t type, const std::vector<uint8_t>& body) { send(type, body); };
    host.touched = [this](const Surface& s, const QRect& r) { touched(s, r); };
    host.layersChanged = [this](const Surface& s) { layersChanged_ = layersChanged_ || s.primary; };
    host.flush = [this] { onBatchDone(); };
    video_ = std::make_unique<VideoStreams>(std::move(host), options, std::move(clock));
}

DisplayChannel::~DisplayChannel() {
    // Streams (and their decoders' threads) go before the surfaces they draw into.
    video_.reset();
}

DisplayStats DisplayChannel::displayStats() const {
    DisplayStats s = displayStats_;
    s.video = video_->stats();
    s.streamFrames = s.video.framesPresented;
    return s;
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
    VideoStreams::addCapabilities(caps, options());
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

    // The preferred video codecs go out with the first MARK (sendPreferredVideoCodecs).
}

void DisplayChannel::sendPreferredVideoCodecs() {
    // The server's video codec list is reordered by ours (spice-server
    // display_channel_handle_preferred_video_codec_type); it never adds a codec it has not enabled.
    // Handling it stops every stream and starts them again with the new order. Sent right after
    // linking, it crashed libspice-server 0.15.1's display worker (SIGSEGV) whenever we joined
    // while a video was streaming: its per-client set-up was not done yet. Seen with our test
    // server; QEMU runs the same library in-process, so it would likely take the VM with it
    // (inferred, not reproduced: a BIOS screen never streams).
    // The first MARK is queued by that set-up (dcc_start: surface, image, MARK, then the client's
    // streams), so from here on the preference is handled like one sent mid-session.
    if (!serverChannelCaps().has(SPICE_DISPLAY_CAP_PREF_VIDEO_CODEC_TYPE))
        return;
    const auto codecs = VideoStreams::preferredCodecs(options());
    if (codecs.empty())
        return;
    Writer w;
    w.u8(uint8_t(codecs.size()));
    for (uint8_t c : codecs)
        w.u8(c);
    send(SPICE_MSGC_DISPLAY_PREFERRED_VIDEO_CODEC_TYPE, w.take());
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
    video_->beforeRead(id);        // the surface's pixels must include pictures shown as video layers
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
    if (layersChanged_) {
        layersChanged_ = false;
        emit primaryLayersChanged();
    }
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
    video_->surfaceDestroyed(id);
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
            sendPreferredVideoCodecs();
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
        video_->handleCreate(r);
        break;
    case SPICE_MSG_DISPLAY_STREAM_DATA:
        video_->handleData(r, false);
        break;
    case SPICE_MSG_DISPLAY_STREAM_DATA_SIZED:
        video_->handleData(r, true);
        break;
    case SPICE_MSG_DISPLAY_STREAM_CLIP:
        video_->handleClip(r);
        break;
    case SPICE_MSG_DISPLAY_STREAM_DESTROY:
        video_->handleDestroy(r.u32());
        break;
    case SPICE_MSG_DISPLAY_STREAM_DESTROY_ALL:
        video_->handleDestroyAll();
        break;
    case SPICE_MSG_DISPLAY_STREAM_ACTIVATE_REPORT:
        video_->handleActivateReport(r);
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
    // Copy-bits reads the surface it draws on; every draw lands on what a video layer shows.
    if (type == SPICE_MSG_DISPLAY_COPY_BITS)
        video_->beforeRead(base.surfaceId);
    if (!clip.isEmpty())
        video_->beforeDraw(base.surfaceId, clip.bounds());
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

} // namespace saffron
