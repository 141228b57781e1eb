#include "streams/VideoStreams.h"

#include "Log.h"
#include "codecs/JpegDecoder.h"
#include "display/Canvas.h"
#include "streams/PicturePool.h"
#include "video/DecodedFrame.h"
#include "video/DecoderSelector.h"
#include "video/FrameConverter.h"
#include "video/GstHandles.h"
#include "video/VideoCodec.h"
#include "video/VideoDecoder.h"
#include "video/VideoDecoderPool.h"
#include "wire/ProtocolError.h"

#include <QMutexLocker>
#include <algorithm>
#include <cstdlib>
#include <mutex>
#include <spice/enums.h>
#include <spice/protocol.h>

namespace saffron {

namespace {
// spice-server keeps at most 50 streams (SPICE_MAX_NUM_STREAMS); QEMU's band-split full-screen
// video uses about ten.
constexpr size_t kMaxStreams = 64;
// Frames handed to a decoder and not back yet, per stream. Decoders bound their own queue; this
// only bounds our bookkeeping if one swallows frames without a word.
constexpr size_t kMaxFramesInFlight = 64;
// A frame stamped further ahead than this is not waited for: the server's clock is off (or
// hostile), and showing it now beats holding the picture back for seconds.
constexpr int32_t kMaxLipSyncWaitMs = 2000;

struct CodecMapping {
    uint8_t spice;
    VideoCodec codec;
    unsigned cap;
};
constexpr CodecMapping kCodecs[] = {
    {SPICE_VIDEO_CODEC_TYPE_MJPEG, VideoCodec::Mjpeg, SPICE_DISPLAY_CAP_CODEC_MJPEG},
    {SPICE_VIDEO_CODEC_TYPE_VP8, VideoCodec::Vp8, SPICE_DISPLAY_CAP_CODEC_VP8},
    {SPICE_VIDEO_CODEC_TYPE_H264, VideoCodec::H264, SPICE_DISPLAY_CAP_CODEC_H264},
    {SPICE_VIDEO_CODEC_TYPE_VP9, VideoCodec::Vp9, SPICE_DISPLAY_CAP_CODEC_VP9},
    {SPICE_VIDEO_CODEC_TYPE_H265, VideoCodec::H265, SPICE_DISPLAY_CAP_CODEC_H265},
};

std::optional<VideoCodec> codecFromSpice(uint8_t spice) {
    for (const auto& m : kCodecs)
        if (m.spice == spice)
            return m.codec;
    return std::nullopt;
}

uint8_t spiceFromCodec(VideoCodec codec) {
    for (const auto& m : kCodecs)
        if (m.codec == codec)
            return m.spice;
    return 0;
}

// The process-wide decoder selection, configured from the first session's options (the
// override string is a machine setting, the same for every session of the process).
std::shared_ptr<DecoderSelector> selectorFor(const SessionOptions& options) {
    static std::once_flag configured;
    std::call_once(configured, [&] {
        if (!options.videoDecoders.isEmpty())
            DecoderSelector::configureProcessDefault(options.videoDecoders.toStdString());
    });
    return DecoderSelector::processDefault();
}

// The user may narrow the codecs the server may use (video-codecs=h264,mjpeg); a list naming no
// codec at all ("off") turns video decoding off.
bool allowedByUser(const SessionOptions& options, VideoCodec codec) {
    const auto name = QString::fromUtf8(std::string(videoCodecName(codec)).c_str());
    return options.videoCodecs.isEmpty() || options.videoCodecs.contains(name, Qt::CaseInsensitive);
}

// A stream's destination on its surface (STREAM_CREATE, or each SIZED_STREAM frame): not empty,
// and no larger than any picture we would allocate.
bool plausibleDestination(const QRect& dest) {
    return !dest.isEmpty() && plausibleImageSize(uint64_t(dest.width()), uint64_t(dest.height()));
}

// The codecs a decoder here handles, as far as the probes have answered: this runs on the
// session thread, which must never wait for a probe (under QEMU TCG a thin-client image took a
// minute to probe five decoders, and a blocked session thread stops answering the server). A
// codec whose probe is still running is left out of this session; its result is cached for
// the next one.
std::vector<CodecSupport> supportedCodecs(const SessionOptions& options) {
    std::vector<CodecSupport> out;
    const auto selector = selectorFor(options);
    for (VideoCodec c : kAllVideoCodecs) {
        if (!allowedByUser(options, c))
            continue;
        const std::optional<CodecSupport> s = selector->settledSupport(c);
        if (!s)
            qCWarning(lcDisplay).noquote() << QString::fromUtf8(std::string(videoCodecName(c)).c_str())
                                           << "decoder probe still running: not offered to this session";
        else if (s->decodable)
            out.push_back(*s);
    }
    return out;
}
} // namespace

namespace {

// The part of a decoded picture a stream shows: src_width x src_height (encoders pad).
QRect shownArea(QSize source, QSize picture) {
    return QRect(QPoint(0, 0), source.boundedTo(picture));
}

QSize sizeOf(const DecodedFrame& frame) {
    return QSize(frame.width(), frame.height());
}
QSize sizeOf(const Pixmap& picture) {
    return QSize(picture.width, picture.height);
}

// What the statistics call the direct MJPEG path (VideoStreams::decodeJpegFrame).
constexpr const char* kDirectJpegDecoder = "libjpeg-turbo";

} // namespace

struct VideoStreams::Stream {
    explicit Stream(uint32_t streamId) : id(streamId), reporter(streamId) {}

    uint32_t id;
    uint64_t serial = 0; // tells this stream's frames from those of an earlier stream with its id
    uint32_t surfaceId = 0;
    uint8_t spiceCodec = 0;
    std::optional<VideoCodec> codec; // set when a decoder here handles the stream's codec
    // MJPEG whose chosen GStreamer decoder is software and not forced by the user: libjpeg-turbo
    // may decode it straight to RGB instead (decodesJpegDirectly).
    bool softwareJpeg = false;
    bool topDown = false;
    QRect dest;
    QSize encoded;
    QSize source;
    display::Clip clip;
    VideoDecoderPool::Handle decoder; // acquired with the first frame that needs it
    StreamReporter reporter;
    uint64_t nextTag = 1;
    std::map<uint64_t, FrameInfo> inFlight; // by tag
    std::deque<Scheduled> scheduled;        // lip-sync mode: decoded, waiting for their mm-time
    std::unique_ptr<QTimer> timer;
    Pixmap scratch;
    // Layer mode: the picture shown as this stream's layer, and whether the surface holds it too.
    std::shared_ptr<const DecodedFrame> shown;
    std::shared_ptr<const Pixmap> shownRgb; // Rgb mode: a direct JPEG picture
    PicturePool rgbPictures;
    FrameInfo shownInfo;
    ClipRegion shownClip; // where shownInfo's picture may show, under the clip of its time
    bool shownInSurface = true;
    uint64_t shownSerial = 0;

    // Layer mode: a picture is shown (a decoder's frame, its conversion, or a direct RGB one).
    bool hasPicture() const { return shown || shownRgb; }
    QSize pictureSize() const { return shown ? sizeOf(*shown) : shownRgb ? sizeOf(*shownRgb) : QSize(); }
    void dropPicture() {
        shown.reset();
        shownRgb.reset();
    }
};

VideoStreams::VideoStreams(Host host, const SessionOptions& options,
                           std::shared_ptr<const MultimediaClock> clock, QObject* parent)
    : QObject(parent), host_(std::move(host)), options_(options), clock_(std::move(clock)),
      lowLatency_(options.lowLatencyVideo), converter_(std::make_unique<FrameConverter>()) {
    monotonic_.start();
    // Reports are also due when a stream stalls (timeout_ms without max_window_size frames).
    reportTimer_.setInterval(250);
    connect(&reportTimer_, &QTimer::timeout, this, &VideoStreams::pollReports);
}

VideoStreams::~VideoStreams() {
    // Decoders stop their streaming threads as they are returned, before the pool goes; layer
    // pictures (their buffers belong to those decoders) leave the surfaces first.
    while (!streams_.empty())
        erase(streams_.begin(), Picture::Drop);
}

std::shared_future<void> VideoStreams::probeInBackground(const SessionOptions& options,
                                                         std::function<void()> done) {
    // One thread per codec: the selector probes codecs independently (and caches), and the
    // slowest probe (avdec_h264 loading libavcodec, ~120 ms here) then bounds the wait instead of
    // the sum of all five.
    return std::async(std::launch::async,
                      [options, done = std::move(done)] {
                          std::vector<std::future<void>> probes;
                          for (VideoCodec c : kAllVideoCodecs)
                              if (allowedByUser(options, c))
                                  probes.push_back(std::async(std::launch::async, [&options, c] {
                                      selectorFor(options)->support(c);
                                  }));
                          for (auto& p : probes)
                              p.wait();
                          if (done)
                              done();
                      })
        .share();
}

std::future<void> VideoStreams::warmUp() {
    return std::async(std::launch::async, [] { ensureGstInitialized(); });
}

void VideoStreams::addCapabilities(Capabilities& caps, const SessionOptions& options) {
    // STREAM_REPORT is what makes spice-server send STREAM_ACTIVATE_REPORT and adapt its rate.
    caps.set(SPICE_DISPLAY_CAP_STREAM_REPORT);
    const auto supported = supportedCodecs(options);
    if (supported.empty())
        return; // without MULTI_CODEC the server sends MJPEG, reported as undecodable
    caps.set(SPICE_DISPLAY_CAP_MULTI_CODEC);
    caps.set(SPICE_DISPLAY_CAP_PREF_VIDEO_CODEC_TYPE);
    for (const CodecSupport& s : supported)
        for (const auto& m : kCodecs)
            if (m.codec == s.codec)
                caps.set(m.cap);
}

std::vector<uint8_t> VideoStreams::preferredCodecs(const SessionOptions& options) {
    const auto supported = supportedCodecs(options);
    std::vector<uint8_t> order;
    if (!options.videoCodecs.isEmpty()) {
        for (const QString& name : options.videoCodecs) {
            const auto codec = videoCodecFromName(name.toStdString());
            if (!codec)
                continue;
            const bool ok = std::any_of(supported.begin(), supported.end(),
                                        [&](const CodecSupport& s) { return s.codec == *codec; });
            const uint8_t spice = spiceFromCodec(*codec);
            if (ok && std::find(order.begin(), order.end(), spice) == order.end())
                order.push_back(spice);
        }
        return order;
    }
    // spice-server hands its GStreamer encoders BGRx and videoconvert gives x264enc and vp9enc
    // 4:4:4 (seen with 0.15.1: High 4:4:4 Predictive, VP9 profile 1). A hardware decoder that
    // takes 4:2:0 only (NVDEC's H.264 and VP9) would leave every such stream to software, so
    // those codecs rank as hardware only when their decoder passed the 4:4:4 probe.
    constexpr VideoCodec kSentAs444[] = {VideoCodec::H264, VideoCodec::Vp9};
    for (VideoCodec c : DecoderSelector::preferenceOrder(supported, kSentAs444))
        order.push_back(spiceFromCodec(c));
    return order;
}

VideoStats VideoStreams::stats() const {
    VideoStats s = stats_;
    QStringList decoders;
    for (const auto& [id, stream] : streams_) {
        const bool direct = decodesJpegDirectly(*stream);
        if (!stream->codec || (!stream->decoder && !direct))
            continue;
        const QString d =
            QStringLiteral("%1:%2").arg(QString::fromStdString(std::string(videoCodecName(*stream->codec))),
                                        QString::fromStdString(direct ? std::string(kDirectJpegDecoder)
                                                                      : stream->decoder->currentDecoder()));
        if (!decoders.contains(d))
            decoders << d;
    }
    s.decoders = decoders.join(QLatin1Char(' '));
    return s;
}

void VideoStreams::handleCreate(Reader& r) {
    const uint32_t surfaceId = r.u32();
    const uint32_t id = r.u32();
    const uint8_t flags = r.u8();
    const uint8_t codecType = r.u8();
    r.u64(); // stamp: informational
    const uint32_t width = r.u32(), height = r.u32();
    const uint32_t srcW = r.u32(), srcH = r.u32();
    const QRect dest = display::readRect(r);
    display::Clip clip = display::readClip(r);
    if (!plausibleImageSize(width, height) || srcW == 0 || srcH == 0 || srcW > width || srcH > height)
        throw ProtocolError("stream with implausible size");
    if (!plausibleDestination(dest))
        throw ProtocolError("stream with an empty or implausible destination");
    if (!host_.surface(surfaceId))
        throw ProtocolError("stream on missing surface " + std::to_string(surfaceId));
    auto existing = streams_.find(id);
    if (existing != streams_.end())
        erase(existing); // the server re-uses ids only after destroying; a hostile one may not
    if (streams_.size() >= kMaxStreams)
        throw ProtocolError("too many streams");

    auto s = std::make_unique<Stream>(id);
    s->serial = nextSerial_++;
    s->surfaceId = surfaceId;
    s->spiceCodec = codecType;
    s->topDown = flags & SPICE_STREAM_FLAGS_TOP_DOWN;
    s->dest = dest;
    s->encoded = QSize(int(width), int(height));
    s->source = QSize(int(srcW), int(srcH));
    s->clip = std::move(clip);
    ++stats_.streamsCreated;

    const auto codec = codecFromSpice(codecType);
    // settledSupport: never wait for a probe here (see supportedCodecs); an unprobed codec is
    // reported as undecodable like one with no decoder.
    const auto support = codec ? selectorFor(options_)->settledSupport(*codec) : std::nullopt;
    if (codec && allowedByUser(options_, *codec) && support && support->decodable) {
        s->codec = *codec;
        s->softwareJpeg = *codec == VideoCodec::Mjpeg && !support->hardware && !support->forced;
        qCInfo(lcDisplay) << "stream" << id << videoCodecName(*codec).data() << srcW << "x" << srcH << "at"
                          << dest << "decoder"
                          << (decodesJpegDirectly(*s) ? kDirectJpegDecoder : support->element.c_str());
    } else {
        ++stats_.streamsUndecodable;
        qCWarning(lcDisplay) << "stream" << id << "uses codec" << codecType
                             << "which no decoder here handles; its region stays as last drawn";
    }
    streams_[id] = std::move(s);
    if (!reportTimer_.isActive())
        reportTimer_.start();
}

void VideoStreams::acquireDecoder(Stream& s) {
    if (!pool_)
        pool_ = std::make_unique<VideoDecoderPool>(selectorFor(options_));
    VideoDecoderCallbacks callbacks;
    const uint32_t id = s.id;
    const uint64_t serial = s.serial;
    // Both run on GStreamer threads: hand over to the session thread. The decoder's callbacks
    // are cleared and its thread stopped when the stream returns it to the pool, which happens
    // before this object goes (see ~VideoStreams), so `this` is alive here.
    callbacks.frame = [this, id, serial](std::shared_ptr<const DecodedFrame> frame) {
        QMetaObject::invokeMethod(
            this,
            [this, id, serial, frame = std::move(frame)]() mutable {
                onDecoded(id, serial, std::move(frame));
            },
            Qt::QueuedConnection);
    };
    callbacks.error = [this, id, serial](const VideoDecoderError& e) {
        const QString message =
            QString::fromStdString(e.decoder.empty() ? e.message : e.decoder + ": " + e.message);
        QMetaObject::invokeMethod(
            this, [this, id, serial, message] { onDecodeError(id, serial, message); }, Qt::QueuedConnection);
    };
    s.decoder = pool_->acquire(*s.codec, std::move(callbacks));
}

bool VideoStreams::decodesJpegDirectly(const Stream& s) const {
    // spice-server's MJPEG frames are complete baseline JFIF images (mjpeg_encoder.c), so a frame
    // can take either path. A GStreamer decoder gives YUV, which the CPU would then convert: one
    // more pass over every pixel (2-3 ms a 1080p frame here) that libjpeg-turbo's own colour
    // conversion, fused with its upsampling, makes nearly free. Hardware decoders and a decoder
    // the user forced keep the GStreamer path, as does Yuv layer mode (the GPU converts).
    return s.softwareJpeg && layerMode_ != VideoLayerMode::Yuv;
}

bool VideoStreams::decodeJpegFrame(Stream& s, std::span<const uint8_t> data, const FrameInfo& info) {
    // On the session thread: a few ms a 1080p frame, as long as the GStreamer hand-over and the
    // conversion it replaces took there, and the picture is ready for presentDue at once.
    QElapsedTimer timer;
    timer.start();
    std::shared_ptr<Pixmap> picture;
    try {
        JpegImage jpeg(data);
        const QSize size(jpeg.width(), jpeg.height());
        if (!fitsDeclaredSize(s, size, info))
            return false;
        picture = s.rgbPictures.take(size.width(), size.height());
        if (!picture) {
            qCWarning(lcDisplay) << "stream" << s.id << "no memory for a" << size << "picture";
            return false;
        }
        jpeg.decodeInto(*picture, JpegImage::Speed::Fast,
                        s.topDown ? 0 : shownArea(info.source, size).height());
    } catch (const ProtocolError& e) {
        ++stats_.decodeErrors;
        qCWarning(lcDisplay).noquote()
            << "stream" << s.id << "decode error:" << kDirectJpegDecoder << e.what();
        return false;
    }
    // Frames a GStreamer decoder still holds (from before a layer mode change) are older than
    // this one: shown after it they would step back in time.
    s.inFlight.clear();
    schedule(s, Scheduled{nullptr, std::move(picture), info, uint64_t(timer.nsecsElapsed())});
    return true;
}

void VideoStreams::schedule(Stream& s, Scheduled item) {
    ++stats_.framesDecoded;
    stats_.decodeNs += item.decodeNs;
    // Decoded only after its mm-time although it arrived in time: the decoder has fallen behind
    // by more than the server's whole latency margin (a CPU too slow for the stream). Low-latency
    // mode still shows it, but the report counts it as a drop, as spice-gtk counts a frame that
    // reaches playback after its time (num_drops_on_playback, channel-display.c), so that
    // spice-server's rate control lowers the stream's rate before our decoder's queue overflows.
    if (!item.info.reportedLate && StreamReporter::arrivesLate(untilDue(item.info.mmTime))) {
        item.info.reportedLate = true;
        ++stats_.decodedLate;
        s.reporter.frameDroppedLate();
    }
    s.scheduled.push_back(std::move(item));
    presentDue(s);
}

void VideoStreams::handleData(Reader& r, bool sized) {
    const uint32_t id = r.u32();
    const uint32_t mmTime = r.u32();
    auto it = streams_.find(id);
    uint32_t w = 0, h = 0;
    QRect dest;
    if (sized) {
        w = r.u32();
        h = r.u32();
        dest = display::readRect(r);
    }
    const uint32_t size = r.u32();
    const auto data = r.array(size, 1);
    if (it == streams_.end())
        return; // data for a destroyed stream: spice-server may still have had it in flight
    Stream& s = *it->second;
    FrameInfo info;
    info.mmTime = mmTime;
    info.arrivalNs = monotonic_.nsecsElapsed();
    info.dest = s.dest;
    info.encoded = s.encoded;
    info.source = s.source;
    if (sized) {
        // SIZED_STREAM: the frame carries its own size and destination (spice-server's video
        // encoders may change resolution mid-stream).
        if (!plausibleImageSize(w, h) || !plausibleDestination(dest))
            throw ProtocolError("stream frame with implausible size");
        info.encoded = info.source = QSize(int(w), int(h));
        info.dest = dest;
        s.dest = dest;
        s.encoded = s.source = info.source;
    }
    ++stats_.framesReceived;
    const int32_t delay = untilDue(mmTime);
    info.reportedLate = StreamReporter::arrivesLate(delay);
    bool dropped = true;
    if (s.codec && decodesJpegDirectly(s)) {
        dropped = !decodeJpegFrame(s, data, info);
    } else if (s.codec) {
        if (!s.decoder)
            acquireDecoder(s);
        const uint64_t tag = s.nextTag++;
        s.inFlight[tag] = info;
        while (s.inFlight.size() > kMaxFramesInFlight)
            s.inFlight.erase(s.inFlight.begin());
        const SubmitResult result = s.decoder->submit(data, tag);
        dropped = result != SubmitResult::Queued && result != SubmitResult::Backlogged;
        if (dropped) {
            s.inFlight.erase(tag);
            qCDebug(lcDisplay) << "stream" << id << "frame not decoded:" << submitResultName(result);
        }
    }
    if (dropped)
        ++stats_.dropsDecoder;
    sendReport(s.reporter.frameArrived(mmTime, delay, dropped, monotonic_.elapsed()));
}

void VideoStreams::handleClip(Reader& r) {
    const uint32_t id = r.u32();
    display::Clip clip = display::readClip(r);
    auto it = streams_.find(id);
    if (it == streams_.end())
        return;
    // spice-server narrows a stream's clip when other drawing covers part of it, and that drawing
    // follows: the picture shown so far must stay in the surface under the old clip, as it would
    // have been drawn there without layers. The layer comes back with the next frame.
    settleLayer(*it->second, true);
    it->second->clip = std::move(clip);
}

void VideoStreams::setLayerMode(VideoLayerMode mode) {
    if (mode == layerMode_)
        return;
    layerMode_ = mode;
    // A layer of the other kind would stay until its stream's next frame: the surface takes it.
    for (auto& [id, s] : streams_)
        settleLayer(*s, true);
    if (host_.flush)
        host_.flush();
}

void VideoStreams::beforeDraw(uint32_t surfaceId, const QRect& area) {
    for (auto& [id, s] : streams_)
        if (s->hasPicture() && s->surfaceId == surfaceId && s->shownInfo.dest.intersects(area))
            settleLayer(*s, true);
}

void VideoStreams::beforeRead(uint32_t surfaceId) {
    for (auto& [id, s] : streams_)
        if (s->hasPicture() && s->surfaceId == surfaceId)
            settleLayer(*s, false);
}

void VideoStreams::settleLayer(Stream& s, bool hide) {
    if (!s.hasPicture())
        return;
    const SurfacePtr surface = host_.surface(s.surfaceId);
    if (!surface) {
        s.dropPicture();
        return;
    }
    if (!s.shownInSurface) {
        s.shownInSurface = true;
        if (s.shownRgb) {
            // Already converted: a copy, not a second conversion.
            drawPicture(*surface, *s.shownRgb, shownArea(s.shownInfo.source, sizeOf(*s.shownRgb)),
                        s.shownInfo.dest, s.shownClip);
            host_.touched(*surface, s.shownClip.bounds());
        } else if (drawIntoSurface(s, *surface, *s.shown, s.shownInfo, s.shownClip)) {
            host_.touched(*surface, s.shownClip.bounds());
        }
    }
    if (hide) {
        s.dropPicture();
        publishLayer(s, *surface);
    }
}

void VideoStreams::publishLayer(Stream& s, Surface& surface) {
    {
        QMutexLocker lock(&surface.mutex);
        auto& layers = surface.layers;
        auto it = std::find_if(layers.begin(), layers.end(),
                               [&](const VideoLayer& l) { return l.streamId == s.id; });
        if (!s.hasPicture()) {
            if (it == layers.end())
                return;
            layers.erase(it);
        } else {
            if (it == layers.end())
                it = layers.insert(layers.end(), VideoLayer{});
            const FrameInfo& info = s.shownInfo;
            it->streamId = s.id;
            it->frame = s.shown;
            it->rgb = s.shownRgb;
            it->frameSerial = s.shownSerial;
            it->dest = info.dest;
            it->area = shownArea(info.source, s.pictureSize());
            it->clip = s.shownClip.rects();
            it->topDown = s.topDown;
        }
    }
    if (host_.layersChanged)
        host_.layersChanged(surface);
}

void VideoStreams::handleDestroy(uint32_t id) {
    auto it = streams_.find(id);
    if (it != streams_.end())
        erase(it);
}

void VideoStreams::handleDestroyAll() {
    while (!streams_.empty())
        erase(streams_.begin());
}

void VideoStreams::surfaceDestroyed(uint32_t surfaceId) {
    for (auto it = streams_.begin(); it != streams_.end();) {
        auto next = std::next(it);
        if (it->second->surfaceId == surfaceId)
            erase(it, Picture::Drop);
        it = next;
    }
}

void VideoStreams::erase(std::map<uint32_t, std::unique_ptr<Stream>>::iterator it, Picture picture) {
    // A destroyed stream's last picture stays on the screen: spice-server counts it as drawn and
    // later draws on top of it (or sends a lossless upgrade of the area).
    if (picture == Picture::Keep)
        settleLayer(*it->second, true);
    else if (const SurfacePtr surface = host_.surface(it->second->surfaceId);
             surface && it->second->hasPicture()) {
        it->second->dropPicture();
        publishLayer(*it->second, *surface);
    }
    // Returning the decoder resets it and discards what it still holds; queued frame events of
    // this stream are then ignored by their serial.
    streams_.erase(it);
    if (streams_.empty())
        reportTimer_.stop();
}

void VideoStreams::handleActivateReport(Reader& r) {
    const uint32_t id = r.u32();
    const uint32_t uniqueId = r.u32();
    const uint32_t maxWindow = r.u32();
    const uint32_t timeoutMs = r.u32();
    auto it = streams_.find(id);
    if (it == streams_.end())
        return;
    Stream& s = *it->second;
    sendReport(s.reporter.activate(uniqueId, maxWindow, timeoutMs, s.codec.has_value()));
}

void VideoStreams::pollReports() {
    const qint64 now = monotonic_.elapsed();
    for (auto& [id, s] : streams_)
        sendReport(s->reporter.poll(now));
}

void VideoStreams::sendReport(std::optional<StreamReport> report) {
    if (!report)
        return;
    if (audioDelay_)
        report->audioDelay = audioDelay_().value_or(0xffffffffu);
    host_.send(SPICE_MSGC_DISPLAY_STREAM_REPORT, report->encode());
}

void VideoStreams::onDecodeError(uint32_t id, uint64_t serial, const QString& message) {
    ++stats_.decodeErrors;
    auto it = streams_.find(id);
    const bool live = it != streams_.end() && it->second->serial == serial;
    qCWarning(lcDisplay).noquote() << "stream" << id << (live ? "" : "(gone)") << "decode error:" << message;
}

void VideoStreams::onDecoded(uint32_t id, uint64_t serial, std::shared_ptr<const DecodedFrame> frame) {
    auto it = streams_.find(id);
    if (it == streams_.end() || it->second->serial != serial)
        return; // a frame of a stream that is gone
    Stream& s = *it->second;
    auto info = s.inFlight.find(frame->tag());
    if (info == s.inFlight.end())
        return;
    const uint64_t decodeNs = frame->decodeNs();
    Scheduled item{std::move(frame), nullptr, info->second, decodeNs};
    // Frames come out in order; anything older still listed was swallowed by the decoder.
    s.inFlight.erase(s.inFlight.begin(), std::next(info));
    schedule(s, std::move(item));
}

int32_t VideoStreams::untilDue(uint32_t mmTime) const {
    return clock_ && clock_->valid() ? clock_->until(mmTime) : 0;
}

int32_t VideoStreams::waitBeforePresenting(uint32_t mmTime) const {
    if (!clock_)
        return 0;
    // Sound playing: the frame waits until its moment is heard, in either mode (spice-server
    // stamps audio and video on the same mm-time clock). That costs the audio buffer's latency,
    // not the server's ~400 ms margin.
    if (clock_->audioPlaying())
        return clock_->untilHeard(mmTime);
    // No sound: low latency shows it at once; lip-sync mode keeps the server's schedule.
    if (!lowLatency_ && clock_->valid())
        return clock_->until(mmTime);
    return 0;
}

void VideoStreams::presentDue(Stream& s) {
    // Frames wait for their presentation time (waitBeforePresenting); of several due frames
    // only the newest is drawn (spice.proto: late frames are dropped). A frame stamped absurdly
    // far ahead (over kMaxLipSyncWaitMs) is shown rather than held.
    std::optional<Scheduled> show;
    while (!s.scheduled.empty()) {
        const int32_t wait = waitBeforePresenting(s.scheduled.front().info.mmTime);
        if (wait > 0 && wait <= kMaxLipSyncWaitMs)
            break;
        if (show) {
            ++stats_.dropsLate;
            if (!show->info.reportedLate) // counted already
                s.reporter.frameDroppedLate();
        }
        show = std::move(s.scheduled.front());
        s.scheduled.pop_front();
    }
    if (show)
        present(s, std::move(*show));
    if (!s.scheduled.empty()) {
        if (!s.timer) {
            s.timer = std::make_unique<QTimer>();
            s.timer->setSingleShot(true);
            s.timer->setTimerType(Qt::PreciseTimer);
            const uint32_t id = s.id;
            const uint64_t serial = s.serial;
            connect(s.timer.get(), &QTimer::timeout, this, [this, id, serial] {
                auto it = streams_.find(id);
                if (it != streams_.end() && it->second->serial == serial)
                    presentDue(*it->second);
            });
        }
        s.timer->start(std::max(0, waitBeforePresenting(s.scheduled.front().info.mmTime)));
    }
}

bool VideoStreams::fitsDeclaredSize(const Stream& s, QSize frameSize, const FrameInfo& info) {
    // The bitstream decides the picture size, the server's message only declares it. Encoders
    // may pad to their block size (16 for H.264 macroblocks), nothing more: a picture of another
    // size is a broken or hostile stream, never scaled over the screen.
    const auto align16 = [](int v) { return (v + 15) & ~15; };
    if (frameSize.width() < info.source.width() || frameSize.height() < info.source.height() ||
        frameSize.width() > align16(info.encoded.width()) ||
        frameSize.height() > align16(info.encoded.height())) {
        qCWarning(lcDisplay) << "stream" << s.id << "decoded a" << frameSize << "picture for a declared"
                             << info.encoded << "stream; frame dropped";
        return false;
    }
    return true;
}

void VideoStreams::present(Stream& s, Scheduled item) {
    const SurfacePtr surface = host_.surface(s.surfaceId);
    if (!surface)
        return;
    QElapsedTimer render;
    render.start();
    const FrameInfo& info = item.info;
    // Computed once per picture; a layer keeps it until its picture is settled (a clip change
    // settles first, so the picture lands under the clip it was shown with).
    ClipRegion clip = ClipRegion::forDraw(info.dest, s.clip.rects, s.clip.hasRects, surface->bounds());
    if (clip.isEmpty())
        return;
    const QSize size = item.frame ? sizeOf(*item.frame) : sizeOf(*item.rgb);
    if (!fitsDeclaredSize(s, size, info)) {
        ++stats_.dropsDecoder;
        return;
    }
    const bool rgbLayer =
        layerMode_ == VideoLayerMode::Rgb && surface->primary && clip.rects().size() <= kMaxRgbLayerRects;
    std::shared_ptr<Pixmap> rgb = std::move(item.rgb); // a direct JPEG picture comes converted
    if ((layerMode_ == VideoLayerMode::Yuv && surface->primary && item.frame) || rgbLayer) {
        // The front end composites the picture: YUV converted on the GPU, or on the CPU as it
        // paints (straight into its window where it can, one pass instead of a conversion here
        // and a copy there); direct JPEG pictures come as RGB. Streams on off-screen surfaces
        // are drawn into them: their pixels are only ever read by copies onto the primary
        // surface.
        s.shown = std::move(item.frame);
        s.shownRgb = std::move(rgb);
        s.shownInfo = info;
        s.shownClip = std::move(clip);
        s.shownInSurface = false;
        ++s.shownSerial;
        publishLayer(s, *surface);
        ++stats_.framesAsLayer;
    } else {
        // An Rgb-mode layer still shown (its clip has just grown too fragmented) goes first.
        settleLayer(s, true);
        if (rgb)
            drawPicture(*surface, *rgb, shownArea(info.source, size), info.dest, clip);
        else if (!drawIntoSurface(s, *surface, *item.frame, info, clip))
            return;
        host_.touched(*surface, clip.bounds());
    }
    const qint64 now = monotonic_.nsecsElapsed();
    ++stats_.framesPresented;
    stats_.renderNs += quint64(render.nsecsElapsed());
    stats_.queueNs += quint64(std::max<qint64>(0, now - info.arrivalNs - qint64(item.decodeNs)));
    const quint64 latency = quint64(std::max<qint64>(0, now - info.arrivalNs));
    stats_.arrivalToPresentNs += latency;
    stats_.arrivalToPresentMaxNs = std::max(stats_.arrivalToPresentMaxNs, latency);
    if (clock_ && clock_->audioPlaying()) {
        const qint64 offset = -qint64(clock_->untilHeard(info.mmTime));
        ++stats_.framesLipSynced;
        stats_.avOffsetMsSum += offset;
        stats_.avOffsetMsMaxAbs = std::max(stats_.avOffsetMsMaxAbs, std::abs(offset));
    }
    host_.flush();
}

bool VideoStreams::drawIntoSurface(Stream& s, Surface& surface, const DecodedFrame& frame,
                                   const FrameInfo& info, const ClipRegion& clip) {
    if (clip.isEmpty())
        return false;
    const QSize frameSize = sizeOf(frame);
    const QRect area = shownArea(info.source, frameSize);
    if (clip.rects().size() == 1 && clip.rects().front() == info.dest && area.size() == frameSize &&
        info.dest.size() == frameSize && !surface.hasAlpha()) {
        // The common case: the frame covers its destination 1:1 and nothing clips it, so it is
        // converted straight into the surface memory (turned over on the way if bottom-up).
        QMutexLocker lock(&surface.mutex);
        Pixmap& p = surface.pixmap;
        const size_t offset = size_t(info.dest.top()) * size_t(p.width) + size_t(info.dest.left());
        const std::span<uint32_t> dst = std::span<uint32_t>(p.pixels).subspan(offset);
        if (converter_->convert(frame, dst, p.width, FrameConverter::rowOrder(s.topDown)))
            return true;
        warnUnconverted(s, frame);
        return false;
    }
    if (!convertPicture(s, frame, area.height(), s.scratch))
        return false;
    drawPicture(surface, s.scratch, area, info.dest, clip);
    return true;
}

bool VideoStreams::convertPicture(const Stream& s, const DecodedFrame& frame, int shownRows, Pixmap& out) {
    if (out.width != frame.width() || out.height != frame.height())
        out = Pixmap(frame.width(), frame.height());
    if (!converter_->convertShown(frame, out.pixels, out.width, shownRows,
                                  FrameConverter::rowOrder(s.topDown))) {
        warnUnconverted(s, frame);
        return false;
    }
    return true;
}

void VideoStreams::warnUnconverted(const Stream& s, const DecodedFrame& frame) {
    qCWarning(lcDisplay) << "stream" << s.id << "frame of" << sizeOf(frame) << pixelFormatName(frame.format())
                         << "could not be converted";
}

void VideoStreams::drawPicture(Surface& surface, const Pixmap& picture, const QRect& area, const QRect& dest,
                               const ClipRegion& clip) {
    Source src;
    src.kind = Source::Kind::Image;
    src.image = &picture;
    src.area = area;
    src.smooth = true;
    Canvas canvas(surface.pixmap, surface.hasAlpha());
    QMutexLocker lock(&surface.mutex);
    canvas.draw(clip, dest, src, RopDescriptor{SPICE_ROPD_OP_PUT});
}

} // namespace saffron
