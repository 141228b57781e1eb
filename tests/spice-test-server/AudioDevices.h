#pragma once

#include "AudioOptions.h"

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <spice.h>
#include <string>
#include <vector>

namespace saffron::testserver {

class EventLoop;

// The sound card of our test guest: a SpicePlaybackInstance that plays a known signal (a sine,
// or silence with clicks whose submission times are logged) paced by its own clock, and a
// SpiceRecordInstance that measures what the client records (spice-audio.h). Everything runs on
// the main loop: spice-server 0.15 expects the playback/record calls from its main thread.
class AudioDevices {
public:
    AudioDevices(SpiceServer* server, EventLoop& loop, AudioOptions options);
    ~AudioDevices();
    AudioDevices(const AudioDevices&) = delete;
    AudioDevices& operator=(const AudioDevices&) = delete;

    // Adds the interfaces the options ask for and starts their timers. False when the server
    // refuses one.
    bool attach();

    // stdin commands (see README.md). False when the verb is not an audio one.
    bool command(std::string_view verb, std::string_view arg);

private:
    struct FileCloser {
        void operator()(std::FILE* f) const { std::fclose(f); }
    };
    using Clock = std::chrono::steady_clock; // CLOCK_MONOTONIC on Linux

    void pumpPlayback();
    void pumpRecord();
    // Fills `frames` stereo frames starting at our frame index `first`; returns the index of a
    // click that starts inside them, or -1.
    int64_t generate(uint32_t* out, uint32_t frames, uint64_t first) const;
    void reportRecord();

    SpiceServer* server_;
    EventLoop& loop_;
    AudioOptions options_;
    // spice-server keeps pointers to the instances (and through them to the interfaces) until
    // spice_server_destroy: the TestServer destroys the server before this object.
    SpicePlaybackInstance playback_{};
    SpiceRecordInstance record_{};
    bool playbackAttached_ = false;
    bool recordAttached_ = false;
    SpiceTimer* playbackTimer_ = nullptr;
    SpiceTimer* recordTimer_ = nullptr;

    Clock::time_point start_;
    uint64_t produced_ = 0;      // frames generated since start_ (put or dropped)
    uint64_t dropped_ = 0;       // generated while nobody could take them (no client, no free frame)
    uint64_t markers_ = 0;       // clicks submitted
    uint32_t chunkFrames_ = 480; // what get_buffer last handed out: spice-server frames are 10 ms
    std::unique_ptr<std::FILE, FileCloser> markerLog_;

    std::vector<int16_t> recorded_; // left channel of what the client sent since record-reset
    uint64_t recordedTotal_ = 0;
    Clock::time_point recordSince_;
};

} // namespace saffron::testserver
