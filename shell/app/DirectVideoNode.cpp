#include "DirectVideoNode.h"

#include "video/FrameConverter.h"

#include <QImage>
#include <QLoggingCategory>
#include <QPainter>
#include <QQuickWindow>

Q_DECLARE_LOGGING_CATEGORY(lcView) // SurfaceItem.cpp

namespace saffron {

std::atomic<uint64_t> DirectVideoNode::directPaints_{0};
std::atomic<uint64_t> DirectVideoNode::indirectPaints_{0};

FrameConverter& softwarePaintConverter() {
    // The GUI thread's: the software renderer paints there. One worker thread for the rare
    // GstVideoConverter fallback, as the conversion is part of a paint that waits for it anyway.
    static FrameConverter converter(1);
    return converter;
}

namespace {

// 0xAARRGGBB words in native byte order, alpha 0xff: what the conversion writes (Pixmap.h).
bool takesConvertedWords(const QImage& image) {
    switch (image.format()) {
    case QImage::Format_RGB32:
    case QImage::Format_ARGB32:
    case QImage::Format_ARGB32_Premultiplied:
        return true;
    default:
        return false;
    }
}

} // namespace

DirectVideoNode::DirectVideoNode(QQuickWindow* window) : window_(window) {}

void DirectVideoNode::setPicture(std::shared_ptr<const DecodedFrame> frame, bool topDown, uint64_t serial,
                                 const QRectF& rect) {
    DirtyState dirty;
    if (rect != rect_) {
        rect_ = rect;
        dirty |= DirtyGeometry;
    }
    if (serial != serial_ || topDown != topDown_) {
        frame_ = std::move(frame);
        topDown_ = topDown;
        serial_ = serial;
        dirty |= DirtyMaterial;
    }
    if (dirty)
        markDirty(dirty);
}

void DirectVideoNode::render(const RenderState* state) {
    auto* painter = static_cast<QPainter*>(
        window_->rendererInterface()->getResource(window_, QSGRendererInterface::PainterResource));
    if (!painter || !frame_)
        return;
    const QTransform transform = matrix() ? matrix()->toTransform() : QTransform();
    const QRect target = transform.mapRect(rect_).toAlignedRect();
    // The software renderer hands over what it wants repainted (Qt 6.4: the node's dirty region,
    // less what opaque nodes above cover, within any clip), in device coordinates.
    const QRegion* repaint = state->clipRegion();
    const QRegion region = repaint ? repaint->intersected(target) : QRegion(target);
    if (region.isEmpty())
        return;

    QPaintDevice* device = painter->device();
    QImage* image = device && device->devType() == QInternal::Image ? static_cast<QImage*>(device) : nullptr;
    const bool oneToOne = transform.type() <= QTransform::TxTranslate &&
                          transform.map(rect_.topLeft()) == QPointF(target.topLeft()) &&
                          target.size() == QSize(frame_->width(), frame_->height());
    if (image && oneToOne && image->devicePixelRatio() == 1.0 && takesConvertedWords(*image) &&
        image->rect().contains(target) && inheritedOpacity() >= 1.0 && region == QRegion(target) &&
        convertInto(*image, target)) {
        ++directPaints_;
        return;
    }
    paintConverted(*painter, region);
}

bool DirectVideoNode::convertInto(QImage& image, const QRect& target) {
    // Row y of the picture at bits + (top + y) * bytesPerLine, from column `left`: a span from
    // the first pixel to the end of the image, which the converter bounds-checks against.
    const qsizetype stride = image.bytesPerLine() / 4;
    if (stride * 4 != image.bytesPerLine())
        return false;
    // bits(), not constBits(): the backing store's image is not shared, so this never copies.
    auto* words = reinterpret_cast<uint32_t*>(image.bits());
    const std::span<uint32_t> all(words, size_t(stride) * size_t(image.height()));
    const size_t first = size_t(target.top()) * size_t(stride) + size_t(target.left());
    return softwarePaintConverter().convert(*frame_, all.subspan(first), int(stride),
                                            FrameConverter::rowOrder(topDown_));
}

void DirectVideoNode::paintConverted(QPainter& painter, const QRegion& region) {
    // The renderer's clip is the node's whole rectangle: narrowed to what must be repainted
    // (device coordinates, as the renderer sets its own clips: before the node's transform).
    painter.setTransform(QTransform());
    painter.setClipRegion(region, Qt::ReplaceClip);
    if (convertedSerial_ != serial_) {
        if (converted_.width != frame_->width() || converted_.height != frame_->height())
            converted_ = Pixmap(frame_->width(), frame_->height());
        if (!softwarePaintConverter().convert(*frame_, converted_.pixels, converted_.width,
                                              FrameConverter::rowOrder(topDown_))) {
            if (!warned_)
                qCWarning(lcView) << "video picture of" << frame_->width() << "x" << frame_->height()
                                  << pixelFormatName(frame_->format()) << "could not be converted";
            warned_ = true;
            // Nothing below shows through an opaque node: black, not what was there before.
            painter.fillRect(region.boundingRect(), Qt::black);
            return;
        }
        convertedSerial_ = serial_;
    }
    const QImage picture(reinterpret_cast<const uchar*>(converted_.pixels.data()), converted_.width,
                         converted_.height, qsizetype(converted_.width) * 4, QImage::Format_RGB32);
    painter.setTransform(matrix() ? matrix()->toTransform() : QTransform());
    painter.setOpacity(inheritedOpacity());
    painter.setRenderHint(QPainter::SmoothPixmapTransform,
                          painter.transform().type() > QTransform::TxTranslate);
    painter.drawImage(rect_, picture);
    ++indirectPaints_;
}

} // namespace saffron
