#include "common/SurfaceImage.h"

#include <QMutexLocker>
#include <cstring>

namespace saffron {

QImage copySurface(const Surface& surface) {
    QMutexLocker lock(&surface.mutex);
    const Pixmap& p = surface.pixmap;
    QImage img(p.width, p.height, p.hasAlpha ? QImage::Format_ARGB32_Premultiplied : QImage::Format_RGB32);
    for (int y = 0; y < p.height; ++y)
        std::memcpy(img.scanLine(y), p.row(y).data(), size_t(p.width) * 4);
    return img;
}

} // namespace saffron
