#pragma once

#include "codecs/GlzDictionary.h"
#include "display/ImageCache.h"
#include "display/Pixmap.h"
#include "wire/Reader.h"

#include <QString>
#include <functional>
#include <memory>

namespace saffron {

// Turns a SPICE `Image` (spice.proto: ImageDescriptor + per-type data) at an offset of a display
// message into pixels: decodes bitmaps and compressed images, resolves palette and image cache
// references, and stores images the server asked us to cache. Surface images are resolved
// through a callback so the reader does not own surfaces.
class ImageReader {
public:
    // Announced to the server in DISPLAY_INIT; it budgets its cache of our images against it.
    static constexpr int64_t kPixmapCachePixels = 20 * 1024 * 1024;

    using SurfaceLookup = std::function<std::shared_ptr<const Pixmap>(uint32_t surfaceId)>;

    explicit ImageReader(SurfaceLookup surfaces);

    // Throws ProtocolError for malformed or unsupported images, or missing cache entries.
    std::shared_ptr<const Pixmap> read(const Reader& message, uint32_t offset);

    void invalidateImage(uint64_t id) { images_.remove(id); }
    // The GLZ dictionary is deliberately not cleared here: spice-server keeps its GLZ encoder
    // state for the whole connection, and later images still reference earlier ones.
    void invalidateAllImages() { images_.clear(); }
    void invalidatePalette(uint64_t id) { palettes_.remove(id); }
    void invalidateAllPalettes() { palettes_.clear(); }
    const ImageCache& imageCache() const { return images_; }

    // Counts per SPICE_IMAGE_TYPE_*, for statistics and tests.
    uint64_t decodedCount(uint8_t imageType) const { return imageType < 128 ? decoded_[imageType] : 0; }

    // Debugging and corpus collection: with SAFFRON_CAPTURE_IMAGES=DIR every compressed image's
    // payload is written to DIR as <seq>-<type>-<id>-<w>x<h>.bin (what the fuzzers and codec
    // tests are seeded with).
    static QString captureDir();

private:
    void capture(uint8_t type, uint64_t id, uint32_t w, uint32_t h, std::span<const uint8_t> payload);
    std::vector<uint32_t> readPalette(const Reader& message, Reader& r, uint8_t bitmapFlags);
    std::shared_ptr<const Pixmap> decode(const Reader& message, Reader& r, uint8_t type, uint64_t id,
                                         uint32_t width, uint32_t height);

    SurfaceLookup surfaces_;
    ImageCache images_;
    PaletteCache palettes_;
    GlzDictionary glz_;
    uint64_t decoded_[128] = {};
    uint64_t captured_ = 0;
};

} // namespace saffron
