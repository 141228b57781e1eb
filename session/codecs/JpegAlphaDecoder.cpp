#include "codecs/JpegAlphaDecoder.h"

#include "codecs/JpegDecoder.h"
#include "codecs/LzDecoder.h"
#include "wire/Reader.h"

#include <spice/enums.h>
#include <string>

namespace saffron {

Pixmap decodeJpegAlpha(std::span<const uint8_t> wireData, uint32_t width, uint32_t height) {
    Reader r(wireData);
    const uint8_t flags = r.u8();
    const uint32_t jpegSize = r.u32();
    const uint32_t dataSize = r.u32();
    const auto data = r.bytes(dataSize);
    if (jpegSize == 0 || jpegSize >= dataSize)
        throw ProtocolError("jpeg alpha: jpeg_size " + std::to_string(jpegSize) + " in " +
                            std::to_string(dataSize) + " bytes of data");
    // The cheap checks of the alpha stream come first, the JPEG decode is the expensive part.
    const auto alpha = data.subspan(jpegSize);
    if (alpha.size() < 28)
        throw ProtocolError("jpeg alpha: alpha stream of " + std::to_string(alpha.size()) + " bytes");
    Pixmap image = decodeJpeg(data.first(jpegSize), width, height);
    decodeLzAlphaPlane(alpha, image, (flags & SPICE_JPEG_ALPHA_FLAGS_TOP_DOWN) != 0);
    return image;
}

} // namespace saffron
