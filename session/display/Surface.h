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

// A video stream shown above its surface instead of drawn into it (video layer mode, when the
// front end composites on a GPU): the decoded YUV picture is handed over as it came from the
// decoder and converted in a shader. The surface itself receives the picture only when something
// needs its pixels (a draw over or a copy from the stream's area, the stream's end), so in the
// common case no CPU colour conversion happens at all.
struct VideoLayer {
    uint32_t streamId = 0;
    std::shared_ptr<const DecodedFrame> frame;
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
