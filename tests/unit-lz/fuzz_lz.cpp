// libFuzzer target for decodeLz (LZ_RGB, LZ_PLT) and decodeLzAlphaPlane (JPEG_ALPHA's alpha).
// Input layout:
//   [0..1] width   uint16 little-endian (the ImageDescriptor's)
//   [2..3] height  uint16 little-endian
//   [4]    mode    0: LZ_RGB (no palette); 1-254: LZ_PLT with that many palette entries;
//                  255: an XXXA alpha plane decoded into a width x height image
//   [5]    flags   bit 0: the JPEG_ALPHA TOP_DOWN flag (mode 255)
//   rest   the LZ stream
#include "codecs/LzDecoder.h"
#include "wire/ProtocolError.h"

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
    const std::span<const uint8_t> in(bytes, size);
    if (in.size() < 6)
        return 0;
    const uint32_t width = uint32_t(in[0]) | uint32_t(in[1]) << 8;
    const uint32_t height = uint32_t(in[2]) | uint32_t(in[3]) << 8;
    const unsigned mode = in[4];
    const bool topDown = in[5] & 1;
    const auto stream = in.subspan(6);
    try {
        if (mode == 255) {
            // The JPEG decoder sizes the image first; keep that allocation modest here.
            if (!saffron::plausibleImageSize(width, height) || uint64_t(width) * height > (1u << 20))
                return 0;
            saffron::Pixmap image{static_cast<int>(width), static_cast<int>(height)};
            saffron::decodeLzAlphaPlane(stream, image, topDown);
            if (!image.hasAlpha)
                __builtin_trap();
            return 0;
        }
        std::vector<uint32_t> palette(mode);
        for (unsigned i = 0; i < mode; ++i)
            palette[i] = i * 0x00010203u;
        const saffron::Pixmap p = saffron::decodeLz(stream, width, height, palette);
        if (p.pixels.size() != size_t(width) * height)
            __builtin_trap();
    } catch (const saffron::ProtocolError&) {
    }
    return 0;
}
