// libFuzzer target for decodeBitmap. Input layout (all little-endian):
//   [0]      format  (SPICE_BITMAP_FMT_*, any byte value)
//   [1]      flags   (SPICE_BITMAP_FLAGS_TOP_DOWN selects the row order)
//   [2..3]   width   uint16
//   [4..5]   height  uint16
//   [6..9]   stride  uint32
//   [10]     n       palette entries, followed by n uint32 entries (fewer if the input ends)
//   rest     pixel data
// Besides memory safety (ASan/UBSan), it checks what decodeBitmap promises about its output.
#include "codecs/BitmapDecoder.h"
#include "wire/ProtocolError.h"

#include <cstddef>
#include <cstdint>
#include <span>
#include <spice/enums.h>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
    const std::span<const uint8_t> in(bytes, size);
    if (in.size() < 11)
        return 0;
    auto le = [&](size_t at, size_t n) {
        uint32_t v = 0;
        for (size_t i = 0; i < n; ++i)
            v |= uint32_t(in[at + i]) << (8 * i);
        return v;
    };
    saffron::BitmapInfo info;
    info.format = in[0];
    info.topDown = (in[1] & SPICE_BITMAP_FLAGS_TOP_DOWN) != 0;
    info.width = le(2, 2);
    info.height = le(4, 2);
    info.stride = le(6, 4);
    size_t pos = 11;
    std::vector<uint32_t> palette;
    for (unsigned i = 0; i < in[10] && in.size() - pos >= 4; ++i, pos += 4)
        palette.push_back(le(pos, 4));
    try {
        const saffron::Pixmap p = saffron::decodeBitmap(info, in.subspan(pos), palette);
        if (p.width != int(info.width) || p.height != int(info.height) ||
            p.pixels.size() != size_t(info.width) * info.height)
            __builtin_trap();
        const bool alpha = info.format == SPICE_BITMAP_FMT_RGBA || info.format == SPICE_BITMAP_FMT_8BIT_A;
        if (p.hasAlpha != alpha)
            __builtin_trap();
        if (!alpha) {
            for (uint32_t px : p.pixels)
                if ((px >> 24) != 0xff)
                    __builtin_trap();
        }
    } catch (const saffron::ProtocolError&) {
    }
    return 0;
}
