#pragma once

#include <cstdint>
#include <string>

namespace saffron {

// The PCM layout every audio class here speaks: signed 16-bit little-endian, channels
// interleaved (SPICE_AUDIO_FMT_S16 is the only sample format the SPICE protocol defines).
struct AudioFormat {
    uint32_t rate = 48000;
    uint32_t channels = 2;

    // Limits for anything that reaches us from a server or a configuration file. SPICE servers
    // send 44100 or 48000 Hz stereo; we accept 8 kHz .. 192 kHz and 1 .. 8 channels so that a
    // hostile START message cannot make us allocate absurd buffers or hand PipeWire nonsense.
    static constexpr uint32_t kMinRate = 8000;
    static constexpr uint32_t kMaxRate = 192000;
    static constexpr uint32_t kMaxChannels = 8;

    // Empty when usable, otherwise why not ("rate 7 Hz is outside 8000..192000").
    std::string validate() const;

    size_t bytesPerFrame() const { return size_t(channels) * sizeof(int16_t); }
    // Frames in `ms` milliseconds (rounded down).
    size_t framesFor(uint32_t ms) const { return size_t(rate) * ms / 1000; }
    double framesToMs(double frames) const { return frames * 1000.0 / rate; }

    bool operator==(const AudioFormat&) const = default;
};

// SPICE volumes are uint16 per channel, 0 = silent, 65535 = full scale (spice.proto: VOLUME
// messages). PipeWire's channelVolumes are linear amplitude factors; we map linearly, which is
// what the guest mixer's value means to QEMU's own audio backends.
inline float spiceVolumeToGain(uint16_t volume) {
    return float(volume) / 65535.0f;
}

} // namespace saffron
