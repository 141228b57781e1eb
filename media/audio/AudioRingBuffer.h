#pragma once

#include <atomic>
#include <cstdint>
#include <span>
#include <vector>

namespace saffron {

// Bounded single-producer / single-consumer queue of interleaved S16 frames. The producer is the
// session thread (AudioPlayback::write), the consumer the PipeWire process callback, which must
// never block or allocate: both sides only touch their own index and an atomic acquire/release
// pair, no mutex. Whole frames only, so a channel can never shift by one sample.
class AudioRingBuffer {
public:
    AudioRingBuffer(size_t capacityFrames, uint32_t channels);

    // Producer: appends as many whole frames of `samples` as fit and returns how many frames
    // were taken. A trailing partial frame is ignored (the caller checks sizes).
    size_t write(std::span<const int16_t> samples);
    // Consumer: copies up to `out.size() / channels` frames out, returns the frames copied.
    size_t read(std::span<int16_t> out);
    // Consumer: throws away up to `frames` frames (used to cut latency after a stall).
    size_t discard(size_t frames);

    // Frames queued now; exact for the consumer, a snapshot for anyone else.
    size_t fillFrames() const;
    size_t capacityFrames() const { return m_capacityFrames; }
    uint32_t channels() const { return m_channels; }

private:
    const size_t m_capacityFrames;
    const uint32_t m_channels;
    std::vector<int16_t> m_data;
    // Monotonic frame counters; fill = written - read. 64 bits never wrap in practice.
    std::atomic<uint64_t> m_written{0};
    std::atomic<uint64_t> m_read{0};
};

} // namespace saffron
