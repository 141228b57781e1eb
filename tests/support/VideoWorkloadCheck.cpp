#include "VideoWorkloadCheck.h"

#include "TestUtil.h"

#include <QProcess>
#include <QTemporaryDir>
#include <algorithm>
#include <cmath>

namespace saffron::test {

QImage expectedWorkloadFrame(const QStringList& serverArgs, int frame) {
    QTemporaryDir dir;
    const QString ppm = dir.filePath(QStringLiteral("expected.ppm"));
    QProcess p;
    p.start(qEnvironmentVariable("SAFFRON_TEST_SERVER"),
            serverArgs + QStringList{QStringLiteral("--frames"), QString::number(frame),
                                     QStringLiteral("--dump-expected"), ppm});
    p.waitForFinished(30000);
    return QImage(ppm).convertToFormat(QImage::Format_RGB32);
}

std::optional<int> workloadFrameCode(const QImage& image, const QRect& area) {
    const int cell = std::min({16, area.width() / 16, area.height() / 4});
    if (cell < 4 || !image.rect().contains(area))
        return std::nullopt;
    int value = 0;
    for (int i = 0; i < 16; ++i) {
        qint64 sum = 0;
        int n = 0;
        for (int y = cell / 4; y < cell - cell / 4; ++y)
            for (int x = i * cell + cell / 4; x < (i + 1) * cell - cell / 4; ++x) {
                const QRgb p = image.pixel(area.left() + x, area.top() + y);
                sum += (77 * qRed(p) + 150 * qGreen(p) + 29 * qBlue(p)) >> 8;
                ++n;
            }
        value = value << 1 | (sum >= 128 * qint64(n) ? 1 : 0);
    }
    return value;
}

double psnr(const QImage& a, const QImage& b, const QRect& area) {
    double se = 0;
    for (int y = area.top(); y <= area.bottom(); ++y)
        for (int x = area.left(); x <= area.right(); ++x) {
            const QRgb p = a.pixel(x, y), q = b.pixel(x, y);
            const int d[3] = {qRed(p) - qRed(q), qGreen(p) - qGreen(q), qBlue(p) - qBlue(q)};
            for (int c : d)
                se += double(c) * c;
        }
    const double mse = se / (3.0 * area.width() * area.height());
    return mse == 0 ? 99.0 : 10.0 * std::log10(255.0 * 255.0 / mse);
}

int differingOutside(const QImage& a, const QImage& b, const QRect& hole) {
    QImage x = a.convertToFormat(QImage::Format_RGB32), y = b.convertToFormat(QImage::Format_RGB32);
    for (int r = hole.top(); r <= hole.bottom(); ++r)
        for (int c = hole.left(); c <= hole.right(); ++c) {
            x.setPixel(c, r, 0xff000000u);
            y.setPixel(c, r, 0xff000000u);
        }
    return differingPixels(x, y);
}

} // namespace saffron::test
