#pragma once

#include "display/Pixmap.h"
#include "video/DecodedFrame.h"

#include <QRectF>
#include <QSGRenderNode>
#include <atomic>
#include <cstdint>
#include <memory>

class QImage;
class QPainter;
class QQuickWindow;

namespace saffron {

class FrameConverter;

// The converter of pictures the software renderer paints (GUI thread).
FrameConverter& softwarePaintConverter();

// A decoded video picture shown 1:1 under Qt Quick's software renderer, converted from YUV
// straight into the window's backing store as the renderer paints: one pass over the picture
// per frame. An image node would need the picture converted to RGB first and then copied into
// the backing store by QPainter (a 1080p frame: ~0.45 ms of memmove on top of the conversion).
//
// The software renderer calls render() whenever any part of the node needs repainting (an
// overlay above changed, say), with the painter clipped to the node's whole rectangle; what
// really needs repainting comes as RenderState::clipRegion(). Painting more would wipe parts
// of the overlay that are not repainted. So the conversion goes straight into the backing store
// only when all of the picture is to be repainted (a new frame, nothing opaque above it) and the
// backing store is a plain 32-bit image at scale 1; otherwise the picture is converted once into
// a picture of the node's own and painted with QPainter, clipped to that region.
class DirectVideoNode : public QSGRenderNode {
public:
    explicit DirectVideoNode(QQuickWindow* window);

    // `rect` in item coordinates, the picture's size; a new `serial` is a new picture.
    void setPicture(std::shared_ptr<const DecodedFrame> frame, bool topDown, uint64_t serial,
                    const QRectF& rect);

    void render(const RenderState* state) override;
    StateFlags changedStates() const override { return {}; }
    RenderingFlags flags() const override { return BoundedRectRendering | OpaqueRendering; }
    QRectF rect() const override { return rect_; }

    // Paints so far, process-wide, for tests and diagnostics: straight into the backing store,
    // and through a picture of the node's own.
    static uint64_t directPaints() { return directPaints_.load(); }
    static uint64_t indirectPaints() { return indirectPaints_.load(); }

private:
    bool convertInto(QImage& image, const QRect& target);
    void paintConverted(QPainter& painter, const QRegion& region);

    QQuickWindow* window_;
    std::shared_ptr<const DecodedFrame> frame_;
    bool topDown_ = true;
    uint64_t serial_ = 0;
    QRectF rect_;
    Pixmap converted_; // the fallback's RGB picture, of picture `convertedSerial_`
    uint64_t convertedSerial_ = 0;
    bool warned_ = false;

    static std::atomic<uint64_t> directPaints_;
    static std::atomic<uint64_t> indirectPaints_;
};

} // namespace saffron
