#include "SoftwareVideoLayerNode.h"

#include "NodeGeometry.h"

#include <QImage>
#include <QQuickWindow>
#include <QSGImageNode>
#include <memory>

namespace saffron {

namespace {

// The picture as a QImage that shares its memory: QPixmap::fromImage keeps sharing it (checked
// with Qt 6.4's raster pixmaps), so a 1080p frame reaches the backing store with one paint and no
// copy. The image's cleanup drops the last reference Qt holds.
QImage imageSharing(std::shared_ptr<const Pixmap> picture) {
    auto keep = std::make_unique<std::shared_ptr<const Pixmap>>(std::move(picture));
    const Pixmap& p = **keep;
    return QImage(
        reinterpret_cast<const uchar*>(p.pixels.data()), p.width, p.height, qsizetype(p.width) * 4,
        QImage::Format_RGB32, [](void* held) { delete static_cast<std::shared_ptr<const Pixmap>*>(held); },
        keep.release());
}

} // namespace

void SoftwareVideoLayerNode::update(const VideoLayer& layer, const QRectF& target, QSize surfaceSize,
                                    QQuickWindow* window) {
    streamId_ = layer.streamId;
    dest_ = layer.dest;
    if (!layer.rgb || layer.dest.isEmpty() || surfaceSize.isEmpty())
        return;
    const bool newPicture = layer.frameSerial != frameSerial_;
    frameSerial_ = layer.frameSerial;

    while (pieces_.size() > layer.clip.size()) {
        delete pieces_.back(); // unlinks itself
        pieces_.pop_back();
    }
    const size_t had = pieces_.size();
    while (pieces_.size() < layer.clip.size()) {
        QSGImageNode* piece = window->createImageNode();
        piece->setOwnsTexture(true);
        pieces_.push_back(piece);
    }
    if (newPicture || had < pieces_.size()) {
        const QImage image = imageSharing(layer.rgb);
        for (size_t i = newPicture ? 0 : had; i < pieces_.size(); ++i)
            pieces_[i]->setTexture(window->createTextureFromImage(image));
    }
    // The software renderer reads a node's texture as soon as the node is in the tree.
    for (size_t i = had; i < pieces_.size(); ++i)
        appendChildNode(pieces_[i]);

    // Surface pixels -> item coordinates, and dest -> the shown area of the picture.
    const qreal sx = target.width() / surfaceSize.width(), sy = target.height() / surfaceSize.height();
    const QRect& d = layer.dest;
    const QRect& a = layer.area;
    const qreal ax = qreal(a.width()) / d.width(), ay = qreal(a.height()) / d.height();
    const qreal dpr = window->effectiveDevicePixelRatio();
    for (size_t i = 0; i < pieces_.size(); ++i) {
        const QRect& r = layer.clip[i];
        const QRectF rect(target.left() + r.left() * sx, target.top() + r.top() * sy, r.width() * sx,
                          r.height() * sy);
        const QRectF source(a.left() + (r.left() - d.left()) * ax, a.top() + (r.top() - d.top()) * ay,
                            r.width() * ax, r.height() * ay);
        const bool exact = qFuzzyCompare(rect.width() * dpr, source.width()) &&
                           qFuzzyCompare(rect.height() * dpr, source.height());
        placeImage(pieces_[i], rect, source, exact ? QSGTexture::Nearest : QSGTexture::Linear);
    }
}

} // namespace saffron
