// libFuzzer target for decodeJpeg and, on streams it accepts, JpegImage's fast decode. Input layout:
//   [0..1]   expected width   uint16 little-endian (the ImageDescriptor's)
//   [2..3]   expected height  uint16 little-endian
//   rest     the JPEG stream
// Expected sizes above 1 Mpixel are skipped: a matching header would make each run allocate
// and decode hundreds of megabytes, which only slows the fuzzer down (the decoder itself
// accepts up to kMaxImagePixels).
#include "codecs/JpegDecoder.h"
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
    if (uint64_t{width} * height > (1u << 20))
        return 0;
    try {
        const saffron::Pixmap p = saffron::decodeJpeg(in.subspan(4), width, height);
        if (p.pixels.size() != size_t(width) * height || p.hasAlpha)
            __builtin_trap();
        for (uint32_t px : p.pixels)
            if ((px >> 24) != 0xff)
                __builtin_trap();
        // The same stream the way MJPEG video frames are decoded (another IDCT and upsampler).
        saffron::JpegImage image(in.subspan(4));
        saffron::Pixmap fast(image.width(), image.height());
        image.decodeInto(fast, saffron::JpegImage::Speed::Fast);
    } catch (const saffron::ProtocolError&) {
    }
    return 0;
}
