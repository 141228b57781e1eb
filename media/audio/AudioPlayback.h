#pragma once

#include "AudioFormat.h"

#include <cstdint>
#include <memory>
#include <span>
#include <string>

namespace saffron {

struct AudioPlaybackOptions {
    AudioFormat format;
    // Sink to play into: a node.name or object.serial. Empty = the session manager's default sink,
    // and the stream follows the default when the user changes it (WirePlumber moves streams that
    // have no target of their own).
    std::string target;
    // PipeWire socket name; empty = PipeWire's default ($PIPEWIRE_REMOTE, else "pipewire-0").
    std::string remote;
    std::string streamName = "SPICE playback";
    // Buffering: playback starts (and restarts after an underrun) once the target is queued; the
    // rate correction then keeps the queue within target +/- bandMs (the band is how far the
    // controller lets the fill wander while it learns the clock offset, ~+/-20 ms under load,
    // whatever the target). `capacityMs` bounds the queue: anything beyond is dropped (counted
    // as overflow).
    //
    // The target starts at `targetMs` (or what the server asks for, see setTargetMs) and adapts
    // to the network's jitter: each underrun raises it by `underrunStepMs`, up to `maxTargetMs`;
    // every `relaxAfterSeconds` without an underrun lowers it by 5 ms again, never below where
    // it started. A LAN or loopback session keeps the low start; a jittery Wi-Fi link settles
    // where it stops dropping out. underrunStepMs = 0 keeps the target fixed.
    uint32_t targetMs = 30;
    uint32_t bandMs = 30;
    uint32_t capacityMs = 500;
    uint32_t underrunStepMs = 20;
    uint32_t maxTargetMs = 200;
    uint32_t relaxAfterSeconds = 60;
    // Where an earlier stream of the same session left the adapted target (0 = targetMs): the
    // guest closes and reopens its sound device between sounds, and each new stream should not
    // have to hear the same dropouts again to learn the link's jitter.
    uint32_t startTargetMs = 0;
    // Graph quantum we ask for (node.latency), in frames at format.rate: 10 ms at 48 kHz.
    uint32_t quantumFrames = 480;
    // Correct clock drift with PipeWire's adaptive resampler (SPA_PROP_rate on the stream).
    bool adaptiveRate = true;
};

struct AudioPlaybackStats {
    double fillMs = 0;            // queued in our ring now
    double smoothedFillMs = 0;    // what the drift controller sees (smoothed)
    double latencyMs = 0;         // ring + PipeWire's own delay to the device
    double correctionRatio = 1.0; // > 1: consuming faster than nominal (buffer too full)
    uint64_t framesWritten = 0;   // accepted by write()
    uint64_t framesPlayed = 0;    // handed to PipeWire (excluding silence we inserted)
    uint64_t overflowFrames = 0;  // refused by write() because the ring was full
    uint64_t skippedFrames = 0;   // thrown away to cut latency after a burst
    uint64_t underruns = 0;       // ring ran dry while playing and data came back within 1 s
                                  // (a gap was heard); a longer silence is a pause, not counted
    uint32_t targetMs = 0;        // the buffering target now (adapted to jitter)
    bool playing = false;         // false while (re)filling to target
    bool streaming = false;       // PipeWire says the stream is running
};

// Plays interleaved S16LE PCM through PipeWire (native API: pw_thread_loop + pw_stream).
//
// Threads: write(), endOfStream(), flush() are for one producer thread (the session's). The
// PipeWire process callback runs on PipeWire's realtime data thread and only touches a lock-free
// ring and atomics. setVolume(), setMute(), stats(), error() may be called from any thread.
class AudioPlayback {
public:
    // Connects to PipeWire and creates the stream. Returns null with a readable `error` when the
    // options are invalid or no PipeWire daemon is reachable; never crashes for a missing daemon.
    static std::unique_ptr<AudioPlayback> create(const AudioPlaybackOptions& options, std::string& error);
    ~AudioPlayback();
    AudioPlayback(const AudioPlayback&) = delete;
    AudioPlayback& operator=(const AudioPlayback&) = delete;

    // Queues samples (interleaved, format.channels per frame; a trailing partial frame is
    // ignored). Returns the frames accepted; the rest did not fit and were dropped.
    size_t write(std::span<const int16_t> samples);
    // The server stopped sending (SPICE PLAYBACK_STOP): what is queued plays out, and running dry
    // afterwards is not counted as an underrun. The next write() starts a new stream.
    void endOfStream();
    // Drops everything queued, now.
    void flush();

    // SPICE volumes, one per channel (0..65535). Fewer values than channels: the last one is
    // repeated; an empty span is ignored.
    void setVolume(std::span<const uint16_t> volumes);
    void setMute(bool mute);
    // This machine's own controls (the shell's menu), on top of the server's: the stream plays at
    // server volume x `gain` (clamped to 0..1), and is silent if either side mutes.
    void setLocalVolume(float gain);
    void setLocalMute(bool mute);
    // Moves the lowest buffering target (SPICE PLAYBACK_LATENCY asks for more audio latency so
    // that video can keep lip sync); jitter may still raise the target above it. Clamped to
    // 10 ms .. capacityMs - 4 x bandMs; returns the value used.
    uint32_t setTargetMs(uint32_t targetMs);

    double latencyMs() const;
    AudioPlaybackStats stats() const;
    const AudioPlaybackOptions& options() const;
    // Empty while fine; otherwise why the stream stopped (daemon gone, stream error).
    std::string error() const;

private:
    struct Impl;
    explicit AudioPlayback(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> m_impl;
};

} // namespace saffron
