// libFuzzer: Opus packets as they arrive in SPICE PLAYBACK_DATA (mode OPUS) go straight into
// OpusPacketDecoder. Input: first byte picks the output room (so undersized buffers are
// exercised), the rest is split into packets by a 2-byte little-endian length prefix.

#include "audio/OpusCodec.h"

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static std::string error;
    static auto decoder = saffron::OpusPacketDecoder::create({48000, 2}, error);
    if (!decoder || size < 1) {
        return 0;
    }
    const size_t roomFrames = size_t(data[0]) * 24; // 0 .. 6120 frames (0 .. 127 ms)
    std::vector<int16_t> out(roomFrames * 2);
    std::span<const uint8_t> rest(data + 1, size - 1);
    while (rest.size() >= 2) {
        const size_t length = size_t(rest[0]) | size_t(rest[1]) << 8;
        rest = rest.subspan(2);
        const size_t take = std::min(length, rest.size());
        const int frames = decoder->decode(rest.first(take), std::span<int16_t>(out), error);
        if (frames > int(roomFrames)) {
            __builtin_trap(); // decoded more than the room we gave it
        }
        rest = rest.subspan(take);
    }
    return 0;
}
