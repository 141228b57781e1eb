// Bad networks between the client and a real SPICE server (QEMU 7.2, SeaBIOS on qxl), through
// FaultProxy: the session stays usable at 150 ms RTT and under a bandwidth cap, the shell's
// SessionController reconnects after a reset and a half-close, and a stalled server never freezes
// the GUI thread (a heartbeat timer on it keeps running while the shell is driven).
#include "FaultProxy.h"
#include "Heartbeat.h"
#include "QemuInstance.h"
#include "RobustnessReport.h"
#include "SessionProbe.h"
#include "TestUtil.h"
#include "app/ShellApp.h"

#include <QGuiApplication>
#include <QQuickWindow>
#include <QTest>
#include <spice/enums.h>

using namespace saffron;
using namespace saffron::test;

namespace {

// The VGA text cursor blinks: one 9x16 cell may differ between any two pictures of the BIOS.
constexpr int kCursorCellPixels = 9 * 16;
// What "the GUI thread froze" means here: far above any scheduling hiccup of a loaded, shared,
// sanitizer-instrumented test machine, far below what a user would call a hang.
constexpr qint64 kMaxHeartbeatGapMs = 2000;

SessionOptions optionsVia(const FaultProxy& proxy) {
    SessionOptions o;
    o.host = QemuInstance::host();
    o.port = proxy.port();
    o.videoCodecs = {QStringLiteral("off")}; // the BIOS screen needs no video decoders
    return o;
}

ConnectionTarget targetVia(const FaultProxy& proxy) {
    ConnectionTarget t;
    t.spec.host = QemuInstance::host();
    t.spec.port = proxy.port();
    t.spec.title = QStringLiteral("faulty network");
    t.options = optionsVia(proxy);
    return t;
}

// Our surface equals QEMU's own rendering, up to the blinking cursor cell.
bool matchesScreendump(SessionProbe& probe, QemuInstance& q, int* diff) {
    return waitUntil(
        [&] {
            *diff =
                differingPixels(probe.frame(), q.qmp().screendump().convertToFormat(QImage::Format_RGB32));
            return *diff <= kCursorCellPixels && !probe.frame().isNull();
        },
        30000);
}

bool waitState(SessionController& c, const QString& state, int timeoutMs = 60000) {
    return waitUntil([&] { return c.state() == state; }, timeoutMs);
}

SessionController::Policy kioskPolicy() {
    SessionController::Policy p;
    p.kiosk = true; // reconnect for ever, whatever ended the session
    p.backoffMinMs = 300;
    p.backoffMaxMs = 2000;
    return p;
}

} // namespace

class TestNetworkFaults : public QObject {
    Q_OBJECT
private slots:
    void cleanup() { RobustnessReport::caseDone(QTest::currentTestFailed()); }
    void usableAt150msRtt();
    void usableUnderBandwidthCap();
    void reconnectsAfterReset();
    void reconnectsAfterHalfClose();
    void stalledServerKeepsGuiResponsive();
    void stalledConnectKeepsGuiResponsive();
};

void TestNetworkFaults::usableAt150msRtt() {
    QemuOptions qo;
    // Long enough for the prompt to be seen and answered across the slow link.
    qo.extraArgs << QStringLiteral("-boot") << QStringLiteral("menu=on,splash-time=30000");
    QemuInstance q(qo);
    QVERIFY2(q.start(), qPrintable(q.errorString()));
    FaultProxy proxy(QemuInstance::host(), q.port());
    QVERIFY(proxy.start());
    proxy.setOneWayLatencyMs(75);

    QElapsedTimer clock;
    clock.start();
    SessionProbe probe(optionsVia(proxy));
    QVERIFY2(probe.waitForFrame(60000), qPrintable(probe.endError()));
    qInfo("150 ms RTT: first frame after %lld ms", clock.elapsed());
    // "Press ESC for boot menu." on text row 2 (pixels 32..47 of the 720x400 text mode).
    auto promptShown = [&] {
        const QImage f = probe.frame();
        for (int y = 32; y < 48 && y < f.height(); ++y)
            for (int x = 0; x < f.width(); ++x)
                if ((f.pixel(x, y) & 0xffffff) != 0)
                    return true;
        return false;
    };
    QVERIFY(waitUntil(promptShown, 30000));
    int diff = -1;
    QVERIFY2(matchesScreendump(probe, q, &diff), qPrintable(QString::number(diff)));
    const QImage splash = probe.frame();

    // Input reaches the server: Escape (AT set 1) opens SeaBIOS's boot menu. Pressed as soon as
    // the picture is there, as a user would: the inputs channel opens only after the first MARK
    // and needs two round trips to link, so the key usually waits in its queue.
    QString inputsState = QStringLiteral("not listed");
    for (const ChannelInfo& c : probe.session.info().channels)
        if (c.type == SPICE_CHANNEL_INPUTS)
            inputsState = c.state;
    qInfo("150 ms RTT: inputs channel %s when the key is pressed", qPrintable(inputsState));
    clock.restart();
    probe.session.keyDown(0x01);
    probe.session.keyUp(0x01);
    QVERIFY(waitUntil([&] { return differingPixels(probe.frame(), splash) > kCursorCellPixels; }, 20000));
    qInfo("150 ms RTT: key to changed picture in %lld ms", clock.elapsed());
    QVERIFY2(matchesScreendump(probe, q, &diff), qPrintable(QString::number(diff)));
    QVERIFY(probe.ended.isEmpty());
    RobustnessReport::setFigure(QStringLiteral("rtt150_key_to_picture_ms"), clock.elapsed());
}

void TestNetworkFaults::usableUnderBandwidthCap() {
    QemuInstance q;
    QVERIFY2(q.start(), qPrintable(q.errorString()));
    QVERIFY(!q.waitForBiosScreen().isNull());
    FaultProxy proxy(QemuInstance::host(), q.port());
    QVERIFY(proxy.start());
    proxy.setBandwidth(32 * 1024); // 256 kbit/s each way, a poor mobile link
    proxy.setOneWayLatencyMs(40);
    SessionProbe probe(optionsVia(proxy));
    QVERIFY2(probe.waitForFrame(90000), qPrintable(probe.endError()));
    int diff = -1;
    QVERIFY2(matchesScreendump(probe, q, &diff), qPrintable(QString::number(diff)));
    qInfo("32 KiB/s cap: %lld bytes to the client, %lld to the server", proxy.bytesToClient(),
          proxy.bytesToServer());
    QVERIFY(probe.ended.isEmpty());
}

void TestNetworkFaults::reconnectsAfterReset() {
    QemuInstance q;
    QVERIFY2(q.start(), qPrintable(q.errorString()));
    FaultProxy proxy(QemuInstance::host(), q.port());
    QVERIFY(proxy.start());
    SessionController c(kioskPolicy());
    c.open(targetVia(proxy));
    QVERIFY2(waitState(c, QStringLiteral("connected")), qPrintable(c.message()));
    const int first = c.attempt();

    // RST on every channel; while the "network" stays down new attempts are reset as well.
    proxy.setRefuseNew(true);
    proxy.resetAll();
    QVERIFY(waitUntil([&] { return c.state() != QStringLiteral("connected"); }, 20000));
    qInfo("after reset: state %s, \"%s\"", qPrintable(c.state()), qPrintable(c.message()));
    QTest::qWait(3000); // a few attempts meet the dead network
    qInfo("while down: %d connections accepted by the proxy so far, attempt %d", proxy.accepted(),
          c.attempt());
    proxy.setRefuseNew(false);
    QVERIFY2(waitState(c, QStringLiteral("connected"), 60000),
             qPrintable(c.state() + QLatin1Char(' ') + c.message()));
    QVERIFY(c.attempt() > first);
    QVERIFY(c.session() && c.session()->primarySurface());
    c.closeSession();
}

void TestNetworkFaults::reconnectsAfterHalfClose() {
    QemuInstance q;
    QVERIFY2(q.start(), qPrintable(q.errorString()));
    FaultProxy proxy(QemuInstance::host(), q.port());
    QVERIFY(proxy.start());
    SessionController c(kioskPolicy());
    c.open(targetVia(proxy));
    QVERIFY2(waitState(c, QStringLiteral("connected")), qPrintable(c.message()));
    const int first = c.attempt();
    // The client reads EOF on every channel while its own writes still reach the server: the
    // session must notice, end, and come back.
    proxy.halfCloseClients();
    QVERIFY(waitUntil([&] { return c.attempt() > first; }, 30000));
    QVERIFY2(waitState(c, QStringLiteral("connected"), 60000),
             qPrintable(c.state() + QLatin1Char(' ') + c.message()));
    c.closeSession();
}

// The shell, connected through the proxy; then the server stops answering (nothing relayed,
// nothing closed). The GUI thread keeps drawing and handling input, and the user can still
// leave: closing the session while stalled must not block on the network.
void TestNetworkFaults::stalledServerKeepsGuiResponsive() {
    QemuInstance q;
    QVERIFY2(q.start(), qPrintable(q.errorString()));
    FaultProxy proxy(QemuInstance::host(), q.port());
    QVERIFY(proxy.start());
    ShellStart s;
    s.target = targetVia(proxy);
    s.backoffMinMs = 300;
    s.backoffMaxMs = 2000;
    ShellApp app(std::move(s));
    QVERIFY(app.load());
    app.begin();
    QVERIFY2(waitState(app.controller(), QStringLiteral("connected")),
             qPrintable(app.controller().message()));
    QQuickWindow* w = app.window();

    const int stallMs = envInt("SAFFRON_STALL_SECONDS", 5) * 1000;
    auto drive = [&](int ms) {
        // What a user does meanwhile: type, move the mouse, and the scene graph renders.
        QElapsedTimer t;
        t.start();
        int i = 0;
        while (t.elapsed() < ms) {
            QTest::keyClick(w, Qt::Key_A);
            QTest::mouseMove(w, QPoint(10 + i % 300, 10 + i % 200));
            if (i % 5 == 0)
                (void)w->grabWindow();
            (void)app.controller().session()->info();
            QTest::qWait(100);
            ++i;
        }
    };

    Heartbeat hb;
    hb.start();
    drive(2000);
    hb.stop();
    const qint64 baseline = hb.maxGapMs();

    proxy.setStalled(true);
    hb.start();
    drive(stallMs);
    QCOMPARE(app.controller().state(), QStringLiteral("connected")); // a stall is not an end
    QElapsedTimer closing;
    closing.start();
    app.controller().disconnectSession();
    QCoreApplication::processEvents();
    const qint64 closeMs = closing.elapsed();
    QTest::qWait(500);
    hb.stop();
    qInfo("heartbeat (10 ms): max gap %lld ms before the stall, %lld ms during %d ms of stall "
          "(closing the stalled session took %lld ms), %lld beats",
          baseline, hb.maxGapMs(), stallMs, closeMs, hb.beats());
    RobustnessReport::maxFigure(QStringLiteral("stall_max_heartbeat_gap_ms"), hb.maxGapMs());
    QVERIFY2(hb.maxGapMs() < kMaxHeartbeatGapMs, qPrintable(QString::number(hb.maxGapMs())));
    QVERIFY(app.controller().state() != QStringLiteral("connected"));
    proxy.setStalled(false);
}

// A server that accepts the TCP connection and then never answers the link: the shell shows
// "connecting", its GUI thread stays responsive, and cancelling returns at once.
void TestNetworkFaults::stalledConnectKeepsGuiResponsive() {
    QemuInstance q;
    QVERIFY2(q.start(), qPrintable(q.errorString()));
    FaultProxy proxy(QemuInstance::host(), q.port());
    QVERIFY(proxy.start());
    proxy.setStalled(true);
    SessionController c(kioskPolicy());
    Heartbeat hb;
    hb.start();
    c.open(targetVia(proxy));
    QVERIFY(waitUntil([&] { return proxy.accepted() >= 1; }, 10000));
    QTest::qWait(envInt("SAFFRON_STALL_SECONDS", 5) * 1000);
    qInfo("stalled link: state %s, phase %s", qPrintable(c.state()), qPrintable(c.phase()));
    QVERIFY(c.state() != QStringLiteral("connected"));
    c.closeSession();
    QTest::qWait(200);
    hb.stop();
    qInfo("heartbeat during a stalled link: max gap %lld ms", hb.maxGapMs());
    RobustnessReport::maxFigure(QStringLiteral("stall_max_heartbeat_gap_ms"), hb.maxGapMs());
    QVERIFY2(hb.maxGapMs() < kMaxHeartbeatGapMs, qPrintable(QString::number(hb.maxGapMs())));
}

SAFFRON_ROBUSTNESS_MAIN(QGuiApplication, TestNetworkFaults)
#include "test_network_faults.moc"
