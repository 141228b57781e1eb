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
// num_drops those that arrived after their presentation time or were not shown (refused by a
// decoder that cannot keep up, superseded in lip-sync mode); last_frame_delay is the last frame's
// mm-time minus the client's mm-time when it arrived. A late arrival is a drop even when low
// latency mode shows it: spice-server's rate control (gstreamer-encoder.c, client stream report
// handling) reads drops as "the link or the client cannot keep up" and lowers the bit rate, as
// it does for spice-gtk, which counts exactly the late arrivals. Three late arrivals in a row
// are reported at once, without waiting for the window to fill.
// A stream the client cannot decode at all is reported once as num_frames 0, num_drops
// 0xffffffff. Pure logic: the caller supplies times.
class StreamReporter {
public:
    StreamReporter(uint32_t streamId) : streamId_(streamId) {}

    // Returns the "cannot decode" report right away when `decodable` is false.
    std::optional<StreamReport> activate(uint32_t uniqueId, uint32_t maxWindow, uint32_t timeoutMs,
                                         bool decodable);
    bool active() const { return active_; }

    // Whether a frame with this delay arrived after its presentation time.
    static bool arrivesLate(int32_t delay) { return delay < 0; }
    // Late arrivals in a row that are reported at once.
    static constexpr uint32_t kLateRunReport = 3;

    // A frame arrived (stamped frameMmTime, `delay` = frameMmTime - client mm-time, in ms) at local
    // time nowMs; `dropped` when it will not be shown. Returns a report when the window is full,
    // its time is up, or kLateRunReport frames in a row came late.
    std::optional<StreamReport> frameArrived(uint32_t frameMmTime, int32_t delay, bool dropped,
                                             int64_t nowMs);
    // A frame that arrived in time is dropped later (superseded at presentation time).
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
    uint32_t lateRun_ = 0;       // late arrivals in a row
};

} // namespace saffron
