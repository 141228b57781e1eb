// libFuzzer target for GlzDictionary: a sequence of GLZ images decoded through one dictionary,
// so that images reference earlier ones, missing ones (never sent, failed, released by the
// window or evicted by the capacity bound) and themselves. Input: records of
//   uint16 width, uint16 height, uint16 length (little-endian), then `length` bytes of GLZ stream
// A small window (4096 pixels) makes eviction frequent.
#include "codecs/GlzDictionary.h"
#include "wire/ProtocolError.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
    std::span<const uint8_t> in(bytes, size);
    saffron::GlzDictionary dictionary(4096);
    while (in.size() >= 6) {
        const uint32_t width = uint32_t(in[0]) | uint32_t(in[1]) << 8;
        const uint32_t height = uint32_t(in[2]) | uint32_t(in[3]) << 8;
        const size_t length = std::min<size_t>(uint32_t(in[4]) | uint32_t(in[5]) << 8, in.size() - 6);
        const auto stream = in.subspan(6, length);
        in = in.subspan(6 + length);
        try {
            const saffron::Pixmap p = dictionary.decode(stream, width, height);
            if (p.pixels.size() != size_t(width) * height)
                __builtin_trap();
        } catch (const saffron::ProtocolError&) {
        }
        if (dictionary.storedPixels() > dictionary.capacityPixels())
            __builtin_trap();
    }
    return 0;
}
