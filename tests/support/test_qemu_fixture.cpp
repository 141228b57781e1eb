// Checks the integration-test fixture itself against a real QEMU: start-up, QMP, HMP,
// screendump of the SeaBIOS screen, password and TLS configurations, generated certificates.
#include "QemuInstance.h"
#include "TestCertificates.h"
#include "TestUtil.h"

#include <QDir>
#include <QElapsedTimer>
#include <QFileInfo>
#include <QSslCertificate>
#include <QSslConfiguration>
#include <QSslSocket>
#include <QTcpServer>
#include <QTest>

using namespace saffron::test;

namespace {

// Both are SeaBIOS/VGA BIOS text-mode sizes (720x400) or the VGA default (640x480).
bool isBiosScreenSize(const QSize& size) {
    return size == QSize(720, 400) || size == QSize(640, 480);
}

} // namespace

class TestQemuFixture : public QObject {
    Q_OBJECT

private slots:
    void initTestCase() {
        if (QemuInstance::qemuBinary().isEmpty())
            QSKIP("qemu-system-x86_64 is not installed");
    }

    void freePortIsBindable() {
        const quint16 port = freeTcpPort();
        QVERIFY(port != 0);
        QTcpServer server;
        QVERIFY(server.listen(QHostAddress::LocalHost, port));
    }

    void startsAndAnswersQmp() {
        QemuInstance qemu;
        QVERIFY2(qemu.start(), qPrintable(qemu.errorString()));
        qInfo("QEMU start to QMP ready: %lld ms", qemu.startMilliseconds());
        QVERIFY(qemu.port() != 0);
        QCOMPARE(qemu.tlsPort(), quint16(0));

        const QJsonObject status = qemu.qmp().execute(QStringLiteral("query-status"));
        QVERIFY2(!status.contains(QStringLiteral("error")), qPrintable(qemu.qmp().errorString()));
        QCOMPARE(status[QStringLiteral("return")][QStringLiteral("status")].toString(),
                 QStringLiteral("running"));

        const QString info = qemu.qmp().humanMonitorCommand(QStringLiteral("info spice"));
        QVERIFY2(info.contains(QStringLiteral("127.0.0.1:%1").arg(qemu.port())), qPrintable(info));
        QVERIFY2(info.contains(QStringLiteral("auth: none")), qPrintable(info));

        const QJsonObject unknown = qemu.qmp().execute(QStringLiteral("no-such-command"));
        QCOMPARE(unknown[QStringLiteral("error")][QStringLiteral("class")].toString(),
                 QStringLiteral("CommandNotFound"));
    }

    void screendumpShowsBiosScreen() {
        QemuInstance qemu;
        QVERIFY2(qemu.start(), qPrintable(qemu.errorString()));
        QElapsedTimer sinceQmp;
        sinceQmp.start();
        const QImage screen = qemu.waitForBiosScreen();
        QVERIFY2(!screen.isNull(), qPrintable(qemu.qmp().errorString()));
        const qint64 toScreen = sinceQmp.elapsed();
        qInfo("QEMU start to QMP ready: %lld ms, then to SeaBIOS screen: %lld ms (total %lld ms)",
              qemu.startMilliseconds(), toScreen, qemu.startMilliseconds() + toScreen);
        QCOMPARE(screen.format(), QImage::Format_RGB32);
        QVERIFY2(isBiosScreenSize(screen.size()),
                 qPrintable(QStringLiteral("%1x%2").arg(screen.width()).arg(screen.height())));

        // Kept for a human to look at; SAFFRON_FIXTURE_SCREENSHOT chooses where.
        QString path = qEnvironmentVariable("SAFFRON_FIXTURE_SCREENSHOT");
        if (path.isEmpty())
            path = QDir::temp().filePath(QStringLiteral("saffron-qemu-fixture.png"));
        QVERIFY(screen.save(path, "PNG"));
        qInfo("screendump %dx%d saved to %s", screen.width(), screen.height(), qPrintable(path));
    }

    void extraArgumentsReachQemu() {
        QemuOptions options;
        options.extraArgs = {QStringLiteral("-boot"), QStringLiteral("menu=on,splash-time=5000")};
        options.spiceOptions = {QStringLiteral("image-compression=quic")};
        QemuInstance qemu(options);
        QVERIFY2(qemu.start(), qPrintable(qemu.errorString()));
        QVERIFY(qemu.arguments().contains(QStringLiteral("menu=on,splash-time=5000")));
        QVERIFY(qemu.qmp()
                    .humanMonitorCommand(QStringLiteral("info spice"))
                    .contains(QStringLiteral("127.0.0.1")));
    }

    void passwordInstanceRequiresTicket() {
        QemuOptions options;
        options.password = QStringLiteral("s3cret");
        QemuInstance qemu(options);
        QVERIFY2(qemu.start(), qPrintable(qemu.errorString()));
        const QString info = qemu.qmp().humanMonitorCommand(QStringLiteral("info spice"));
        QVERIFY2(info.contains(QStringLiteral("auth: spice")), qPrintable(info));
        QVERIFY2(!qemu.standardError().contains(QStringLiteral("deprecated")),
                 qPrintable(qemu.standardError()));
        // Tests can also change the ticket at run time.
        const QJsonObject reply = qemu.qmp().execute(QStringLiteral("set_password"),
                                                     {{QStringLiteral("protocol"), QStringLiteral("spice")},
                                                      {QStringLiteral("password"), QStringLiteral("other")}});
        QVERIFY2(!reply.contains(QStringLiteral("error")), qPrintable(qemu.qmp().errorString()));
    }

    void certificatesChainToTheirCaOnly() {
        TestCertificates certificates;
        QVERIFY2(certificates.generate(), qPrintable(certificates.errorString()));
        QCOMPARE(certificates.hostSubject(), QStringLiteral("C=XX,O=Saffron Test,CN=localhost"));
        for (const QString& file : {certificates.caCertPath(), certificates.serverCertPath(),
                                    certificates.serverKeyPath(), certificates.wrongCaCertPath()})
            QVERIFY2(QFile::exists(file), qPrintable(file));

        const auto server = QSslCertificate::fromPath(certificates.serverCertPath());
        const auto ca = QSslCertificate::fromPath(certificates.caCertPath());
        const auto wrongCa = QSslCertificate::fromPath(certificates.wrongCaCertPath());
        QCOMPARE(server.size(), 1);
        QCOMPARE(ca.size(), 1);
        QCOMPARE(wrongCa.size(), 1);
        QCOMPARE(server.first().subjectInfo(QSslCertificate::CommonName),
                 QStringList{QStringLiteral("localhost")});
        QCOMPARE(server.first().subjectInfo(QSslCertificate::Organization),
                 QStringList{QStringLiteral("Saffron Test")});
        const auto altNames = server.first().subjectAlternativeNames();
        QVERIFY(altNames.contains(QSsl::IpAddressEntry, QStringLiteral("127.0.0.1")));
        QVERIFY(altNames.contains(QSsl::DnsEntry, QStringLiteral("localhost")));

        QCOMPARE(server.first().issuerDisplayName(), ca.first().subjectDisplayName());
        // That the server certificate chains to caCertPath() and not to wrongCaCertPath() is
        // checked by the TLS handshakes below (QSslCertificate::verify only trusts system CAs).
    }

    void tlsInstanceServesGeneratedCertificate() {
        TestCertificates certificates;
        QVERIFY2(certificates.generate(), qPrintable(certificates.errorString()));
        QemuOptions options;
        options.x509Dir = certificates.x509Dir();
        QemuInstance qemu(options);
        QVERIFY2(qemu.start(), qPrintable(qemu.errorString()));
        QVERIFY(qemu.tlsPort() != 0);
        QVERIFY(qemu.tlsPort() != qemu.port());
        const QString info = qemu.qmp().humanMonitorCommand(QStringLiteral("info spice"));
        QVERIFY2(info.contains(QString::number(qemu.tlsPort())), qPrintable(info));

        if (!QSslSocket::supportsSsl())
            QSKIP("no Qt TLS backend: handshake not checked");
        // The SPICE TLS port starts with a TLS handshake before any SPICE link message.
        QSslSocket socket;
        QSslConfiguration config = QSslConfiguration::defaultConfiguration();
        config.setCaCertificates(QSslCertificate::fromPath(certificates.caCertPath()));
        socket.setSslConfiguration(config);
        socket.connectToHostEncrypted(QemuInstance::host(), qemu.tlsPort(), QStringLiteral("localhost"));
        QVERIFY2(
            waitUntil(
                [&] { return socket.isEncrypted() || socket.state() == QAbstractSocket::UnconnectedState; },
                30000),
            qPrintable(socket.errorString()));
        QVERIFY2(socket.isEncrypted(), qPrintable(socket.errorString()));
        QCOMPARE(socket.peerCertificate(), QSslCertificate::fromPath(certificates.serverCertPath()).first());
    }

    void tlsHandshakeFailsWithWrongCa() {
        if (!QSslSocket::supportsSsl())
            QSKIP("no Qt TLS backend");
        TestCertificates certificates;
        QVERIFY2(certificates.generate(), qPrintable(certificates.errorString()));
        QemuOptions options;
        options.x509Dir = certificates.x509Dir();
        options.plainPort = false;
        QemuInstance qemu(options);
        QVERIFY2(qemu.start(), qPrintable(qemu.errorString()));
        QCOMPARE(qemu.port(), quint16(0));

        QSslSocket socket;
        QSslConfiguration config = QSslConfiguration::defaultConfiguration();
        config.setCaCertificates(QSslCertificate::fromPath(certificates.wrongCaCertPath()));
        socket.setSslConfiguration(config);
        bool sawError = false;
        QObject::connect(&socket, &QSslSocket::sslErrors, [&](const QList<QSslError>&) { sawError = true; });
        socket.connectToHostEncrypted(QemuInstance::host(), qemu.tlsPort(), QStringLiteral("localhost"));
        QVERIFY(waitUntil([&] { return sawError || socket.isEncrypted(); }, 30000));
        QVERIFY(sawError);
        QVERIFY(!socket.isEncrypted());
    }

    void destructorStopsQemu() {
        qint64 pid = 0;
        {
            QemuInstance qemu;
            QVERIFY2(qemu.start(), qPrintable(qemu.errorString()));
            pid = qemu.processId();
            QVERIFY(pid > 0);
            QVERIFY(QFileInfo::exists(QStringLiteral("/proc/%1").arg(pid)));
        }
        // QProcess has reaped it, so not even a zombie entry remains.
        QVERIFY(!QFileInfo::exists(QStringLiteral("/proc/%1").arg(pid)));
    }
};

QTEST_GUILESS_MAIN(TestQemuFixture)
#include "test_qemu_fixture.moc"
