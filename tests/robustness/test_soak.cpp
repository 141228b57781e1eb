// Long days: many connect/disconnect cycles against QEMU, and a long streaming session against
// libspice-server (tests/spice-test-server, video-moving with streaming on), measured with
// /proc/self/statm (resident set) and /proc/self/fd. The figures are printed; the descriptors
// must come back to their level after warm-up and the resident set must not keep growing.
// Leaks proper are LeakSanitizer's job (the suite runs under ASan in CI; RobustnessReport runs a
// leak check at the end of the executable).
//
// Durations: SAFFRON_SOAK_CYCLES (CI default 20; the figure is 100) and
// SAFFRON_STREAM_SOAK_SECONDS (CI default 60; the figure is 600).
#include "QemuInstance.h"
#include "RobustnessReport.h"
#include "Session.h"
#include "TestServerProcess.h"
#include "TestUtil.h"

#include <QCoreApplication>
#include <QSignalSpy>
#include <QTest>

using namespace saffron;
using namespace saffron::test;

namespace {

constexpr qint64 kMiB = 1024;

void settle() {
    // Sessions and sockets are deleted with deleteLater(); let that happen before measuring.
    for (int i = 0; i < 3; ++i) {
        QCoreApplication::sendPostedEvents(nullptr, QEvent::DeferredDelete);
        QTest::qWait(50);
    }
}

struct Sample {
    qint64 rssKiB = 0;
    int fds = 0;
};

Sample sample() {
    settle();
    return {residentKiB(), openFileDescriptors()};
}

} // namespace

class TestSoak : public QObject {
    Q_OBJECT
private slots:
    void initTestCase() { QVERIFY(QFile::exists(qEnvironmentVariable("SAFFRON_TEST_SERVER"))); }
    void cleanup() { RobustnessReport::caseDone(QTest::currentTestFailed()); }
    void connectDisconnectCycles();
    void streamingSession();
};

void TestSoak::connectDisconnectCycles() {
    const int cycles = envInt("SAFFRON_SOAK_CYCLES", 20);
    const int warmup = 3; // first sessions set up Qt's and the codecs' one-time state
    QemuInstance q;
    QVERIFY2(q.start(), qPrintable(q.errorString()));
    QVERIFY(!q.waitForBiosScreen().isNull());
    SessionOptions o;
    o.host = QemuInstance::host();
    o.port = q.port();

    auto cycle = [&](int i) {
        Session s(o);
        QSignalSpy marked(&s, &Session::displayMarked);
        QSignalSpy ended(&s, &Session::disconnected);
        s.start();
        const bool frame = !marked.isEmpty() || marked.wait(30000);
        if (!frame)
            qWarning("cycle %d: no frame (%s)", i,
                     ended.isEmpty() ? "still connecting" : qPrintable(ended.first().first().toString()));
        // Half of the cycles end from our side, half leave it to the destructor.
        if (i % 2)
            s.stop();
        return frame;
    };

    for (int i = 0; i < warmup; ++i)
        QVERIFY(cycle(i));
    const Sample base = sample();
    Sample mid{};
    qint64 peakKiB = base.rssKiB;
    for (int i = 0; i < cycles; ++i) {
        QVERIFY2(cycle(warmup + i), qPrintable(QStringLiteral("cycle %1 of %2").arg(i + 1).arg(cycles)));
        const Sample s = sample();
        peakKiB = std::max(peakKiB, s.rssKiB);
        if (i == cycles / 2 - 1)
            mid = s;
        if ((i + 1) % 10 == 0 || i + 1 == cycles)
            qInfo("cycle %3d/%d: RSS %lld KiB (%+lld), fds %d (%+d)", i + 1, cycles, s.rssKiB,
                  s.rssKiB - base.rssKiB, s.fds, s.fds - base.fds);
    }
    const Sample end = sample();
    const qint64 growth = end.rssKiB - base.rssKiB;
    const qint64 lateGrowth = end.rssKiB - mid.rssKiB;
    qInfo("%d connect/disconnect cycles: RSS %lld -> %lld KiB (%+lld KiB, %+lld in the second half, "
          "peak %lld), fds %d -> %d",
          cycles, base.rssKiB, end.rssKiB, growth, lateGrowth, peakKiB, base.fds, end.fds);
    RobustnessReport::setFigure(QStringLiteral("cycles"), cycles);
    RobustnessReport::setFigure(QStringLiteral("cycles_rss_growth_kib"), growth);
    RobustnessReport::maxFigure(QStringLiteral("max_rss_growth_kib"), growth);
    RobustnessReport::setFigure(QStringLiteral("cycles_fds_before"), base.fds);
    RobustnessReport::setFigure(QStringLiteral("cycles_fds_after"), end.fds);
    if (end.fds > base.fds)
        qWarning().noquote() << openFileDescriptorTargets().join(QLatin1Char('\n'));
    QVERIFY2(end.fds <= base.fds, "file descriptors grew over the cycles");
    // A session is a few MiB (surfaces, caches, a thread): a per-cycle leak of one would show as
    // tens of MiB over the run. Allocator and sanitizer caches settle well below these bounds.
    QVERIFY2(growth < 48 * kMiB, qPrintable(QString::number(growth)));
    QVERIFY2(lateGrowth < 16 * kMiB, qPrintable(QString::number(lateGrowth)));
}

void TestSoak::streamingSession() {
    const int seconds = std::max(20, envInt("SAFFRON_STREAM_SOAK_SECONDS", 60));
    TestServerProcess server({QStringLiteral("--workload"), QStringLiteral("video-moving"),
                              QStringLiteral("--size"), QStringLiteral("640x480"),
                              QStringLiteral("--streaming-video"), QStringLiteral("all"),
                              QStringLiteral("--video-codecs"), QStringLiteral("spice:mjpeg")});
    SessionOptions o;
    o.host = QStringLiteral("127.0.0.1");
    o.port = server.port();
    QVERIFY(o.port);
    Session session(o);
    QSignalSpy ended(&session, &Session::disconnected);
    session.start();
    // spice-server starts a stream after ~20 frames of the region changing.
    QVERIFY2(
        waitUntil([&] { return session.info().display.video.framesPresented >= 25; }, 60000),
        qPrintable(QStringLiteral("%1 frames presented").arg(session.info().display.video.framesPresented)));

    // Warm-up: the decoder's pools and the stream's buffers reach their working size.
    const int warmupS = std::max(10, seconds / 5);
    QTest::qWait(warmupS * 1000);
    const Sample base = sample();
    const quint64 framesAtBase = session.info().display.video.framesPresented;
    Sample mid = base;
    qint64 peakKiB = base.rssKiB;
    QElapsedTimer clock;
    clock.start();
    const qint64 runMs = qint64(seconds - warmupS) * 1000;
    bool midTaken = false;
    while (clock.elapsed() < runMs) {
        QTest::qWait(5000);
        const Sample s = sample();
        peakKiB = std::max(peakKiB, s.rssKiB);
        if (!midTaken && clock.elapsed() >= runMs / 2) {
            mid = s;
            midTaken = true;
        }
        QVERIFY2(ended.isEmpty(), qPrintable(ended.isEmpty() ? QString() : ended.first().first().toString()));
        const VideoStats v = session.info().display.video;
        qInfo("stream %3llds: RSS %lld KiB (%+lld), fds %d (%+d), %llu frames presented, %llu streams",
              (clock.elapsed() + warmupS * 1000) / 1000, s.rssKiB, s.rssKiB - base.rssKiB, s.fds,
              s.fds - base.fds, static_cast<unsigned long long>(v.framesPresented),
              static_cast<unsigned long long>(v.streamsCreated));
    }
    const Sample end = sample();
    const VideoStats v = session.info().display.video;
    const qint64 growth = end.rssKiB - base.rssKiB;
    const qint64 lateGrowth = end.rssKiB - mid.rssKiB;
    qInfo("%d s streaming (%d s warm-up): RSS %lld -> %lld KiB (%+lld KiB, %+lld in the second half, peak "
          "%lld), "
          "fds %d -> %d, %llu frames presented, %llu decode errors",
          seconds, warmupS, base.rssKiB, end.rssKiB, growth, lateGrowth, peakKiB, base.fds, end.fds,
          static_cast<unsigned long long>(v.framesPresented),
          static_cast<unsigned long long>(v.decodeErrors));
    RobustnessReport::setFigure(QStringLiteral("stream_seconds"), seconds);
    RobustnessReport::setFigure(QStringLiteral("stream_rss_growth_kib"), growth);
    RobustnessReport::maxFigure(QStringLiteral("max_rss_growth_kib"), growth);
    RobustnessReport::setFigure(QStringLiteral("stream_fds_after"), end.fds);
    RobustnessReport::setFigure(QStringLiteral("stream_frames"), qint64(v.framesPresented));
    QVERIFY(v.framesPresented > framesAtBase); // still streaming, not a frozen session
    QCOMPARE(v.decodeErrors, quint64(0));
    QVERIFY2(end.fds <= base.fds, "file descriptors grew while streaming");
    QVERIFY2(growth < 32 * kMiB, qPrintable(QString::number(growth)));
    QVERIFY2(lateGrowth < 16 * kMiB, qPrintable(QString::number(lateGrowth)));
    session.stop();
    settle();
    RobustnessReport::setFigure(QStringLiteral("fds_after_soak"), openFileDescriptors());
}

SAFFRON_ROBUSTNESS_MAIN(QCoreApplication, TestSoak)
#include "test_soak.moc"
