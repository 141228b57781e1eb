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

void copySurfaceRegion(const Surface& surface, const QRect& rect, QImage& target) {
    QMutexLocker lock(&surface.mutex);
    const Pixmap& p = surface.pixmap;
    const QRect r = rect.intersected(QRect(0, 0, p.width, p.height)).intersected(target.rect());
    for (int y = r.top(); y <= r.bottom(); ++y)
        std::memcpy(target.scanLine(y) + size_t(r.left()) * 4, p.row(y).data() + r.left(),
                    size_t(r.width()) * 4);
}

} // namespace saffron
