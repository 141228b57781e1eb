#include "SurfaceTexture.h"

#include <private/qrhi_p.h>

namespace saffron {

void SurfaceTexture::RhiTextureDeleter::operator()(QRhiTexture* t) const {
    t->destroy();
    delete t;
}

SurfaceTexture::SurfaceTexture(QSize size) : size_(size) {}

SurfaceTexture::~SurfaceTexture() = default;

qint64 SurfaceTexture::comparisonKey() const {
    return qint64(reinterpret_cast<quintptr>(this));
}

QRhiTexture* SurfaceTexture::rhiTexture() const {
    return texture_.get();
}

void SurfaceTexture::queueUpload(QImage image, QPoint topLeft) {
    pending_.push_back({std::move(image), topLeft});
}

void SurfaceTexture::commitTextureOperations(QRhi* rhi, QRhiResourceUpdateBatch* resourceUpdates) {
    if (!texture_) {
        // The surface's words are 0xAARRGGBB, i.e. bytes B,G,R,A in memory: BGRA8 takes them
        // as they are. GLES without GL_EXT_texture_format_BGRA8888 lacks it.
        swizzle_ = !rhi->isTextureFormatSupported(QRhiTexture::BGRA8);
        texture_.reset(rhi->newTexture(swizzle_ ? QRhiTexture::RGBA8 : QRhiTexture::BGRA8, size_));
        if (!texture_->create()) {
            texture_.reset();
            pending_.clear();
            return;
        }
    }
    if (pending_.empty())
        return;
    QVarLengthArray<QRhiTextureUploadEntry, 16> entries;
    for (Upload& u : pending_) {
        if (swizzle_)
            u.image = std::move(u.image).convertToFormat(QImage::Format_RGBA8888);
        QRhiTextureSubresourceUploadDescription sub(u.image);
        sub.setDestinationTopLeft(u.topLeft);
        entries.append(QRhiTextureUploadEntry(0, 0, sub));
        uploadedBytes_ += quint64(u.image.sizeInBytes());
    }
    QRhiTextureUploadDescription desc;
    desc.setEntries(entries.cbegin(), entries.cend());
    resourceUpdates->uploadTexture(texture_.get(), desc);
    pending_.clear();
}

} // namespace saffron
