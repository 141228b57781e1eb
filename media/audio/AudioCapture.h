#pragma once

#include "AudioFormat.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>

namespace saffron {

struct AudioCaptureOptions {
    AudioFormat format;
    // Source to record from: node.name or object.serial; empty = the default source (following
    // default changes). With captureSinkMonitor, `target` names a sink and we record what is
    // played into it (its monitor).
    std::string target;
    bool captureSinkMonitor = false;
    // Never moved by the session manager (node.dont-reconnect). Without it WirePlumber, like
    // PulseAudio, makes a stream whose target happens to be the default follow the default when
    // it changes; with it the stream ends if its target goes away. For taps on one node (a
    // sink's monitor in tests and benches), not for the session's microphone.
    bool pinToTarget = false;
    std::string remote; // PipeWire socket name; empty = default
    std::string streamName = "SPICE record";
    uint32_t quantumFrames = 480; // node.latency asked of the graph (10 ms at 48 kHz)
};

struct AudioCaptureStats {
    uint64_t framesCaptured = 0; // delivered to the callback
    uint64_t callbacks = 0;
    bool streaming = false;
};

// Records interleaved S16LE PCM from PipeWire (pw_thread_loop + pw_stream, native API).
//
// `onData` runs on PipeWire's realtime data thread, once per graph cycle, with whole frames
// (typically one quantum). It must be quick and must not block (copy into a queue, post to the
// session thread) and must not call back into this AudioCapture. The span is valid only during
// the call. setVolume(), setMute(), stats(), error() may be called from any thread.
class AudioCapture {
public:
    using DataCallback = std::function<void(std::span<const int16_t> samples)>;

    // Returns null with a readable `error` for invalid options or when no PipeWire daemon is
    // reachable. Capture starts at once.
    static std::unique_ptr<AudioCapture> create(const AudioCaptureOptions& options, DataCallback onData,
                                                std::string& error);
    ~AudioCapture();
    AudioCapture(const AudioCapture&) = delete;
    AudioCapture& operator=(const AudioCapture&) = delete;

    // SPICE volumes (0..65535), one per channel (last value repeats), applied to the stream.
    void setVolume(std::span<const uint16_t> volumes);
    void setMute(bool mute);

    AudioCaptureStats stats() const;
    const AudioCaptureOptions& options() const;
    std::string error() const;

private:
    struct Impl;
    explicit AudioCapture(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> m_impl;
};

} // namespace saffron
