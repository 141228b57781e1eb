#pragma once

#include "display/Pixmap.h"

#include <QMetaType>
#include <QMutex>
#include <QRect>
#include <cstdint>
#include <memory>

namespace saffron {

// A server surface (spice.proto SurfaceCreate). The display thread draws into `pixmap` while
// holding `mutex`; other threads (the shell's renderer, screenshots) lock it to copy out dirty
// regions. Video stream layers draw into the same surface or sit above it by surface id.
struct Surface {
    uint32_t id = 0;
    uint32_t format = 0; // SPICE_SURFACE_FMT_*
    bool primary = false;
    Pixmap pixmap;
    mutable QMutex mutex;

    bool hasAlpha() const;
    QRect bounds() const { return QRect(0, 0, pixmap.width, pixmap.height); }
};

using SurfacePtr = std::shared_ptr<Surface>;

} // namespace saffron

Q_DECLARE_METATYPE(saffron::SurfacePtr)
