#include "GpuIdentity.h"

#include <QDir>
#include <QFileInfo>
#include <QStringList>

namespace saffron {

QString gpuIdentity() {
    QStringList parts;
    const QDir drm(QStringLiteral("/sys/class/drm"));
    // card* and renderD* only: the connector entries (card0-HDMI-A-1) say nothing about the GPU.
    for (const QString& node :
         drm.entryList({QStringLiteral("card*"), QStringLiteral("renderD*")}, QDir::Dirs)) {
        if (node.contains(QLatin1Char('-')))
            continue;
        const QFileInfo driver(drm.filePath(node + QStringLiteral("/device/driver")));
        parts << node + QLatin1Char('=') + QFileInfo(driver.symLinkTarget()).fileName();
    }
    parts << QDir(QStringLiteral("/dev")).entryList({QStringLiteral("nvidia*")}, QDir::System);
    return parts.join(QLatin1Char(' '));
}

} // namespace saffron
