#include "streams/StreamReporter.h"

#include "wire/Writer.h"

namespace saffron {

std::vector<uint8_t> StreamReport::encode() const {
    Writer w;
    w.u32(streamId).u32(uniqueId).u32(startFrameMmTime).u32(endFrameMmTime).u32(numFrames).u32(numDrops);
    w.i32(lastFrameDelay).u32(audioDelay);
    return w.take();
}

std::optional<StreamReport> StreamReporter::activate(uint32_t uniqueId, uint32_t maxWindow,
                                                     uint32_t timeoutMs, bool decodable) {
    uniqueId_ = uniqueId;
    // spice-server never asks for an empty window; a hostile 0 must not make us report per frame
    // forever at no cost to it, so treat it as 1 (and no timeout as a long one).
    maxWindow_ = maxWindow == 0 ? 1 : maxWindow;
    timeoutMs_ = timeoutMs == 0 ? 1000 : timeoutMs;
    windowStartMs_ = -1;
    lateRun_ = 0;
    window_ = StreamReport{};
    if (!decodable) {
        active_ = false;
        StreamReport r;
        r.streamId = streamId_;
        r.uniqueId = uniqueId;
        r.numFrames = 0;
        r.numDrops = 0xffffffffu;
        r.audioDelay = audioDelay_;
        return r;
    }
    active_ = true;
    return std::nullopt;
}

std::optional<StreamReport> StreamReporter::frameArrived(uint32_t frameMmTime, int32_t delay, bool dropped,
                                                         int64_t nowMs) {
    if (!active_)
        return std::nullopt;
    if (windowStartMs_ < 0) {
        windowStartMs_ = nowMs;
        window_.startFrameMmTime = frameMmTime;
    }
    window_.endFrameMmTime = frameMmTime;
    window_.lastFrameDelay = delay;
    ++window_.numFrames;
    const bool late = arrivesLate(delay);
    if (dropped || late)
        ++window_.numDrops;
    lateRun_ = late ? lateRun_ + 1 : 0;
    if (lateRun_ >= kLateRunReport) {
        lateRun_ = 0;
        return finish();
    }
    if (window_.numFrames >= maxWindow_ || nowMs - windowStartMs_ >= int64_t(timeoutMs_))
        return finish();
    return std::nullopt;
}

std::optional<StreamReport> StreamReporter::poll(int64_t nowMs) {
    if (!active_ || windowStartMs_ < 0 || nowMs - windowStartMs_ < int64_t(timeoutMs_))
        return std::nullopt;
    return finish();
}

std::optional<StreamReport> StreamReporter::finish() {
    StreamReport r = window_;
    r.streamId = streamId_;
    r.uniqueId = uniqueId_;
    r.audioDelay = audioDelay_;
    if (r.numDrops > r.numFrames)
        r.numDrops = r.numFrames; // late drops of frames counted in an earlier window
    window_ = StreamReport{};
    windowStartMs_ = -1;
    return r;
}

} // namespace saffron
