#include "SessionRates.h"

#include <algorithm>

namespace saffron {

namespace {

quint64 grown(quint64 before, quint64 after) {
    return after - std::min(before, after);
}

double perItemMs(quint64 ns, quint64 items) {
    return items ? double(ns) / 1e6 / double(items) : 0.0;
}

} // namespace

quint64 bytesIn(const SessionInfo& info) {
    quint64 total = 0;
    for (const ChannelInfo& c : info.channels)
        total += c.stats.bytesIn;
    return total;
}

SessionRates sessionRates(const SessionInfo& before, const SessionInfo& after, double seconds) {
    SessionRates r;
    r.seconds = std::max(0.001, seconds);
    r.bytesIn = grown(bytesIn(before), bytesIn(after));
    r.bytesPerSecond = double(r.bytesIn) / r.seconds;
    r.draws = grown(before.display.draws, after.display.draws);
    r.drawsPerSecond = double(r.draws) / r.seconds;
    r.decodeNs = grown(before.display.decodeNs, after.display.decodeNs);
    r.decodeMsPerDraw = perItemMs(r.decodeNs, r.draws);
    r.streamFrames = grown(before.display.streamFrames, after.display.streamFrames);

    const VideoStats& v0 = before.display.video;
    const VideoStats& v1 = after.display.video;
    SessionRates::Video& v = r.video;
    v.streams = grown(v0.streamsCreated, v1.streamsCreated);
    v.decoded = grown(v0.framesDecoded, v1.framesDecoded);
    v.presented = grown(v0.framesPresented, v1.framesPresented);
    v.asLayer = grown(v0.framesAsLayer, v1.framesAsLayer);
    v.receivedPerSecond = double(grown(v0.framesReceived, v1.framesReceived)) / r.seconds;
    v.decodedPerSecond = double(v.decoded) / r.seconds;
    v.presentedPerSecond = double(v.presented) / r.seconds;
    v.dropsDecoder = grown(v0.dropsDecoder, v1.dropsDecoder);
    v.dropsLate = grown(v0.dropsLate, v1.dropsLate);
    v.decodedLate = grown(v0.decodedLate, v1.decodedLate);
    v.decodeErrors = grown(v0.decodeErrors, v1.decodeErrors);
    v.decodeMs = perItemMs(grown(v0.decodeNs, v1.decodeNs), v.decoded);
    v.queueMs = perItemMs(grown(v0.queueNs, v1.queueNs), v.presented);
    v.renderMs = perItemMs(grown(v0.renderNs, v1.renderNs), v.presented);
    v.arrivalToPresentMs = perItemMs(grown(v0.arrivalToPresentNs, v1.arrivalToPresentNs), v.presented);
    v.arrivalToPresentMaxMs = double(v1.arrivalToPresentMaxNs) / 1e6;
    v.lipSynced = grown(v0.framesLipSynced, v1.framesLipSynced);
    // The sum is signed: a counter reset (channel re-created) shows as a window without any.
    v.avOffsetMs = v.lipSynced && v1.framesLipSynced >= v0.framesLipSynced
                       ? double(v1.avOffsetMsSum - v0.avOffsetMsSum) / double(v.lipSynced)
                       : 0;
    v.avOffsetMaxAbsMs = double(v1.avOffsetMsMaxAbs);
    v.decoders = v1.decoders;
    return r;
}

} // namespace saffron
