#pragma once

#include "Session.h"
#include "TestUtil.h"
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

} // namespace saffron::test
