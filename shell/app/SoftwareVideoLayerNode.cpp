#include "SoftwareVideoLayerNode.h"

#include "DirectVideoNode.h"
#include "NodeGeometry.h"
#include "video/FrameConverter.h"

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

bool SoftwareVideoLayerNode::showsDirectly(const VideoLayer& l, const QRectF& target, QSize surfaceSize,
                                           QQuickWindow* window) const {
    // The whole picture, uncropped, unclipped and unscaled; DirectVideoNode checks the rest
    // (the backing store's format, the placement on whole pixels) as it paints.
    return l.frame && !l.rgb && l.clip.size() == 1 && l.clip.front() == l.dest &&
           l.area == QRect(0, 0, l.frame->width(), l.frame->height()) && l.dest.size() == l.area.size() &&
           target.size() == QSizeF(surfaceSize) && window->effectiveDevicePixelRatio() == 1.0;
}

void SoftwareVideoLayerNode::removePieces() {
    for (QSGImageNode* piece : pieces_)
        delete piece; // unlinks itself
    pieces_.clear();
}

std::shared_ptr<const Pixmap> SoftwareVideoLayerNode::rgbPicture(const VideoLayer& layer, bool newPicture) {
    if (layer.rgb)
        return layer.rgb;
    if (converted_ && !newPicture)
        return converted_;
    const int w = layer.frame->width(), h = layer.frame->height();
    // The picture shown before is still the textures' until they are replaced: the one before
    // that is free again once nobody else holds it.
    std::shared_ptr<Pixmap> picture = std::move(spare_);
    if (!picture || picture.use_count() > 1 || picture->width != w || picture->height != h)
        picture = std::make_shared<Pixmap>(w, h);
    // The rows of `area` top-down, as the session's RGB pictures have them (Surface.h).
    if (!softwarePaintConverter().convertShown(*layer.frame, picture->pixels, w, layer.area.height(),
                                               FrameConverter::rowOrder(layer.topDown)))
        return nullptr;
    spare_ = std::move(converted_);
    converted_ = std::move(picture);
    return converted_;
}

void SoftwareVideoLayerNode::update(const VideoLayer& layer, const QRectF& target, QSize surfaceSize,
                                    QQuickWindow* window) {
    streamId_ = layer.streamId;
    dest_ = layer.dest;
    if ((!layer.rgb && !layer.frame) || layer.dest.isEmpty() || surfaceSize.isEmpty())
        return;
    const bool newPicture = layer.frameSerial != frameSerial_;
    frameSerial_ = layer.frameSerial;

    if (showsDirectly(layer, target, surfaceSize, window)) {
        removePieces();
        converted_.reset();
        spare_.reset();
        if (!direct_) {
            direct_ = new DirectVideoNode(window);
            appendChildNode(direct_);
        }
        direct_->setPicture(
            layer.frame, layer.topDown, layer.frameSerial,
            QRectF(target.topLeft() + QPointF(layer.dest.topLeft()), QSizeF(layer.dest.size())));
        return;
    }
    if (direct_) {
        delete direct_; // unlinks itself
        direct_ = nullptr;
    }
    std::shared_ptr<const Pixmap> picture = rgbPicture(layer, newPicture);
    if (!picture) {
        removePieces(); // nothing to show: the surface below shows through
        return;
    }

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
        const QImage image = imageSharing(std::move(picture));
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
