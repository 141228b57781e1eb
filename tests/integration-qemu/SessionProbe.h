#pragma once

#include "Session.h"
#include "common/SurfaceImage.h"

#include <QImage>
#include <QSignalSpy>
#include <QTest>

namespace saffron::test {

// A Session plus the waits integration tests need.
struct SessionProbe {
    explicit SessionProbe(const SessionOptions& options)
        : session(options), marked(&session, &Session::displayMarked),
          ended(&session, &Session::disconnected), closed(&session, &Session::channelClosed) {
        session.start();
    }

    bool waitForFrame(int ms = 30000) { return !marked.isEmpty() || marked.wait(ms); }
    bool waitForEnd(int ms = 30000) { return !ended.isEmpty() || ended.wait(ms); }
    QString endError() const { return ended.isEmpty() ? QString() : ended.first().first().toString(); }

    QImage frame() const {
        SurfacePtr s = session.primarySurface();
        return s ? copySurface(*s).convertToFormat(QImage::Format_RGB32) : QImage();
    }

    Session session;
    QSignalSpy marked;
    QSignalSpy ended;
    QSignalSpy closed;
};

// Pixels whose RGB differ (alpha ignored: xRGB surfaces carry no alpha).
inline int differingPixels(const QImage& a, const QImage& b) {
    if (a.size() != b.size())
        return a.width() * a.height() + 1;
    int n = 0;
    for (int y = 0; y < a.height(); ++y) {
        const auto* ra = reinterpret_cast<const QRgb*>(a.constScanLine(y));
        const auto* rb = reinterpret_cast<const QRgb*>(b.constScanLine(y));
        for (int x = 0; x < a.width(); ++x)
            n += (ra[x] & 0xffffff) != (rb[x] & 0xffffff);
    }
    return n;
}

} // namespace saffron::test
