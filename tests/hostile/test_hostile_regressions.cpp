// Regression cases found by the session fuzzers (tests/fuzz-session), replayed through
// Channel::dispatch() on channels that never connect: the same path the fuzzers drive.

#include "SpiceBuilders.h"
#include "channels/CursorChannel.h"
#include "channels/DisplayChannel.h"
#include "channels/MainChannel.h"

#include <QLoggingCategory>
#include <QTest>

#include <spice/enums.h>

using namespace saffron;
using namespace saffron::hostile;

namespace {
uint32_t pixel(const DisplayChannel& d, int x, int y) {
    SurfacePtr s = d.primarySurface();
    QMutexLocker lock(&s->mutex);
    return s->pixmap.at(x, y);
}
} // namespace

class TestHostileRegressions : public QObject {
    Q_OBJECT
private slots:
    void initTestCase() { QLoggingCategory::setFilterRules(QStringLiteral("*.debug=false\n*.info=false")); }
    void displayWithoutNetwork();
};

void TestHostileRegressions::displayWithoutNetwork() {
    // The fuzzers' premise: a channel that never connected parses and draws like a linked one.
    SessionOptions options;
    DisplayChannel d(options, 0);
    d.dispatch(SPICE_MSG_DISPLAY_SURFACE_CREATE, surfaceCreate(0, 16, 16));
    QVERIFY(d.primarySurface());
    d.dispatch(SPICE_MSG_DISPLAY_DRAW_FILL, drawFill(DrawBase{0, rectXYWH(2, 2, 4, 4), {}}, Brush::solid(0x123456)));
    QCOMPARE(pixel(d, 3, 3), 0xff123456u);
    QCOMPARE(pixel(d, 1, 1), 0xff000000u);
    QCOMPARE(d.stats().badMessages, quint64(0));
}

QTEST_GUILESS_MAIN(TestHostileRegressions)
#include "test_hostile_regressions.moc"
