#include "TestUtil.h"

#include <QHostAddress>
#include <QImage>
#include <QTcpServer>
#include <QTest>
#include <span>

namespace saffron::test {

quint16 freeTcpPort() {
    // Port 0 lets the kernel pick an unused ephemeral port; reading it back is the only
    // race-free part, the window between close() and the server's bind() is not.
    QTcpServer server;
    if (!server.listen(QHostAddress::LocalHost, 0))
        return 0;
    const quint16 port = server.serverPort();
    server.close();
    return port;
}

bool waitUntil(const std::function<bool()>& predicate, int timeoutMs) {
    return QTest::qWaitFor(predicate, timeoutMs);
}

bool isUniform(const QImage& image) {
    if (image.isNull())
        return true;
    const QImage rgb = image.convertToFormat(QImage::Format_RGB32);
    const QRgb first = rgb.pixel(0, 0) & 0xffffff;
    for (int y = 0; y < rgb.height(); ++y) {
        const std::span line(reinterpret_cast<const QRgb*>(rgb.constScanLine(y)), size_t(rgb.width()));
        for (const QRgb pixel : line) {
            if ((pixel & 0xffffff) != first)
                return false;
        }
    }
    return true;
}

int differingPixels(const QImage& a, const QImage& b) {
    if (a.size() != b.size())
        return a.width() * a.height() + 1;
    const QImage x = a.convertToFormat(QImage::Format_RGB32), y = b.convertToFormat(QImage::Format_RGB32);
    int n = 0;
    for (int row = 0; row < x.height(); ++row) {
        const auto* rx = reinterpret_cast<const QRgb*>(x.constScanLine(row));
        const auto* ry = reinterpret_cast<const QRgb*>(y.constScanLine(row));
        for (int col = 0; col < x.width(); ++col)
            n += (rx[col] & 0xffffff) != (ry[col] & 0xffffff);
    }
    return n;
}

} // namespace saffron::test
