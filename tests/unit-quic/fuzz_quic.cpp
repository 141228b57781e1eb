// libFuzzer target for decodeQuic. The input is a QUIC payload exactly as a server sends it
// (the BinaryData bytes after their u32 size), so captured payloads are valid seeds.
//
// The expected size, which the display channel takes from the ImageDescriptor, is read from
// the payload's own header (words 3 and 4) so that the fuzzer gets past the size check. Sizes
// above 256 kpixel are replaced by 64x64 instead: that still exercises the mismatch path, and
// keeps a mutated header from making every run allocate hundreds of megabytes.
//
// Each input is decoded twice, by decodeQuic and by detail::decodeQuicBaseline, and the two
// must agree.
#include "codecs/QuicDecoder.h"
#include "wire/ProtocolError.h"

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace {

uint32_t wordAt(std::span<const uint8_t> in, size_t offset) {
    return uint32_t(in[offset]) | uint32_t(in[offset + 1]) << 8 | uint32_t(in[offset + 2]) << 16 |
           uint32_t(in[offset + 3]) << 24;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
    const std::span<const uint8_t> in(bytes, size);
    uint32_t width = 64;
    uint32_t height = 64;
    if (in.size() >= 20) {
        width = wordAt(in, 12);
        height = wordAt(in, 16);
        if (uint64_t(width) * height > (1u << 18)) {
            width = 64;
            height = 64;
        }
    }
    // Both builds of the decoder's inner loop (see saffron::detail::decodeQuicBaseline) run on
    // every input and must agree: the same pixels, or both a ProtocolError.
    std::vector<uint32_t> pixels[2];
    bool rejected[2] = {false, false};
    for (int build = 0; build < 2; ++build) {
        try {
            const saffron::Pixmap p = build == 0 ? saffron::decodeQuic(in, width, height)
                                                 : saffron::detail::decodeQuicBaseline(in, width, height);
            if (p.width != int(width) || p.height != int(height) || p.pixels.size() != size_t(width) * height)
                __builtin_trap();
            pixels[build] = p.pixels;
        } catch (const saffron::ProtocolError&) {
            rejected[build] = true;
        }
    }
    if (rejected[0] != rejected[1] || pixels[0] != pixels[1])
        __builtin_trap();
    return 0;
}
