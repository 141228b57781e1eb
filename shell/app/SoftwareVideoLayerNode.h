#pragma once

#include "display/Surface.h"

#include <QRectF>
#include <QSGTransformNode>
#include <vector>

class QQuickWindow;
class QSGImageNode;

namespace saffron {

// One video stream above the session surface under Qt Quick's software renderer
// (VideoLayerMode::Rgb): the session's RGB picture is shown without a copy (the textures point
// at its pixels and keep it alive), one image node per visible clip rectangle, so that the
// renderer repaints just the stream's area once per frame and needs no clip node. A transform
// node like SessionNode's other layers: the software renderer places children that join later
// by their parent's recorded state, which it keeps only for transform, clip and opacity nodes.
class SoftwareVideoLayerNode : public QSGTransformNode {
public:
    // `target`: where the surface lies in item coordinates; `surfaceSize` in surface pixels.
    void update(const VideoLayer& layer, const QRectF& target, QSize surfaceSize, QQuickWindow* window);
    uint32_t streamId() const { return streamId_; }
    QRect dest() const { return dest_; }

private:
    std::vector<QSGImageNode*> pieces_; // children, one per clip rectangle
    uint32_t streamId_ = 0;
    uint64_t frameSerial_ = 0;
    QRect dest_;
};

} // namespace saffron
