#pragma once

#include "Session.h"

namespace saffron {

// What happened between two SessionInfo snapshots, as totals and per-second rates. The shell's
// statistics overlay and `saffron-cli stats` both read their figures from here, so the two never
// disagree about what "decode ms" or "fps" means.
struct SessionRates {
    double seconds = 0;
    quint64 bytesIn = 0; // every channel
    double bytesPerSecond = 0;
    quint64 draws = 0;
    double drawsPerSecond = 0;
    double decodeMsPerDraw = 0; // image decoding, over draws
    quint64 decodeNs = 0;
    quint64 streamFrames = 0;

    struct Video {
        quint64 streams = 0;
        quint64 presented = 0;
        quint64 decoded = 0;
        quint64 asLayer = 0; // of presented: handed to the front end as YUV layers
        double receivedPerSecond = 0;
        double decodedPerSecond = 0;
        double presentedPerSecond = 0;
        quint64 dropsDecoder = 0;
        quint64 dropsLate = 0;
        quint64 decodedLate = 0; // of decoded: ready after their mm-time, reported late
        quint64 decodeErrors = 0;
        double decodeMs = 0;              // per decoded frame
        double queueMs = 0;               // per presented frame
        double renderMs = 0;              // per presented frame
        double arrivalToPresentMs = 0;    // per presented frame
        double arrivalToPresentMaxMs = 0; // the session's maximum so far, not the window's
        quint64 lipSynced = 0;            // of presented: scheduled by the sound being heard
        double avOffsetMs = 0;            // per lip-synced frame, video late positive
        double avOffsetMaxAbsMs = 0;      // the session's maximum so far
        QString decoders;
    } video;
};

// `seconds` is the caller's measured window (clamped to at least 1 ms). Counters that went
// backwards (a display channel re-created between the snapshots) count as zero, never as a
// wrapped-around huge number.
SessionRates sessionRates(const SessionInfo& before, const SessionInfo& after, double seconds);
// Bytes received so far on every channel of the session.
quint64 bytesIn(const SessionInfo& info);

} // namespace saffron
