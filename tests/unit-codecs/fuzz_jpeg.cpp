// libFuzzer target for decodeJpeg and, on streams it accepts, JpegImage's fast decode, top-down
// and turned over. Input layout:
//   [0..1]   expected width   uint16 little-endian (the ImageDescriptor's)
//   [2..3]   expected height  uint16 little-endian
//   rest     the JPEG stream
// Expected sizes above 1 Mpixel are skipped: a matching header would make each run allocate
// and decode hundreds of megabytes, which only slows the fuzzer down (the decoder itself
// accepts up to kMaxImagePixels).
#include "codecs/JpegDecoder.h"
#include "wire/ProtocolError.h"

#include <algorithm>
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
        // The same stream the way MJPEG video frames are decoded (another IDCT and upsampler),
        // bottom-up streams turned over as they decode (the rows to turn from the width's low
        // bits, beyond the height included), and then the result compared with the top-down one.
        saffron::JpegImage image(in.subspan(4));
        saffron::Pixmap fast(image.width(), image.height());
        image.decodeInto(fast, saffron::JpegImage::Speed::Fast);
        const int reversed = int(in[0] % 4 == 0 ? height : height * (in[0] % 4) / 3 + in[0] % 3);
        saffron::JpegImage again(in.subspan(4));
        saffron::Pixmap turned(again.width(), again.height());
        again.decodeInto(turned, saffron::JpegImage::Speed::Fast, reversed);
        const int rows = std::min(reversed, turned.height);
        for (int y = 0; y < turned.height; ++y)
            if (!std::ranges::equal(turned.row(y), fast.row(y < rows ? rows - 1 - y : y)))
                __builtin_trap();
    } catch (const saffron::ProtocolError&) {
    }
    return 0;
}
