// Servers that vanish without a word (issue 9): a host that never answers the connection, a
// server that accepts and then says nothing, and a server that disappears mid-session with no
// FIN or RST (host powered off, cable pulled). Each must end the session with a clear reason
// instead of leaving the user in front of a frozen "connecting" screen or a frozen desktop.
//
// Runs in a private network namespace (ctest starts it under `unshare --net --map-root-user`,
// see CMakeLists.txt), where it may take the loopback link down and build a veth pair whose far
// end silently drops everything: no packet-filter tools or modules needed, and the machine's own
// network is never touched.
#include "FaultProxy.h"
#include "QemuInstance.h"
#include "RobustnessReport.h"
#include "SessionProbe.h"
#include "TestUtil.h"

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QProcess>
#include <QTest>
#include <QTimer>

using namespace saffron;
using namespace saffron::test;

namespace {

// An address on a veth link whose peer has no address: packets to it leave and are dropped
// without an ICMP error, exactly like a powered-off host behind a switch. The static neighbour
// entry keeps the kernel from failing fast on ARP.
constexpr auto kSilentHost = "10.231.0.2";

bool ip(const QStringList& args, QString* error = nullptr) {
    QProcess p;
    p.start(QStringLiteral("ip"), args);
    const bool ok = p.waitForFinished(10000) && p.exitStatus() == QProcess::NormalExit && p.exitCode() == 0;
    if (!ok && error)
        *error =
            QStringLiteral("ip %1: %2").arg(args.join(' '), QString::fromLocal8Bit(p.readAllStandardError()));
    return ok;
}

SessionEnd lastEnd(QSignalSpy& spy) {
    return spy.isEmpty() ? SessionEnd{} : spy.last().first().value<SessionEnd>();
}

} // namespace

class TestDeadPeer : public QObject {
    Q_OBJECT
private slots:
    void initTestCase() {
        if (qEnvironmentVariable("SAFFRON_PRIVATE_NETNS") != QLatin1String("1"))
            QSKIP("needs a private network namespace: run it through ctest (robustness_dead_peer)");
        QString error;
        QVERIFY2(ip({"link", "set", "lo", "up"}, &error), qPrintable(error));
    }
    void cleanup() { RobustnessReport::caseDone(QTest::currentTestFailed()); }

    // SYNs into the void: without a deadline the kernel retries for about two minutes.
    void silentHostEndsTheLink() {
        QString error;
        QVERIFY2(ip({"link", "add", "sf0", "type", "veth", "peer", "name", "sf1"}, &error),
                 qPrintable(error));
        QVERIFY2(ip({"addr", "add", "10.231.0.1/24", "dev", "sf0"}, &error), qPrintable(error));
        QVERIFY2(ip({"link", "set", "sf0", "up"}, &error), qPrintable(error));
        QVERIFY2(ip({"link", "set", "sf1", "up"}, &error), qPrintable(error));
        QVERIFY2(ip({"neigh", "add", kSilentHost, "lladdr", "02:00:00:00:0e:02", "dev", "sf0"}, &error),
                 qPrintable(error));
        SessionOptions o;
        o.host = QString::fromLatin1(kSilentHost);
        o.port = 5900;
        o.linkTimeoutMs = 3000;
        QElapsedTimer clock;
        clock.start();
        SessionProbe probe(o);
        QSignalSpy endSpy(&probe.session, &Session::ended);
        QVERIFY(probe.waitForEnd(60000));
        qInfo("silent host: \"%s\" after %lld ms", qPrintable(probe.endError()), clock.elapsed());
        QCOMPARE(lastEnd(endSpy).reason, EndReason::Unreachable);
        QVERIFY2(
            probe.endError().contains(QStringLiteral("no answer from %1:5900 within 3 s").arg(kSilentHost)),
            qPrintable(probe.endError()));
    }

    // A server (here a stalled relay in front of QEMU) that accepts and then never speaks.
    void mutedServerEndsTheLink() {
        QemuInstance q;
        QVERIFY2(q.start(), qPrintable(q.errorString()));
        FaultProxy proxy(QemuInstance::host(), q.port());
        QVERIFY(proxy.start());
        proxy.setStalled(true);
        SessionOptions o;
        o.host = QemuInstance::host();
        o.port = proxy.port();
        o.linkTimeoutMs = 3000;
        SessionProbe probe(o);
        QSignalSpy endSpy(&probe.session, &Session::ended);
        QVERIFY(probe.waitForEnd(60000));
        qInfo("muted server: \"%s\"", qPrintable(probe.endError()));
        QCOMPARE(lastEnd(endSpy).reason, EndReason::Unreachable);
        QVERIFY2(probe.endError().contains(QStringLiteral("did not complete the SPICE link within 3 s")),
                 qPrintable(probe.endError()));
    }

    // The established session's peer vanishes: loopback goes down under a live session with QEMU.
    void vanishedServerEndsTheSession() {
        QemuInstance q;
        QVERIFY2(q.start(), qPrintable(q.errorString()));
        SessionOptions o;
        o.host = QemuInstance::host();
        o.port = q.port();
        o.videoCodecs = {QStringLiteral("off")};
        o.deadPeerSeconds = 6;
        SessionProbe probe(o);
        QSignalSpy endSpy(&probe.session, &Session::ended);
        QSignalSpy readySpy(&probe.session, &Session::channelReady);
        QVERIFY2(probe.waitForFrame(60000), qPrintable(probe.endError()));
        // main, display, cursor and inputs all linked: the link deadline is not what ends it.
        QVERIFY(waitUntil([&] { return readySpy.size() >= 4; }, 20000));
        QString error;
        QVERIFY2(ip({"link", "set", "lo", "down"}, &error), qPrintable(error));
        QElapsedTimer clock;
        clock.start();
        // What a user does in front of a frozen picture: move the mouse, press keys. Their
        // packets go unacknowledged, which is what TCP_USER_TIMEOUT measures.
        QTimer poke;
        int x = 0;
        connect(&poke, &QTimer::timeout, &probe.session,
                [&] { probe.session.mouseMotion(QPoint((++x % 2) ? 4 : -4, 0), 0); });
        poke.start(500);
        const bool ended = probe.waitForEnd(60000);
        poke.stop();
        const qint64 detectMs = clock.elapsed();
        QVERIFY2(ip({"link", "set", "lo", "up"}, &error), qPrintable(error));
        QVERIFY2(ended, "the session outlived its vanished server by 60 s");
        qInfo("vanished server: \"%s\" after %lld ms (dead-peer budget 6 s)", qPrintable(probe.endError()),
              detectMs);
        RobustnessReport::setFigure(QStringLiteral("dead_peer_6s_detected_ms"), detectMs);
        QCOMPARE(lastEnd(endSpy).reason, EndReason::Lost);
        QVERIFY2(probe.endError().contains(QStringLiteral("the server stopped answering")),
                 qPrintable(probe.endError()));
    }
};

SAFFRON_ROBUSTNESS_MAIN(QCoreApplication, TestDeadPeer)
#include "test_dead_peer.moc"
