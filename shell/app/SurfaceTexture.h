#pragma once

#include <QImage>
#include <QPoint>
#include <QSGTexture>
#include <memory>
#include <vector>

class QRhiTexture;

namespace saffron {

// The session surface as one GPU texture that is updated in place: only the regions the server
// redrew are uploaded (QRhi sub-resource uploads), never the whole frame. Created and used on
// the scene graph's render thread; uploads are queued during the sync phase, when the GUI thread
// is blocked, and committed when the renderer prepares the material.
class SurfaceTexture : public QSGTexture {
    Q_OBJECT
public:
    explicit SurfaceTexture(QSize size);
    ~SurfaceTexture() override;

    qint64 comparisonKey() const override;
    QRhiTexture* rhiTexture() const override;
    QSize textureSize() const override { return size_; }
    bool hasAlphaChannel() const override { return false; }
    bool hasMipmaps() const override { return false; }
    void commitTextureOperations(QRhi* rhi, QRhiResourceUpdateBatch* resourceUpdates) override;

    // `image` holds the pixels of the region at `topLeft`, in the surface's 0xAARRGGBB layout.
    void queueUpload(QImage image, QPoint topLeft);
    quint64 uploadedBytes() const { return uploadedBytes_; }

private:
    struct Upload {
        QImage image;
        QPoint topLeft;
    };
    struct RhiTextureDeleter {
        void operator()(QRhiTexture* t) const;
    };
    QSize size_;
    std::unique_ptr<QRhiTexture, RhiTextureDeleter> texture_;
    bool swizzle_ = false; // the backend lacks BGRA8: uploads are converted to RGBA8888
    std::vector<Upload> pending_;
    quint64 uploadedBytes_ = 0;
};

} // namespace saffron
