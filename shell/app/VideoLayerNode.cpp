#include "VideoLayerNode.h"

#include "video/DecodedFrame.h"

#include <QMatrix4x4>
#include <QSGMaterial>
#include <QSGMaterialShader>
#include <QSGTexture>
#include <array>
#include <cstring>
#include <private/qrhi_p.h>

namespace saffron {

namespace {

// Above this many visible rectangles a stream is drawn over its clip's bounds instead: each
// rectangle costs six vertices, and spice-server clips streams with a handful of them.
constexpr size_t kMaxClipQuads = 1024;

// How a PixelFormat lays out its planes for the shader (videolayer.frag `chroma`).
enum class ChromaLayout : int { SeparatePlanes = 0, Interleaved = 1, None = 2 };

ChromaLayout chromaLayout(PixelFormat f) {
    switch (f) {
    case PixelFormat::Nv12:
        return ChromaLayout::Interleaved;
    case PixelFormat::Gray8:
        return ChromaLayout::None;
    case PixelFormat::I420:
    case PixelFormat::Y42B:
    case PixelFormat::Y444:
        break;
    }
    return ChromaLayout::SeparatePlanes;
}

// Y'CbCr (each sampled as 0..1) to R'G'B', offsets and range included, for the matrix and
// range the stream declares (ITU-R BT.601 / BT.709 / BT.2020 luma coefficients).
QMatrix4x4 yuvToRgb(Colorimetry c) {
    float kr = 0.299f, kb = 0.114f;
    if (c.matrix == ColorMatrix::Bt709) {
        kr = 0.2126f;
        kb = 0.0722f;
    } else if (c.matrix == ColorMatrix::Bt2020) {
        kr = 0.2627f;
        kb = 0.0593f;
    }
    const float kg = 1.0f - kr - kb;
    const float yScale = c.fullRange ? 1.0f : 255.0f / 219.0f;
    const float yOffset = c.fullRange ? 0.0f : 16.0f / 255.0f;
    const float cScale = c.fullRange ? 1.0f : 255.0f / 224.0f;
    const float cOffset = 128.0f / 255.0f;
    const float rv = 2.0f * (1.0f - kr) * cScale;
    const float bu = 2.0f * (1.0f - kb) * cScale;
    const float gu = -2.0f * kb * (1.0f - kb) / kg * cScale;
    const float gv = -2.0f * kr * (1.0f - kr) / kg * cScale;
    const float y0 = -yScale * yOffset;
    // Rows: R, G, B, 1 = M * (Y, Cb, Cr, 1).
    return QMatrix4x4(yScale, 0.0f, rv, y0 - rv * cOffset,      //
                      yScale, gu, gv, y0 - (gu + gv) * cOffset, //
                      yScale, bu, 0.0f, y0 - bu * cOffset,      //
                      0.0f, 0.0f, 0.0f, 1.0f);
}

} // namespace

// One plane of the picture as a one- (R8) or two-channel (RG8) texture, replaced as a whole with
// every new picture. With OpenGL the decoder's rows are handed to glTexSubImage2D as they lie
// (GL_UNPACK_ROW_LENGTH takes the stride), and the picture is kept alive until the next one has
// been uploaded, after the frame that used it was submitted. Other backends get a tight copy:
// the plane's memory ends at its last sample, and not every backend reads rows that way.
class PlaneTexture : public QSGTexture {
public:
    qint64 comparisonKey() const override { return qint64(reinterpret_cast<quintptr>(this)); }
    QRhiTexture* rhiTexture() const override { return texture_.get(); }
    QSize textureSize() const override { return size_; }
    bool hasAlphaChannel() const override { return false; }
    bool hasMipmaps() const override { return false; }

    void setPicture(std::shared_ptr<const DecodedFrame> frame, int plane) {
        pending_ = std::move(frame);
        plane_ = plane;
    }
    quint64 uploadedBytes() const { return uploadedBytes_; }

    void commitTextureOperations(QRhi* rhi, QRhiResourceUpdateBatch* updates) override {
        if (!pending_)
            return;
        const FramePlane& p = pending_->plane(plane_);
        const bool twoChannels = chromaLayout(pending_->format()) == ChromaLayout::Interleaved && plane_ == 1;
        const QRhiTexture::Format format = twoChannels ? QRhiTexture::RG8 : QRhiTexture::R8;
        const int bytesPerSample = twoChannels ? 2 : 1;
        const QSize size(p.width, p.height);
        const size_t rowBytes = size_t(p.width) * size_t(bytesPerSample);
        if (size.isEmpty() || p.stride < int(rowBytes) ||
            p.data.size() < size_t(p.stride) * size_t(p.height - 1) + rowBytes) {
            pending_.reset(); // DecodedFrame guarantees this; a broken plane is never read past
            return;
        }
        if (!texture_ || size_ != size || format_ != format) {
            texture_.reset(rhi->newTexture(format, size));
            size_ = size;
            format_ = format;
            if (!texture_->create()) {
                texture_.reset();
                pending_.reset();
                return;
            }
        }
        QRhiTextureSubresourceUploadDescription sub;
        if (rhi->backend() == QRhi::OpenGLES2) {
            sub.setData(
                QByteArray::fromRawData(reinterpret_cast<const char*>(p.data.data()),
                                        qsizetype(size_t(p.stride) * size_t(p.height - 1) + rowBytes)));
            sub.setDataStride(quint32(p.stride));
            retained_ = pending_; // the upload reads it when the frame's commands run
        } else {
            QByteArray tight(qsizetype(rowBytes * size_t(p.height)), Qt::Uninitialized);
            for (int y = 0; y < p.height; ++y)
                std::memcpy(tight.data() + size_t(y) * rowBytes,
                            p.data.subspan(size_t(y) * size_t(p.stride)).data(), rowBytes);
            sub.setData(tight);
            retained_.reset();
        }
        sub.setSourceSize(size);
        updates->uploadTexture(texture_.get(), QRhiTextureUploadDescription({0, 0, sub}));
        uploadedBytes_ += quint64(rowBytes) * quint64(p.height);
        pending_.reset();
    }

private:
    struct RhiTextureDeleter {
        void operator()(QRhiTexture* t) const {
            t->destroy();
            delete t;
        }
    };
    std::unique_ptr<QRhiTexture, RhiTextureDeleter> texture_;
    QSize size_;
    QRhiTexture::Format format_ = QRhiTexture::R8;
    std::shared_ptr<const DecodedFrame> pending_;
    std::shared_ptr<const DecodedFrame> retained_;
    int plane_ = 0;
    quint64 uploadedBytes_ = 0;
};

class YuvMaterial : public QSGMaterial {
public:
    YuvMaterial() {
        for (auto& p : planes) {
            p = std::make_unique<PlaneTexture>();
            p->setFiltering(QSGTexture::Linear);
            p->setHorizontalWrapMode(QSGTexture::ClampToEdge);
            p->setVerticalWrapMode(QSGTexture::ClampToEdge);
        }
    }
    QSGMaterialType* type() const override {
        static QSGMaterialType type;
        return &type;
    }
    QSGMaterialShader* createShader(QSGRendererInterface::RenderMode) const override;
    int compare(const QSGMaterial* other) const override {
        // Every layer has its own textures: never merge two into one batch.
        return this == other ? 0 : (this < other ? -1 : 1);
    }

    std::array<std::unique_ptr<PlaneTexture>, 3> planes;
    int planeCount = 1;
    ChromaLayout chroma = ChromaLayout::None;
    QMatrix4x4 matrix;
};

class YuvShader : public QSGMaterialShader {
public:
    YuvShader() {
        setShaderFileName(VertexStage, QStringLiteral(":/saffron/shaders/videolayer.vert.qsb"));
        setShaderFileName(FragmentStage, QStringLiteral(":/saffron/shaders/videolayer.frag.qsb"));
    }
    bool updateUniformData(RenderState& state, QSGMaterial* newMaterial, QSGMaterial*) override {
        auto* m = static_cast<YuvMaterial*>(newMaterial);
        QByteArray* buf = state.uniformData();
        Q_ASSERT(buf->size() >= 64 + 64 + 4 + 4);
        std::memcpy(buf->data(), state.combinedMatrix().constData(), 64);
        std::memcpy(buf->data() + 64, m->matrix.constData(), 64);
        const float opacity = state.opacity();
        std::memcpy(buf->data() + 128, &opacity, 4);
        const int chroma = int(m->chroma);
        std::memcpy(buf->data() + 132, &chroma, 4);
        return true;
    }
    void updateSampledImage(RenderState& state, int binding, QSGTexture** texture, QSGMaterial* newMaterial,
                            QSGMaterial*) override {
        auto* m = static_cast<YuvMaterial*>(newMaterial);
        // Bindings 1..3: luma, then the chroma planes; layouts with fewer planes bind the luma
        // texture to the unused samplers (a sampler must always have a texture).
        const int plane = binding - 1;
        PlaneTexture* t =
            plane >= 0 && plane < m->planeCount ? m->planes[size_t(plane)].get() : m->planes[0].get();
        t->commitTextureOperations(state.rhi(), state.resourceUpdateBatch());
        *texture = t;
    }
};

QSGMaterialShader* YuvMaterial::createShader(QSGRendererInterface::RenderMode) const {
    return new YuvShader;
}

VideoLayerNode::VideoLayerNode() : material_(new YuvMaterial) {
    auto* geometry = new QSGGeometry(QSGGeometry::defaultAttributes_TexturedPoint2D(), 0);
    geometry->setDrawingMode(QSGGeometry::DrawTriangles);
    setGeometry(geometry);
    setMaterial(material_);
    setFlags(OwnsGeometry | OwnsMaterial);
}

VideoLayerNode::~VideoLayerNode() = default;

quint64 VideoLayerNode::uploadedBytes() const {
    quint64 sum = 0;
    for (const auto& p : material_->planes)
        sum += p->uploadedBytes();
    return sum;
}

void VideoLayerNode::update(const VideoLayer& layer, const QRectF& target, QSize surfaceSize) {
    streamId_ = layer.streamId;
    dest_ = layer.dest;
    const DecodedFrame& frame = *layer.frame;
    if (layer.frameSerial != frameSerial_) {
        frameSerial_ = layer.frameSerial;
        const ChromaLayout chroma = chromaLayout(frame.format());
        material_->chroma = chroma;
        material_->planeCount = std::min(frame.planeCount(), chroma == ChromaLayout::None ? 1 : 3);
        material_->matrix = yuvToRgb(frame.colorimetry());
        for (int i = 0; i < material_->planeCount; ++i)
            material_->planes[size_t(i)]->setPicture(layer.frame, i);
        markDirty(DirtyMaterial);
    }

    // Surface pixels -> item coordinates, and dest -> the shown area of the picture.
    const qreal sx = target.width() / surfaceSize.width(), sy = target.height() / surfaceSize.height();
    const QRect& d = layer.dest;
    const QRect& a = layer.area;
    const qreal fw = frame.width(), fh = frame.height();
    const auto u = [&](qreal x) { return (a.left() + (x - d.left()) * a.width() / d.width()) / fw; };
    const auto v = [&](qreal y) {
        const qreal row = (y - d.top()) * a.height() / d.height();
        return (a.top() + (layer.topDown ? row : a.height() - row)) / fh;
    };
    std::vector<QRect> rects = layer.clip;
    if (rects.size() > kMaxClipQuads) {
        QRect bounds;
        for (const QRect& r : rects)
            bounds |= r;
        rects = {bounds};
    }
    QSGGeometry* g = geometry();
    g->allocate(int(rects.size() * 6));
    QSGGeometry::TexturedPoint2D* vtx = g->vertexDataAsTexturedPoint2D();
    for (const QRect& r : rects) {
        const qreal x0 = r.left(), x1 = r.left() + r.width(), y0 = r.top(), y1 = r.top() + r.height();
        const auto put = [&](qreal x, qreal y) {
            vtx->set(float(target.left() + x * sx), float(target.top() + y * sy), float(u(x)), float(v(y)));
            ++vtx;
        };
        put(x0, y0);
        put(x1, y0);
        put(x0, y1);
        put(x1, y0);
        put(x1, y1);
        put(x0, y1);
    }
    markDirty(DirtyGeometry);
}

} // namespace saffron
