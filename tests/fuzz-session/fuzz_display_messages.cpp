// libFuzzer target for the display channel (session/channels/DisplayChannel and everything it
// draws with: display/*, the image reader, codecs, caches, streams). A DisplayChannel that never
// connects gets messages through Channel::dispatch(), exactly as if they came off a socket.
// Before the input, a valid setup makes the drawing code reachable: a 64x64 xRGB primary
// surface 0, a 32x32 ARGB off-screen surface 1, and an MJPEG stream 1 on surface 0.
//
// Input: records of SessionFuzzing.h over every display message type.
//
// SURFACE_CREATE messages asking for more than 1 Mpx are skipped: the size limits are covered
// by test_hostile_server, and zero-filling hundreds of MiB per input only slows the fuzzer.
#include "SessionFuzzing.h"
#include "SpiceBuilders.h"
#include "channels/DisplayChannel.h"

#include <QLoggingCategory>
#include <spice/enums.h>

using namespace saffron;

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    // No QCoreApplication is needed: nothing here waits on an event loop (signals without
    // receivers, no sockets). Logging every dropped message would dominate the run time.
    QLoggingCategory::setFilterRules(QStringLiteral("*=false"));
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static const std::vector<uint16_t> types = fuzz::displayTypes();
    static const hostile::Bytes setup[] = {
        hostile::surfaceCreate(0, 64, 64, SPICE_SURFACE_FMT_32_xRGB, SPICE_SURFACE_FLAGS_PRIMARY),
        hostile::surfaceCreate(1, 32, 32, SPICE_SURFACE_FMT_32_ARGB, 0),
        hostile::streamCreate(0, 1, SPICE_STREAM_FLAGS_TOP_DOWN, SPICE_VIDEO_CODEC_TYPE_MJPEG, 16, 16, 16, 16,
                              hostile::rectXYWH(0, 0, 16, 16)),
    };
    // Stream messages are parsed and checked, but no GStreamer pipeline is built per input
    // (media/'s fuzz_video_submit fuzzes the decoders): a codec list naming no codec turns
    // video decoding off.
    static const SessionOptions options = [] {
        SessionOptions o;
        o.videoCodecs = QStringList{QStringLiteral("off")};
        return o;
    }();
    DisplayChannel channel(options, 0, nullptr);
    channel.dispatch(SPICE_MSG_DISPLAY_SURFACE_CREATE, setup[0]);
    channel.dispatch(SPICE_MSG_DISPLAY_SURFACE_CREATE, setup[1]);
    channel.dispatch(SPICE_MSG_DISPLAY_STREAM_CREATE, setup[2]);
    if (!channel.primarySurface() || channel.stats().badMessages != 0)
        __builtin_trap();

    fuzz::forEachRecord({data, size}, types, [&](const fuzz::Record& r) {
        if (r.type == SPICE_MSG_DISPLAY_SURFACE_CREATE && r.body.size() >= 12) {
            const uint64_t w = uint64_t(r.body[4]) | uint64_t(r.body[5]) << 8 | uint64_t(r.body[6]) << 16 |
                               uint64_t(r.body[7]) << 24;
            const uint64_t h = uint64_t(r.body[8]) | uint64_t(r.body[9]) << 8 | uint64_t(r.body[10]) << 16 |
                               uint64_t(r.body[11]) << 24;
            if (w * h > (1u << 20) && plausibleImageSize(w, h))
                return;
        }
        channel.dispatch(r.type, r.body);
    });
    // The primary, when there is one, must still be a consistent pixmap.
    if (SurfacePtr p = channel.primarySurface()) {
        if (p->pixmap.pixels.size() != size_t(p->pixmap.width) * size_t(p->pixmap.height))
            __builtin_trap();
    }
    return 0;
}
