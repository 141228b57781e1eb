// The session engine against QEMU 7.2's SPICE server (SeaBIOS on a qxl card, TCG, no disk):
// pixels against QMP screendump, ticket auth, TLS, inputs, and HMP `info spice`.
#include "ConnectProxy.h"
#include "QemuInstance.h"
#include "SessionProbe.h"
#include "TestCertificates.h"
#include "TestUtil.h"

#include <QDir>
#include <QRegularExpression>
#include <QSet>
#include <QTest>
#include <spice/enums.h>

using namespace saffron;
using namespace saffron::test;

namespace {

SessionOptions optionsFor(const QemuInstance& q) {
    SessionOptions o;
    o.host = QemuInstance::host();
    o.port = q.port();
    o.tlsPort = q.tlsPort();
    return o;
}

// Our surface and QEMU's own rendering must agree exactly. SeaBIOS blinks its text cursor, so
// retry until both are taken in the same blink phase.
bool matchesScreendump(SessionProbe& probe, QemuInstance& q, QImage* ours = nullptr,
                       int* lastDiff = nullptr) {
    for (int attempt = 0; attempt < 60; ++attempt) {
        QTest::qWait(attempt ? 100 : 0);
        const QImage dump = q.qmp().screendump().convertToFormat(QImage::Format_RGB32);
        const QImage mine = probe.frame();
        const int diff = differingPixels(mine, dump);
        if (lastDiff)
            *lastDiff = diff;
        if (ours)
            *ours = mine;
        if (diff == 0 && !mine.isNull())
            return true;
    }
    return false;
}

QString artifactPath(const QString& name) {
    const QString dir = QDir::temp().filePath(QStringLiteral("saffron-test-artifacts"));
    QDir().mkpath(dir);
    return QDir(dir).filePath(name);
}

} // namespace

class TestQemuSession : public QObject {
    Q_OBJECT
private slots:
    void surfaceMatchesScreendump_data();
    void surfaceMatchesScreendump();
    void ticketAuthentication();
    void wrongTicketFailsOnce();
    void tls_data();
    void tls();
    void serverRequiredTlsOnMain();
    void escapeOpensBootMenu();
    void allChannelsConnectedInInfoSpice();
    void throughHttpConnectProxy();
};

void TestQemuSession::surfaceMatchesScreendump_data() {
    QTest::addColumn<QString>("serverCompression");
    QTest::addColumn<int>("preferred");         // -1: let the server choose
    QTest::addColumn<int>("expectedImageType"); // -1: any mix (the auto_* modes choose per image)
    QTest::newRow("off") << "off" << -1 << int(SPICE_IMAGE_TYPE_BITMAP);
    QTest::newRow("quic") << "quic" << -1 << int(SPICE_IMAGE_TYPE_QUIC);
    QTest::newRow("lz") << "lz" << -1 << int(SPICE_IMAGE_TYPE_LZ_RGB);
    QTest::newRow("glz") << "glz" << -1 << int(SPICE_IMAGE_TYPE_GLZ_RGB);
    QTest::newRow("auto_glz") << "auto_glz" << -1 << -1;
    QTest::newRow("auto_lz") << "auto_lz" << -1 << -1;
    // QEMU 7.2 refuses image-compression=lz4 on its command line; LZ4 is chosen by the
    // client's preferred-compression message, over the server's default auto_glz.
    QTest::newRow("lz4") << "auto_glz" << int(SPICE_IMAGE_COMPRESSION_LZ4) << int(SPICE_IMAGE_TYPE_LZ4);
}

void TestQemuSession::surfaceMatchesScreendump() {
    QFETCH(QString, serverCompression);
    QFETCH(int, preferred);
    QFETCH(int, expectedImageType);
    QemuOptions qo;
    qo.spiceOptions << QStringLiteral("image-compression=%1").arg(serverCompression);
    // A scripted sequence of screens (splash, then the boot menu after Escape) so that caches and
    // the GLZ dictionary are used across several images.
    qo.extraArgs << QStringLiteral("-boot") << QStringLiteral("menu=on,splash-time=60000");
    QemuInstance q(qo);
    QVERIFY2(q.start(), qPrintable(q.errorString()));

    SessionOptions o = optionsFor(q);
    if (preferred >= 0)
        o.preferredCompression = preferred;
    SessionProbe probe(o);
    QVERIFY2(probe.waitForFrame(), qPrintable(probe.endError()));
    const QString tag = QString::fromLatin1(QTest::currentDataTag());
    QImage ours;
    int diff = -1;
    QVERIFY(waitUntil([&] { return !isUniform(probe.frame()); }, 20000));
    bool same = matchesScreendump(probe, q, &ours, &diff);
    ours.save(artifactPath(QStringLiteral("qemu-%1-splash.png").arg(tag)));
    QVERIFY2(same, qPrintable(QStringLiteral("%1 pixels differ from screendump").arg(diff)));

    QVERIFY(waitUntil([&] { return probe.session.info().channels.size() >= 3; }, 10000));
    const QImage splash = ours;
    probe.session.keyDown(0x01); // Escape: SeaBIOS draws its boot menu
    probe.session.keyUp(0x01);
    QVERIFY(waitUntil([&] { return differingPixels(probe.frame(), splash) > 9 * 16; }, 20000));
    same = matchesScreendump(probe, q, &ours, &diff);
    ours.save(artifactPath(QStringLiteral("qemu-%1-menu.png").arg(tag)));
    QVERIFY2(same, qPrintable(QStringLiteral("%1 pixels differ from screendump").arg(diff)));

    const SessionInfo info = probe.session.info();
    if (expectedImageType >= 0) {
        QVERIFY2(info.imagesDecoded.count(expectedImageType) && info.imagesDecoded.at(expectedImageType) > 0,
                 "the server did not use the expected image codec");
    } else {
        QVERIFY(!info.imagesDecoded.empty());
    }
    QCOMPARE(info.display.badDraws, quint64(0));
    for (const ChannelInfo& c : info.channels)
        QCOMPARE(c.stats.badMessages, quint64(0));
}

void TestQemuSession::ticketAuthentication() {
    QemuOptions qo;
    qo.password = QStringLiteral("s3cret-ticket");
    QemuInstance q(qo);
    QVERIFY2(q.start(), qPrintable(q.errorString()));
    SessionOptions o = optionsFor(q);
    o.password = "s3cret-ticket";
    SessionProbe probe(o);
    QVERIFY2(probe.waitForFrame(), qPrintable(probe.endError()));
    QVERIFY(probe.ended.isEmpty());
}

void TestQemuSession::wrongTicketFailsOnce() {
    QemuOptions qo;
    qo.password = QStringLiteral("s3cret-ticket");
    QemuInstance q(qo);
    QVERIFY2(q.start(), qPrintable(q.errorString()));
    SessionOptions o = optionsFor(q);
    o.password = "wrong";
    SessionProbe probe(o);
    QVERIFY(probe.waitForEnd());
    QVERIFY2(probe.endError().contains(QLatin1String("authentication failed")), qPrintable(probe.endError()));
    // No retry storm: one attempt, one failure, nothing after it.
    QTest::qWait(2000);
    QCOMPARE(probe.ended.size(), 1);
    QCOMPARE(probe.closed.size(), 1);
    QVERIFY(probe.marked.isEmpty());
}

void TestQemuSession::tls_data() {
    QTest::addColumn<bool>("rightCa");
    QTest::addColumn<QString>("subject"); // "" none, "right", or a wrong subject
    QTest::addColumn<bool>("connects");
    QTest::addColumn<QString>("error");
    QTest::newRow("right CA") << true << "" << true << "";
    QTest::newRow("right CA and host-subject") << true << "right" << true << "";
    QTest::newRow("wrong CA") << false << "" << false << "TLS certificate of 127.0.0.1 refused";
    QTest::newRow("wrong host-subject")
        << true << "C=XX,O=Somebody Else,CN=localhost" << false << "does not match host-subject";
}

void TestQemuSession::tls() {
    QFETCH(bool, rightCa);
    QFETCH(QString, subject);
    QFETCH(bool, connects);
    QFETCH(QString, error);
    TestCertificates certs;
    QVERIFY2(certs.generate(), qPrintable(certs.errorString()));
    QemuOptions qo;
    qo.x509Dir = certs.x509Dir();
    qo.plainPort = false;
    QemuInstance q(qo);
    QVERIFY2(q.start(), qPrintable(q.errorString()));

    SessionOptions o = optionsFor(q);
    QCOMPARE(o.port, quint16(0));
    o.caCertificates = QSslCertificate::fromPath(rightCa ? certs.caCertPath() : certs.wrongCaCertPath());
    QVERIFY(!o.caCertificates.isEmpty());
    o.hostSubject = subject == QLatin1String("right") ? certs.hostSubject() : subject;
    SessionProbe probe(o);
    if (connects) {
        QVERIFY2(probe.waitForFrame(), qPrintable(probe.endError()));
        const SessionInfo info = probe.session.info();
        for (const ChannelInfo& c : info.channels)
            if (c.state == QLatin1String("Ready"))
                QVERIFY2(c.tls, qPrintable(c.name));
    } else {
        QVERIFY(probe.waitForEnd());
        QVERIFY2(probe.endError().contains(error), qPrintable(probe.endError()));
        QVERIFY(probe.marked.isEmpty());
    }
}

void TestQemuSession::serverRequiredTlsOnMain() {
    // QEMU's tls-channel= makes the server answer SPICE_LINK_ERR_NEED_SECURED on the plain port;
    // the client must move that channel (only) to the tls-port.
    TestCertificates certs;
    QVERIFY2(certs.generate(), qPrintable(certs.errorString()));
    QemuOptions qo;
    qo.x509Dir = certs.x509Dir();
    qo.spiceOptions << QStringLiteral("tls-channel=main");
    QemuInstance q(qo);
    QVERIFY2(q.start(), qPrintable(q.errorString()));
    SessionOptions o = optionsFor(q);
    QVERIFY(o.port && o.tlsPort);
    o.caCertificates = QSslCertificate::fromPath(certs.caCertPath());
    SessionProbe probe(o);
    QVERIFY2(probe.waitForFrame(), qPrintable(probe.endError()));
    const SessionInfo info = probe.session.info();
    for (const ChannelInfo& c : info.channels) {
        if (c.name == QLatin1String("main:0"))
            QVERIFY(c.tls);
        if (c.name == QLatin1String("display:0"))
            QVERIFY(!c.tls);
    }
}

void TestQemuSession::escapeOpensBootMenu() {
    QemuOptions qo;
    qo.extraArgs << QStringLiteral("-boot") << QStringLiteral("menu=on,splash-time=6000");
    QemuInstance q(qo);
    QVERIFY2(q.start(), qPrintable(q.errorString()));
    SessionProbe probe(optionsFor(q));
    QVERIFY2(probe.waitForFrame(), qPrintable(probe.endError()));
    // SeaBIOS shows "Press ESC for boot menu." for splash-time ms; wait for that screen on our
    // surface before pressing.
    auto promptShown = [&] {
        // Text row 2 (pixels 32..47 in the 720x400 text mode) holds the prompt line.
        const QImage f = probe.frame();
        for (int y = 32; y < 48 && y < f.height(); ++y)
            for (int x = 0; x < f.width(); ++x)
                if ((f.pixel(x, y) & 0xffffff) != 0)
                    return true;
        return false;
    };
    QVERIFY(waitUntil(promptShown, 20000));
    QImage splash;
    QVERIFY(matchesScreendump(probe, q, &splash));
    QVERIFY(!isUniform(splash));
    splash.save(artifactPath(QStringLiteral("bootmenu-0-splash.png")));

    QVERIFY(waitUntil([&] { return probe.session.info().channels.size() >= 3; }, 10000));
    probe.session.keyDown(0x01); // Escape, AT set 1
    probe.session.keyUp(0x01);

    QImage menu;
    QVERIFY(waitUntil([&] { return differingPixels(probe.frame(), splash) > 0; }, 10000));
    QVERIFY(matchesScreendump(probe, q, &menu));
    menu.save(artifactPath(QStringLiteral("bootmenu-1-menu.png")));
    // The boot menu waits for a choice; without the Escape the splash would have timed out into
    // the "No bootable device" screen by now.
    QTest::qWait(7000);
    QImage later;
    QVERIFY(matchesScreendump(probe, q, &later));
    // Equal up to the blinking text cursor (one 9x16 cell); the boot-failure screen would differ
    // in thousands of pixels.
    QVERIFY2(differingPixels(later, menu) <= 9 * 16,
             qPrintable(QString::number(differingPixels(later, menu))));
}

void TestQemuSession::allChannelsConnectedInInfoSpice() {
    QemuInstance q;
    QVERIFY2(q.start(), qPrintable(q.errorString()));
    SessionProbe probe(optionsFor(q));
    QVERIFY2(probe.waitForFrame(), qPrintable(probe.endError()));
    QVERIFY(waitUntil(
        [&] {
            const auto info = probe.session.info();
            int ready = 0;
            for (const auto& c : info.channels)
                ready += c.state == QLatin1String("Ready");
            return ready == info.channels.size();
        },
        10000));
    const SessionInfo info = probe.session.info();
    QSet<QString> ours;
    for (const ChannelInfo& c : info.channels)
        ours.insert(Channel::typeName(c.type));
    const QString hmp = q.qmp().humanMonitorCommand(QStringLiteral("info spice"));
    QSet<QString> theirs;
    static const QRegularExpression re(QStringLiteral("channel name: (\\w+)"));
    for (auto it = re.globalMatch(hmp); it.hasNext();)
        theirs.insert(it.next().captured(1));
    QVERIFY2(theirs == ours, qPrintable(hmp));
    QVERIFY(info.unsupportedChannels.isEmpty());
    QCOMPARE(theirs.size(), 4); // main, display, inputs, cursor: what QEMU offers without audio/usb
}

void TestQemuSession::throughHttpConnectProxy() {
    // Proxmox VE: the .vv file names spiceproxy as proxy=http://node:3128 and a host that only
    // the proxy can resolve; every channel must go through CONNECT.
    QemuInstance q;
    QVERIFY2(q.start(), qPrintable(q.errorString()));
    ConnectProxy proxy;
    SessionOptions o = optionsFor(q);
    o.proxy = QUrl(QStringLiteral("http://127.0.0.1:%1").arg(proxy.port()));
    SessionProbe probe(o);
    QVERIFY2(probe.waitForFrame(), qPrintable(probe.endError()));
    QVERIFY(waitUntil([&] { return proxy.targets().size() >= 4; }, 10000));
    for (const QByteArray& t : proxy.targets())
        QCOMPARE(t, QStringLiteral("127.0.0.1:%1").arg(q.port()).toLatin1());
    QVERIFY(matchesScreendump(probe, q));
}

QTEST_GUILESS_MAIN(TestQemuSession)
#include "test_qemu_session.moc"
