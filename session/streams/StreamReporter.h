#pragma once

#include <cstdint>
#include <optional>
#include <vector>

namespace saffron {

// SPICE_MSGC_DISPLAY_STREAM_REPORT (spice.proto DisplayChannel client "stream_report"): the body
// the client sends so that spice-server's video encoder can adapt its bitrate and frame rate
// (server/video-stream.cpp, video_stream_report_handle).
struct StreamReport {
    uint32_t streamId = 0;
    uint32_t uniqueId = 0;
    uint32_t startFrameMmTime = 0;
    uint32_t endFrameMmTime = 0;
    uint32_t numFrames = 0;
    uint32_t numDrops = 0;
    int32_t lastFrameDelay = 0;
    uint32_t audioDelay = 0xffffffffu; // no audio playback
    std::vector<uint8_t> encode() const;
};

// Collects the per-stream figures between two reports. The server starts reporting with
// STREAM_ACTIVATE_REPORT (stream id, unique id, max_window_size frames, timeout_ms) and expects a
// report once max_window_size frames have arrived or timeout_ms has passed since the first frame
// of the window, whichever comes first. num_frames counts frames that reached the client,
// num_drops those of them it dropped (arrived too late, or refused by a decoder that cannot keep
// up); last_frame_delay is the last frame's mm-time minus the client's mm-time when it arrived.
// A stream the client cannot decode at all is reported once as num_frames 0, num_drops
// 0xffffffff. Pure logic: the caller supplies times.
class StreamReporter {
public:
    StreamReporter(uint32_t streamId) : streamId_(streamId) {}

    // Returns the "cannot decode" report right away when `decodable` is false.
    std::optional<StreamReport> activate(uint32_t uniqueId, uint32_t maxWindow, uint32_t timeoutMs,
                                         bool decodable);
    bool active() const { return active_; }

    // A frame arrived (stamped frameMmTime, `delay` = frameMmTime - client mm-time, in ms) at local
    // time nowMs; `dropped` when it will not be shown. Returns a report when the window is full
    // or its time is up.
    std::optional<StreamReport> frameArrived(uint32_t frameMmTime, int32_t delay, bool dropped,
                                             int64_t nowMs);
    // A frame that was counted as arriving is dropped later (late at presentation time).
    void frameDroppedLate() { ++window_.numDrops; }
    // Timer check without a new frame (a stream that stalls still reports within timeout_ms).
    std::optional<StreamReport> poll(int64_t nowMs);

    void setAudioDelay(uint32_t ms) { audioDelay_ = ms; }

private:
    std::optional<StreamReport> finish();

    uint32_t streamId_;
    bool active_ = false;
    uint32_t uniqueId_ = 0;
    uint32_t maxWindow_ = 0;
    uint32_t timeoutMs_ = 0;
    uint32_t audioDelay_ = 0xffffffffu;
    StreamReport window_;
    int64_t windowStartMs_ = -1; // local time of the window's first frame, -1 when empty
};

} // namespace saffron
