// Regression cases found by the session fuzzers (tests/fuzz-session), replayed through
// Channel::dispatch() on channels that never connect: the same path the fuzzers drive.

#include "SessionFuzzing.h"
#include "SpiceBuilders.h"
#include "channels/CursorChannel.h"
#include "channels/DisplayChannel.h"
#include "channels/MainChannel.h"

#include <QDir>
#include <QFile>
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
    void seedCorporaAreValid_data();
    void seedCorporaAreValid();
};

void TestHostileRegressions::displayWithoutNetwork() {
    // The fuzzers' premise: a channel that never connected parses and draws like a linked one.
    SessionOptions options;
    DisplayChannel d(options, 0);
    d.dispatch(SPICE_MSG_DISPLAY_SURFACE_CREATE, surfaceCreate(0, 16, 16));
    QVERIFY(d.primarySurface());
    d.dispatch(SPICE_MSG_DISPLAY_DRAW_FILL,
               drawFill(DrawBase{0, rectXYWH(2, 2, 4, 4), {}}, Brush::solid(0x123456)));
    QCOMPARE(pixel(d, 3, 3), 0xff123456u);
    QCOMPARE(pixel(d, 1, 1), 0xff000000u);
    QCOMPARE(d.stats().badMessages, quint64(0));
}

void TestHostileRegressions::seedCorporaAreValid_data() {
    QTest::addColumn<QString>("path");
    for (const char* fuzzer : {"fuzz_display_messages", "fuzz_main_messages", "fuzz_cursor_messages"}) {
        const QDir dir(QStringLiteral(SAFFRON_FUZZ_CORPUS "/") + QLatin1String(fuzzer));
        for (const QString& name : dir.entryList(QDir::Files))
            QTest::newRow(qPrintable(QLatin1String(fuzzer) + QLatin1Char('/') + name)) << dir.filePath(name);
    }
}

void TestHostileRegressions::seedCorporaAreValid() {
    // The seeds are meant to be valid messages of every kind, so that the fuzzers start from
    // inputs that reach deep into the drawing and decoding code: none may be dropped as malformed.
    QFETCH(QString, path);
    QFile file(path);
    QVERIFY(file.open(QIODevice::ReadOnly));
    const QByteArray bytes = file.readAll();
    const std::span<const uint8_t> input(reinterpret_cast<const uint8_t*>(bytes.constData()),
                                         size_t(bytes.size()));
    const SessionOptions options;
    std::unique_ptr<Channel> channel;
    std::vector<uint16_t> types;
    if (path.contains(QLatin1String("fuzz_display_messages"))) {
        auto d = std::make_unique<DisplayChannel>(options, 0);
        // The display fuzzer's setup (fuzz_display_messages.cpp).
        d->dispatch(SPICE_MSG_DISPLAY_SURFACE_CREATE, surfaceCreate(0, 64, 64));
        d->dispatch(SPICE_MSG_DISPLAY_SURFACE_CREATE, surfaceCreate(1, 32, 32, SPICE_SURFACE_FMT_32_ARGB, 0));
        d->dispatch(SPICE_MSG_DISPLAY_STREAM_CREATE,
                    streamCreate(0, 1, SPICE_STREAM_FLAGS_TOP_DOWN, SPICE_VIDEO_CODEC_TYPE_MJPEG, 16, 16, 16,
                                 16, rectXYWH(0, 0, 16, 16)));
        channel = std::move(d);
        types = fuzz::displayTypes();
    } else if (path.contains(QLatin1String("fuzz_main_messages"))) {
        channel = std::make_unique<MainChannel>(options);
        types = fuzz::mainTypes();
    } else {
        channel = std::make_unique<CursorChannel>(options, 0);
        types = fuzz::cursorTypes();
    }
    int messages = 0;
    fuzz::forEachRecord(input, types, [&](const fuzz::Record& r) {
        channel->dispatch(r.type, r.body);
        ++messages;
    });
    QVERIFY(messages > 0);
    QCOMPARE(channel->stats().badMessages, quint64(0));
    if (auto* d = qobject_cast<DisplayChannel*>(channel.get()))
        QCOMPARE(d->displayStats().badDraws, quint64(0));
}

QTEST_GUILESS_MAIN(TestHostileRegressions)
#include "test_hostile_regressions.moc"
