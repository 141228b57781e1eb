#pragma once

#include "display/Pixmap.h"

#include <QMetaType>
#include <QMutex>
#include <QRect>
#include <cstdint>
#include <memory>
#include <vector>

namespace saffron {

class DecodedFrame;

// How video streams on a primary surface reach the front end (Session::setVideoLayers).
enum class VideoLayerMode {
    // Pictures are converted into the surface: the front end sees only surface pixels.
    Off,
    // Layers carry the decoded YUV picture as it came from the decoder, for a front end that
    // converts it in a shader (no CPU colour conversion at all).
    Yuv,
    // For a front end that composites on the CPU (Qt Quick's software renderer): layers carry
    // the decoder's picture, which the front end converts as it paints (straight into its window
    // where the picture is shown 1:1: one pass per frame), or, for MJPEG that libjpeg-turbo
    // decodes on the session thread, the RGB picture (VideoLayer::rgb). Drawing into the surface
    // instead costs a conversion into it, a copy out of it for the front end and the paint.
    Rgb,
};

// A video stream shown above its surface instead of drawn into it (layer mode). The surface
// itself receives the picture only when something needs its pixels (a draw over or a copy from
// the stream's area, the stream's end), so in the common case nothing but the front end
// touches the picture.
struct VideoLayer {
    uint32_t streamId = 0;
    std::shared_ptr<const DecodedFrame> frame; // the decoder's picture; none with `rgb`
    // Rgb mode, MJPEG decoded straight to RGB (no `frame`): the picture at its own size, the rows
    // of `area` top-down whatever `topDown` says. The session never writes to a picture while
    // someone else holds it, so a front end may keep it (and show it) as long as it likes.
    std::shared_ptr<const Pixmap> rgb;
    uint64_t frameSerial = 0; // changes with every new picture
    QRect dest;               // surface coordinates the picture covers
    QRect area;               // the part of the decoded picture shown (encoders pad)
    std::vector<QRect> clip;  // where it is visible: inside dest, the stream clip and the surface
    bool topDown = true;      // false: the picture's first row is the bottom of dest
};

// A server surface (spice.proto SurfaceCreate). The display thread draws into `pixmap` while
// holding `mutex`; other threads (the shell's renderer, screenshots) lock it to copy out dirty
// regions. Video streams draw into the surface, or sit above it as `layers`.
struct Surface {
    uint32_t id = 0;
    uint32_t format = 0; // SPICE_SURFACE_FMT_*
    bool primary = false;
    Pixmap pixmap;
    // Shown above `pixmap` (layer mode only); guarded by `mutex` like the pixels.
    std::vector<VideoLayer> layers;
    mutable QMutex mutex;

    bool hasAlpha() const;
    QRect bounds() const { return QRect(0, 0, pixmap.width, pixmap.height); }
};

using SurfacePtr = std::shared_ptr<Surface>;

} // namespace saffron

Q_DECLARE_METATYPE(saffron::SurfacePtr)
