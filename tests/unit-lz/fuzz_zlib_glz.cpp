// libFuzzer target for decodeZlibGlz: a sequence of ZLIB_GLZ_RGB images through one GLZ
// dictionary. Input: records of
//   uint16 width, uint16 height, uint16 length (little-endian), then `length` bytes of
//   ZlibGlzRGBData as on the wire (glz_data_size, data_size, zlib data)
#include "codecs/GlzDictionary.h"
#include "wire/ProtocolError.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
    std::span<const uint8_t> in(bytes, size);
    saffron::GlzDictionary dictionary(1u << 16);
    while (in.size() >= 6) {
        const uint32_t width = uint32_t(in[0]) | uint32_t(in[1]) << 8;
        const uint32_t height = uint32_t(in[2]) | uint32_t(in[3]) << 8;
        const size_t length = std::min<size_t>(uint32_t(in[4]) | uint32_t(in[5]) << 8, in.size() - 6);
        const auto wire = in.subspan(6, length);
        in = in.subspan(6 + length);
        try {
            const saffron::Pixmap p = saffron::decodeZlibGlz(wire, width, height, dictionary);
            if (p.pixels.size() != size_t(width) * height)
                __builtin_trap();
        } catch (const saffron::ProtocolError&) {
        }
    }
    return 0;
}
