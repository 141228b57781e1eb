// libFuzzer target for decodeJpegAlpha. Input layout:
//   [0..1] width   uint16 little-endian (the ImageDescriptor's)
//   [2..3] height  uint16 little-endian
//   rest   JPEGAlphaData as on the wire: flags, jpeg_size, data_size, JPEG + LZ XXXA stream
#include "codecs/JpegAlphaDecoder.h"
#include "wire/ProtocolError.h"

#include <cstddef>
#include <cstdint>
#include <span>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
    const std::span<const uint8_t> in(bytes, size);
    if (in.size() < 4)
        return 0;
    const uint32_t width = uint32_t(in[0]) | uint32_t(in[1]) << 8;
    const uint32_t height = uint32_t(in[2]) | uint32_t(in[3]) << 8;
    try {
        const saffron::Pixmap p = saffron::decodeJpegAlpha(in.subspan(4), width, height);
        if (p.pixels.size() != size_t(width) * height || !p.hasAlpha)
            __builtin_trap();
    } catch (const saffron::ProtocolError&) {
    }
    return 0;
}
