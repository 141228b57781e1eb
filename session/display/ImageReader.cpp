#include "display/ImageReader.h"

#include "codecs/BitmapDecoder.h"
#include "codecs/JpegAlphaDecoder.h"
#include "codecs/JpegDecoder.h"
#include "codecs/Lz4ImageDecoder.h"
#include "codecs/LzDecoder.h"
#include "codecs/QuicDecoder.h"

#include <QDir>
#include <QFile>
#include <spice/enums.h>

namespace saffron {

namespace {
const char* typeName(uint8_t type) {
    switch (type) {
    case SPICE_IMAGE_TYPE_BITMAP:
        return "BITMAP";
    case SPICE_IMAGE_TYPE_QUIC:
        return "QUIC";
    case SPICE_IMAGE_TYPE_LZ_PLT:
        return "LZ_PLT";
    case SPICE_IMAGE_TYPE_LZ_RGB:
        return "LZ_RGB";
    case SPICE_IMAGE_TYPE_GLZ_RGB:
        return "GLZ_RGB";
    case SPICE_IMAGE_TYPE_ZLIB_GLZ_RGB:
        return "ZLIB_GLZ_RGB";
    case SPICE_IMAGE_TYPE_JPEG_ALPHA:
        return "JPEG_ALPHA";
    case SPICE_IMAGE_TYPE_JPEG:
        return "JPEG";
    case SPICE_IMAGE_TYPE_LZ4:
        return "LZ4";
    default:
        return "unknown";
    }
}
} // namespace

ImageReader::ImageReader(SurfaceLookup surfaces)
    : surfaces_(std::move(surfaces)), images_(uint64_t(kPixmapCachePixels) * 2) {}

std::shared_ptr<const Pixmap> ImageReader::read(const Reader& message, uint32_t offset) {
    if (offset == 0)
        throw ProtocolError("missing image");
    Reader r = message.at(offset);
    const uint64_t id = r.u64();
    const uint8_t type = r.u8();
    const uint8_t flags = r.u8();
    const uint32_t width = r.u32();
    const uint32_t height = r.u32();

    std::shared_ptr<const Pixmap> image;
    if (type == SPICE_IMAGE_TYPE_FROM_CACHE || type == SPICE_IMAGE_TYPE_FROM_CACHE_LOSSLESS) {
        image = images_.get(id);
        if (!image)
            throw ProtocolError("image " + std::to_string(id) + " is not in the cache");
        return image;
    }
    if (type == SPICE_IMAGE_TYPE_SURFACE) {
        const uint32_t surfaceId = r.u32();
        image = surfaces_(surfaceId);
        if (!image)
            throw ProtocolError("image refers to missing surface " + std::to_string(surfaceId));
        return image;
    }
    if (!plausibleImageSize(width, height))
        throw ProtocolError("image of " + std::to_string(width) + "x" + std::to_string(height) + " rejected");
    image = decode(message, r, type, id, width, height);
    if (image->width != int(width) || image->height != int(height))
        throw ProtocolError("decoded image size differs from its descriptor");
    if (type < 128)
        ++decoded_[type];
    if (flags & (SPICE_IMAGE_FLAGS_CACHE_ME | SPICE_IMAGE_FLAGS_CACHE_REPLACE_ME))
        images_.put(id, image);
    return image;
}

QString ImageReader::captureDir() {
    static const QString dir = qEnvironmentVariable("SAFFRON_CAPTURE_IMAGES");
    return dir;
}

void ImageReader::capture(uint8_t type, uint64_t id, uint32_t w, uint32_t h,
                          std::span<const uint8_t> payload) {
    if (captureDir().isEmpty())
        return;
    QDir().mkpath(captureDir());
    QFile f(QDir(captureDir())
                .filePath(QStringLiteral("%1-%2-%3-%4x%5.bin")
                              .arg(captured_++, 6, 10, QLatin1Char('0'))
                              .arg(typeName(type))
                              .arg(id)
                              .arg(w)
                              .arg(h)));
    if (f.open(QIODevice::WriteOnly))
        f.write(reinterpret_cast<const char*>(payload.data()), qsizetype(payload.size()));
}

std::vector<uint32_t> ImageReader::readPalette(const Reader& message, Reader& r, uint8_t bitmapFlags) {
    if (bitmapFlags & SPICE_BITMAP_FLAGS_PAL_FROM_CACHE) {
        const uint64_t paletteId = r.u64();
        const auto* cached = palettes_.get(paletteId);
        if (!cached)
            throw ProtocolError("palette " + std::to_string(paletteId) + " is not in the cache");
        return *cached;
    }
    const uint32_t offset = r.u32();
    if (offset == 0)
        return {};
    Reader p = message.at(offset);
    const uint64_t unique = p.u64();
    const uint16_t count = p.u16();
    Reader ents(p.array(count, 4));
    // An 8-bit index never reaches past entry 255: keeping more would only let a server park
    // 256 KiB per cached palette.
    std::vector<uint32_t> palette(std::min<uint16_t>(count, 256));
    for (auto& e : palette)
        e = ents.u32();
    if (bitmapFlags & SPICE_BITMAP_FLAGS_PAL_CACHE_ME)
        palettes_.put(unique, palette);
    return palette;
}

std::shared_ptr<const Pixmap> ImageReader::decode(const Reader& message, Reader& r, uint8_t type, uint64_t id,
                                                  uint32_t width, uint32_t height) {
    switch (type) {
    case SPICE_IMAGE_TYPE_BITMAP: {
        BitmapInfo info;
        info.format = r.u8();
        const uint8_t bflags = r.u8();
        info.topDown = bflags & SPICE_BITMAP_FLAGS_TOP_DOWN;
        info.width = r.u32();
        info.height = r.u32();
        info.stride = r.u32();
        if (info.width != width || info.height != height)
            throw ProtocolError("bitmap size differs from its image descriptor");
        const std::vector<uint32_t> palette = readPalette(message, r, bflags);
        auto data = r.array(info.height, info.stride);
        return std::make_shared<const Pixmap>(decodeBitmap(info, data, palette));
    }
    case SPICE_IMAGE_TYPE_LZ4: {
        const uint32_t size = r.u32();
        const auto payload = r.array(size, 1);
        capture(type, id, width, height, payload);
        return std::make_shared<const Pixmap>(decodeLz4Image(payload, width, height));
    }
    case SPICE_IMAGE_TYPE_JPEG: {
        const uint32_t size = r.u32();
        const auto payload = r.array(size, 1);
        capture(type, id, width, height, payload);
        return std::make_shared<const Pixmap>(decodeJpeg(payload, width, height));
    }
    case SPICE_IMAGE_TYPE_QUIC:
    case SPICE_IMAGE_TYPE_LZ_RGB:
    case SPICE_IMAGE_TYPE_GLZ_RGB: {
        const uint32_t size = r.u32();
        const auto payload = r.array(size, 1);
        capture(type, id, width, height, payload);
        if (type == SPICE_IMAGE_TYPE_QUIC)
            return std::make_shared<const Pixmap>(decodeQuic(payload, width, height));
        if (type == SPICE_IMAGE_TYPE_LZ_RGB)
            return std::make_shared<const Pixmap>(decodeLz(payload, width, height, {}));
        return glz_.decodeShared(payload, width, height);
    }
    case SPICE_IMAGE_TYPE_LZ_PLT: {
        capture(type, id, width, height, r.whole().subspan(r.position()));
        const uint8_t flags = r.u8();
        const uint32_t size = r.u32();
        const std::vector<uint32_t> palette = readPalette(message, r, flags);
        return std::make_shared<const Pixmap>(decodeLz(r.array(size, 1), width, height, palette));
    }
    case SPICE_IMAGE_TYPE_ZLIB_GLZ_RGB:
        capture(type, id, width, height, r.whole().subspan(r.position()));
        return std::make_shared<const Pixmap>(decodeZlibGlz(r.rest(), width, height, glz_));
    case SPICE_IMAGE_TYPE_JPEG_ALPHA:
        capture(type, id, width, height, r.whole().subspan(r.position()));
        return std::make_shared<const Pixmap>(decodeJpegAlpha(r.rest(), width, height));
    default:
        throw ProtocolError(std::string("image codec ") + typeName(type) + " (" + std::to_string(type) +
                            ") is not supported");
    }
}

} // namespace saffron
