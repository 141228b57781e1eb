#pragma once

#include "display/Surface.h"

#include <QRectF>
#include <QSGGeometryNode>
#include <memory>

namespace saffron {

class YuvMaterial;

// One video stream drawn by the GPU above the session surface (see VideoLayer): the decoded
// planes are uploaded as they came from the decoder (one- and two-channel textures, the
// decoder's memory handed to the upload without a copy) and a shader converts YCbCr to RGB.
// Only the stream's visible clip rectangles are drawn, as quads, so no scissor or stencil is
// needed. Lives on the scene graph's render thread.
class VideoLayerNode : public QSGGeometryNode {
public:
    VideoLayerNode();
    ~VideoLayerNode() override;

    // `target`: where the surface lies in item coordinates; `surfaceSize` in surface pixels.
    // Uploads the picture when it changed since the last call.
    void update(const VideoLayer& layer, const QRectF& target, QSize surfaceSize);
    uint32_t streamId() const { return streamId_; }
    QRect dest() const { return dest_; }
    quint64 uploadedBytes() const;

private:
    YuvMaterial* material_; // owned by the node (OwnsMaterial)
    uint32_t streamId_ = 0;
    uint64_t frameSerial_ = 0;
    QRect dest_;
};

} // namespace saffron
