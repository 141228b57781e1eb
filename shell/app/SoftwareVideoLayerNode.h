#pragma once

#include "display/Surface.h"

#include <QRectF>
#include <QSGTransformNode>
#include <memory>
#include <vector>

class QQuickWindow;
class QSGImageNode;

namespace saffron {

class DirectVideoNode;

// One video stream above the session surface under Qt Quick's software renderer
// (VideoLayerMode::Rgb). A decoder's picture shown 1:1 and whole is one DirectVideoNode, which
// converts it straight into the window as it paints. Any other picture is shown as RGB without
// a copy (the textures point at its pixels and keep it alive), one image node per visible clip
// rectangle, so that the renderer repaints just the stream's area once per frame and needs no
// clip node: the session's RGB picture (MJPEG), or a decoder's picture converted here (scaled,
// clipped or cropped). A transform node like SessionNode's other layers: the software renderer
// places children that join later by their parent's recorded state, which it keeps only for
// transform, clip and opacity nodes.
class SoftwareVideoLayerNode : public QSGTransformNode {
public:
    // `target`: where the surface lies in item coordinates; `surfaceSize` in surface pixels.
    void update(const VideoLayer& layer, const QRectF& target, QSize surfaceSize, QQuickWindow* window);
    uint32_t streamId() const { return streamId_; }
    QRect dest() const { return dest_; }

private:
    bool showsDirectly(const VideoLayer& layer, const QRectF& target, QSize surfaceSize,
                       QQuickWindow* window) const;
    void removePieces();
    // The layer's RGB picture: its own, or its decoder picture converted (null if that failed).
    std::shared_ptr<const Pixmap> rgbPicture(const VideoLayer& layer, bool newPicture);

    std::vector<QSGImageNode*> pieces_; // children, one per clip rectangle
    DirectVideoNode* direct_ = nullptr; // or this child
    uint32_t streamId_ = 0;
    uint64_t frameSerial_ = 0;
    QRect dest_;
    // Decoder pictures converted here: the one shown, and the one before it, rewritten once
    // the textures that showed it are gone.
    std::shared_ptr<Pixmap> converted_, spare_;
};

} // namespace saffron
