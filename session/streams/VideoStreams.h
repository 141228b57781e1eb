#pragma once

#include "SessionOptions.h"
#include "display/Canvas.h"
#include "display/DisplayMessages.h"
#include "display/Pixmap.h"
#include "display/Surface.h"
#include "link/Capabilities.h"
#include "streams/MultimediaClock.h"
#include "streams/StreamReporter.h"
#include "streams/VideoStats.h"
#include "wire/Reader.h"

#include <QElapsedTimer>
#include <QObject>
#include <QRect>
#include <QTimer>
#include <deque>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <optional>
#include <span>

namespace saffron {

class DecodedFrame;
class FrameConverter;
class VideoDecoder;
class VideoDecoderPool;
enum class VideoCodec;

// The video streams of one display channel (spice.proto DisplayChannel stream_* messages):
// spice-server detects regions that change like video and sends them as a stream of encoded
// frames (MJPEG, VP8, VP9, H.264, H.265) instead of images. Each stream gets a pooled
// GStreamer decoder from media/ (hardware first); decoded pictures come back on a GStreamer
// thread, are handed to the session thread (MJPEG without a hardware decoder, when its pictures
// end up RGB anyway, is decoded there by libjpeg-turbo straight to RGB instead), scheduled by
// their multimedia time and either drawn
// into the stream's surface with its clip (CPU conversion through FrameConverter, straight
// into the surface memory when the frame covers its destination 1:1) or, in layer mode, handed
// to the front end as a YUV layer above the surface. Stream reports go back to the server so
// that it adapts the bitrate.
//
// Presentation timing: spice-server stamps frames with an mm-time in the future (its latency
// margin, ~400 ms on QEMU) so that clients can keep lip-sync with audio. While audio plays, a
// frame waits until the sound of its mm-time is heard (MultimediaClock's audio anchor), which
// keeps lip-sync at the cost of the audio buffer only. Without sound, low-latency mode (the
// default) shows a frame as soon as it is decoded, and lip-sync mode waits for the server's
// mm-time. Of several frames that are due only the newest is drawn.
//
// Lives on the session thread; the display channel forwards the stream messages.
class VideoStreams : public QObject {
    Q_OBJECT
public:
    struct Host {
        std::function<SurfacePtr(uint32_t surfaceId)> surface;
        std::function<void(uint16_t type, const std::vector<uint8_t>& body)> send;
        // Marks a surface area as drawn; flush() then publishes what was drawn outside a
        // message batch (frames are presented from decoder callbacks and timers).
        std::function<void(const Surface& surface, const QRect& rect)> touched;
        // A surface's video layers changed (layer mode); published by flush() too.
        std::function<void(const Surface& surface)> layersChanged;
        std::function<void()> flush;
    };

    VideoStreams(Host host, const SessionOptions& options, std::shared_ptr<const MultimediaClock> clock,
                 QObject* parent = nullptr);
    ~VideoStreams() override;

    // Starts probing the decoders on worker threads (the first time in the process), so that
    // the display channel's link, which needs the results, does not wait for them: the session
    // calls it before it connects and opens the display channel once the future is ready (or a
    // few seconds have passed). Waiting on the future is only needed before exiting.
    // `done` runs on the probing thread when the last probe has finished.
    static std::shared_future<void> probeInBackground(const SessionOptions& options,
                                                      std::function<void()> done = {});
    // Initialises GStreamer on a thread of its own (see Session::warmUp).
    static std::future<void> warmUp();
    // MULTI_CODEC, STREAM_REPORT and CODEC_* for each codec a decoder here handles. Never waits:
    // a codec whose probe is still running is not offered.
    static void addCapabilities(Capabilities& caps, const SessionOptions& options);
    // SPICE_VIDEO_CODEC_TYPE_* in the order to ask the server for (PREFERRED_VIDEO_CODEC_TYPE):
    // the user's order when configured, else hardware-decodable codecs first, else the cheapest
    // to decode in software. Only decodable codecs appear.
    static std::vector<uint8_t> preferredCodecs(const SessionOptions& options);

    void handleCreate(Reader& r);
    void handleData(Reader& r, bool sized);
    void handleClip(Reader& r);
    void handleDestroy(uint32_t id);
    void handleDestroyAll();
    void handleActivateReport(Reader& r);
    void surfaceDestroyed(uint32_t surfaceId);

    void setLowLatency(bool on) { lowLatency_ = on; }
    // Layer mode: pictures of streams on the primary surface are not converted into it but
    // published as the surface's VideoLayers for the front end to composite: as decoded (Yuv, a
    // GPU converts them) or converted to RGB pictures of their own (Rgb). Turning it off writes
    // the pictures still shown as layers into their surfaces.
    void setLayerMode(VideoLayerMode mode);
    VideoLayerMode layerMode() const { return layerMode_; }
    // Rgb mode composites one picture per clip rectangle: a stream clipped into more pieces than
    // this is drawn into the surface instead (spice-server clips with a handful).
    static constexpr size_t kMaxRgbLayerRects = 64;
    // Before a draw on `surfaceId` covering `area`: a layer picture there is written into the
    // surface first and hidden until the stream's next frame, so the draw lands on the picture it
    // would have landed on without layers, and shows.
    void beforeDraw(uint32_t surfaceId, const QRect& area);
    // Before the surface's pixels are read (copy-bits, a draw from that surface): layer pictures
    // are written into it; the layers stay shown.
    void beforeRead(uint32_t surfaceId);
    // The audio playback latency (ms) for stream reports' audio_delay; nullopt while no audio
    // plays.
    void setAudioDelaySource(std::function<std::optional<uint32_t>()> source) {
        audioDelay_ = std::move(source);
    }
    bool lowLatency() const { return lowLatency_; }
    size_t streamCount() const { return streams_.size(); }
    VideoStats stats() const;

private:
    struct FrameInfo {
        uint32_t mmTime = 0;
        qint64 arrivalNs = 0;
        QRect dest;
        QSize encoded;             // the frame size the server declared (stream width x height)
        QSize source;              // the part of the frame to show (src_width x src_height)
        bool reportedLate = false; // already a drop in the stream report (StreamReporter)
    };
    // A decoded picture waiting to be shown: a decoder's `frame`, or an `rgb` picture libjpeg-turbo
    // decoded straight from an MJPEG frame (see decodeJpegFrame).
    struct Scheduled {
        std::shared_ptr<const DecodedFrame> frame;
        std::shared_ptr<Pixmap> rgb;
        FrameInfo info;
        uint64_t decodeNs = 0;
    };
    struct Stream;

    void acquireDecoder(Stream& s);
    // MJPEG while the pictures end up as RGB anyway (layer mode Off or Rgb) and the chosen
    // decoder is software: libjpeg-turbo decodes to RGB itself, on this thread.
    bool decodesJpegDirectly(const Stream& s) const;
    // False when the frame was not decoded (logged).
    bool decodeJpegFrame(Stream& s, std::span<const uint8_t> data, const FrameInfo& info);
    // A decoded picture (either way) joins the stream's queue; presentDue decides when it shows.
    void schedule(Stream& s, Scheduled item);
    void onDecoded(uint32_t id, uint64_t serial, std::shared_ptr<const DecodedFrame> frame);
    void onDecodeError(uint32_t id, uint64_t serial, const QString& message);
    void presentDue(Stream& s);
    // Milliseconds from now to `mmTime` on the server's clock (negative: past); 0 without a clock.
    int32_t untilDue(uint32_t mmTime) const;
    // Milliseconds until a frame stamped `mmTime` is due (<= 0: now), see the class comment.
    int32_t waitBeforePresenting(uint32_t mmTime) const;
    void present(Stream& s, Scheduled item);
    // Whether a decoded picture of `picture` size may be shown for `info`'s frame (warns if not).
    static bool fitsDeclaredSize(const Stream& s, QSize picture, const FrameInfo& info);
    bool drawIntoSurface(Stream& s, Surface& surface, const DecodedFrame& frame, const FrameInfo& info,
                         const ClipRegion& clip);
    // `frame` at its own size into `out` (sized to fit), its first `shownRows` rows top-down;
    // false if the conversion failed (logged).
    bool convertPicture(const Stream& s, const DecodedFrame& frame, int shownRows, Pixmap& out);
    static void warnUnconverted(const Stream& s, const DecodedFrame& frame);
    // A converted picture's `area` onto `dest` of the surface, under `clip`.
    static void drawPicture(Surface& surface, const Pixmap& picture, const QRect& area, const QRect& dest,
                            const ClipRegion& clip);
    // Layer mode: writes the picture shown as s's layer into the surface (once per picture);
    // `hide` also takes the layer down until the next frame.
    void settleLayer(Stream& s, bool hide);
    void publishLayer(Stream& s, Surface& surface);
    enum class Picture { Keep, Drop };
    void erase(std::map<uint32_t, std::unique_ptr<Stream>>::iterator it, Picture picture = Picture::Keep);
    void pollReports();
    void sendReport(std::optional<StreamReport> report);

    Host host_;
    const SessionOptions& options_;
    std::shared_ptr<const MultimediaClock> clock_;
    bool lowLatency_ = true;
    VideoLayerMode layerMode_ = VideoLayerMode::Off;
    std::function<std::optional<uint32_t>()> audioDelay_;
    QElapsedTimer monotonic_;
    QTimer reportTimer_;
    uint64_t nextSerial_ = 1;
    VideoStats stats_;
    std::unique_ptr<FrameConverter> converter_;
    // Declared before streams_: streams return their decoders to it when they go.
    std::unique_ptr<VideoDecoderPool> pool_;
    std::map<uint32_t, std::unique_ptr<Stream>> streams_;
};

} // namespace saffron
