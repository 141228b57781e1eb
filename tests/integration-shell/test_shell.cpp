// The kiosk shell as a user sees it, against QEMU 7.2 (SeaBIOS on qxl): the session view shows
// exactly what QMP screendump shows, each status screen says what happened, a restarted server
// is reconnected by itself, kiosk mode cannot be closed, and the launcher lists connections.
// Screenshots of every screen are saved under $SAFFRON_TEST_SHOTS for people to look at.
#include "QemuInstance.h"
#include "TestCertificates.h"
#include "TestUtil.h"
#include "app/ShellApp.h"

#include <QDir>
#include <QFile>
#include <QQuickItem>
#include <QQuickWindow>
#include <QSGRendererInterface>
#include <QSslCertificate>
#include <QTemporaryDir>
#include <QtTest>

using namespace saffron;
using namespace saffron::test;

namespace {

ConnectionTarget targetFor(quint16 port, quint16 tlsPort = 0) {
    ConnectionTarget t;
    t.spec.host = QemuInstance::host();
    t.spec.port = port;
    t.spec.tlsPort = tlsPort;
    t.spec.title = QStringLiteral("test desktop");
    t.options.host = t.spec.host;
    t.options.port = port;
    t.options.tlsPort = tlsPort;
    // The BIOS screen needs no video; skipping the decoder probes keeps the tests lean.
    t.options.videoCodecs = {QStringLiteral("off")};
    return t;
}

ShellStart startFor(std::optional<ConnectionTarget> target) {
    ShellStart s;
    s.target = std::move(target);
    s.backoffMinMs = 300; // the real default is 1 s; tests need not wait for it
    s.backoffMaxMs = 2000;
    return s;
}

QString text(QQuickWindow* w, const char* name) {
    QObject* o = w->findChild<QObject*>(QString::fromLatin1(name));
    return o ? o->property("text").toString() : QStringLiteral("<no %1>").arg(QString::fromLatin1(name));
}

bool visible(QQuickWindow* w, const char* name) {
    auto* item = w->findChild<QQuickItem*>(QString::fromLatin1(name));
    return item && item->isVisible();
}

void saveShot(QQuickWindow* w, const QString& name) {
    const QString dir = qEnvironmentVariable("SAFFRON_TEST_SHOTS");
    if (dir.isEmpty())
        return;
    QDir().mkpath(dir);
    w->grabWindow().save(QDir(dir).filePath(name + QStringLiteral(".png")));
}

bool waitState(ShellApp& app, const QString& state, int timeoutMs = 60000) {
    return waitUntil([&] { return app.controller().state() == state; }, timeoutMs);
}

// The VGA text cursor blinks: one 9x16 cell may differ between any two pictures of the BIOS.
constexpr int kCursorCellPixels = 9 * 16;

} // namespace

class TestShell : public QObject {
    Q_OBJECT
private slots:
    void connectedViewMatchesScreendump();
    void unreachableScreen();
    void authenticationFailedThenPassword();
    void certificateRefusedShowsDetails();
    void reconnectsAfterServerRestart();
    void kioskCannotBeClosed();
    void kioskWithoutPinKeepsSettingsLocked();
    void launcherListsConnections();
};

void TestShell::connectedViewMatchesScreendump() {
    QemuInstance q;
    QVERIFY2(q.start(), qPrintable(q.errorString()));
    const QImage bios = q.waitForBiosScreen();
    QVERIFY(!bios.isNull());

    ShellApp app(startFor(targetFor(q.port())));
    QVERIFY(app.load());
    QQuickWindow* w = app.window();
    // One window pixel per guest pixel: the view must then equal the screendump exactly.
    w->resize(bios.size() / w->effectiveDevicePixelRatio());
    app.begin();
    QVERIFY2(waitState(app, QStringLiteral("connected")), qPrintable(app.controller().message()));
    QVERIFY(visible(w, "surfaceView"));
    QVERIFY(!visible(w, "statusScreen"));
    // Under Xvfb the scene graph runs on OpenGL (llvmpipe), where the view updates its texture
    // region by region; offscreen it runs the software renderer. Both must show the same.
    const auto api = w->rendererInterface()->graphicsApi();
    qInfo() << "scene graph:" << (api == QSGRendererInterface::Software ? "software" : "QRhi");
    if (qEnvironmentVariableIntValue("SAFFRON_EXPECT_RHI"))
        QVERIFY(api != QSGRendererInterface::Software);

    int diff = -1;
    QImage view;
    const bool same = waitUntil(
        [&] {
            view = w->grabWindow().convertToFormat(QImage::Format_RGB32);
            const QImage dump = q.qmp().screendump().convertToFormat(QImage::Format_RGB32);
            diff = differingPixels(view, dump);
            return diff <= kCursorCellPixels;
        },
        30000);
    saveShot(w, QStringLiteral("connected"));
    QVERIFY2(same, qPrintable(QStringLiteral("%1 pixels of the %2x%3 view differ from screendump")
                                  .arg(diff)
                                  .arg(view.width())
                                  .arg(view.height())));
    QVERIFY(!isUniform(view));

    // The in-session menu is created when first wanted: the hotkey opens it (with the sound
    // controls), and closing it gives the keyboard back to the desktop.
    QVERIFY(!w->findChild<QObject*>(QStringLiteral("sessionMenu")));
    QTest::keyClick(w, Qt::Key_M, Qt::ControlModifier | Qt::AltModifier | Qt::ShiftModifier);
    QVERIFY(waitUntil(
        [&] {
            QObject* menu = w->findChild<QObject*>(QStringLiteral("sessionMenu"));
            return menu && menu->property("opened").toBool();
        },
        5000));
    QVERIFY(w->findChild<QObject*>(QStringLiteral("speakerVolume")));
    saveShot(w, QStringLiteral("menu"));
    QTest::keyClick(w, Qt::Key_Escape);
    QVERIFY(waitUntil(
        [&] { return !w->findChild<QObject*>(QStringLiteral("sessionMenu"))->property("opened").toBool(); },
        5000));
}

void TestShell::unreachableScreen() {
    const quint16 closedPort = freeTcpPort(); // nothing listens there
    QVERIFY(closedPort);
    ShellApp app(startFor(targetFor(closedPort)));
    QVERIFY(app.load());
    app.begin();
    QVERIFY(waitState(app, QStringLiteral("unreachable")));
    QVERIFY(visible(app.window(), "statusScreen"));
    QCOMPARE(text(app.window(), "statusHeadline"), QStringLiteral("The server cannot be reached"));
    QVERIFY2(text(app.window(), "statusMessage").contains(QStringLiteral("refused")),
             qPrintable(text(app.window(), "statusMessage")));
    // Outside kiosk mode a first attempt that never reached the server is not retried on its
    // own: the user decides (Try again / Cancel).
    QCOMPARE(app.controller().reconnectIn(), -1);
    QVERIFY(visible(app.window(), "retryButton"));
    QVERIFY(waitUntil([&] { return app.window()->isExposed(); }, 5000));
    saveShot(app.window(), QStringLiteral("unreachable"));
}

void TestShell::authenticationFailedThenPassword() {
    QemuOptions qo;
    qo.password = QStringLiteral("s3cret");
    QemuInstance q(qo);
    QVERIFY2(q.start(), qPrintable(q.errorString()));
    ShellApp app(startFor(targetFor(q.port())));
    QVERIFY(app.load());
    app.begin();
    QVERIFY(waitState(app, QStringLiteral("auth-failed")));
    QCOMPARE(text(app.window(), "statusHeadline"), QStringLiteral("Authentication failed"));
    QVERIFY(visible(app.window(), "passwordField"));
    saveShot(app.window(), QStringLiteral("auth-failed"));
    // What the password field's Enter does.
    app.controller().retryWithPassword(QStringLiteral("s3cret"));
    QVERIFY2(waitState(app, QStringLiteral("connected")), qPrintable(app.controller().message()));
}

void TestShell::certificateRefusedShowsDetails() {
    TestCertificates certs;
    QVERIFY2(certs.generate(), qPrintable(certs.errorString()));
    QemuOptions qo;
    qo.x509Dir = certs.x509Dir();
    qo.plainPort = false;
    QemuInstance q(qo);
    QVERIFY2(q.start(), qPrintable(q.errorString()));
    ConnectionTarget t = targetFor(0, q.tlsPort());
    t.options.caCertificates = QSslCertificate::fromPath(certs.wrongCaCertPath());
    QVERIFY(!t.options.caCertificates.isEmpty());
    ShellApp app(startFor(t));
    QVERIFY(app.load());
    app.begin();
    QVERIFY(waitState(app, QStringLiteral("certificate")));
    QCOMPARE(text(app.window(), "statusHeadline"), QStringLiteral("The server's certificate was refused"));
    const QString details = text(app.window(), "statusDetails");
    QVERIFY2(details.contains(QStringLiteral("SHA-256:")) && details.contains(QStringLiteral("localhost")),
             qPrintable(details));
    QVERIFY(visible(app.window(), "statusDetails"));
    saveShot(app.window(), QStringLiteral("certificate"));
}

void TestShell::reconnectsAfterServerRestart() {
    auto q = std::make_unique<QemuInstance>();
    QVERIFY2(q->start(), qPrintable(q->errorString()));
    const quint16 port = q->port();
    ShellApp app(startFor(targetFor(port)));
    QVERIFY(app.load());
    app.begin();
    QVERIFY2(waitState(app, QStringLiteral("connected")), qPrintable(app.controller().message()));
    const int firstAttempt = app.controller().attempt();

    q.reset(); // the server goes away while we are connected
    QVERIFY(waitState(app, QStringLiteral("lost")) || waitUntil(
                                                          [&] {
                                                              // The first retry may already be under way when
                                                              // we look.
                                                              return app.controller().attempt() >
                                                                     firstAttempt;
                                                          },
                                                          10000));
    QVERIFY(waitUntil([&] { return visible(app.window(), "statusCountdown"); }, 20000));
    QCOMPARE(text(app.window(), "statusHeadline").isEmpty(), false);
    saveShot(app.window(), QStringLiteral("lost"));

    QemuOptions qo;
    qo.fixedPort = port;
    QemuInstance again(qo);
    QVERIFY2(again.start(), qPrintable(again.errorString()));
    QVERIFY2(waitState(app, QStringLiteral("connected"), 90000), qPrintable(app.controller().state()));
    QVERIFY(app.controller().attempt() > firstAttempt);
    QVERIFY(visible(app.window(), "surfaceView"));
}

void TestShell::kioskCannotBeClosed() {
    QemuInstance q;
    QVERIFY2(q.start(), qPrintable(q.errorString()));
    QTemporaryDir settingsRoot;
    QVERIFY(settingsRoot.isValid());
    QVERIFY(QDir().mkpath(settingsRoot.filePath(QStringLiteral("etc/saffron"))));
    QString error;
    const QString hash = AdminPin::hash(QStringLiteral("2468"), &error, AdminPin::kMinIterations);
    QVERIFY2(!hash.isEmpty(), qPrintable(error));
    QFile conf(settingsRoot.filePath(QStringLiteral("etc/saffron/saffron.conf")));
    QVERIFY(conf.open(QIODevice::WriteOnly));
    conf.write("[admin]\npin-hash=" + hash.toUtf8() + "\n");
    conf.close();
    ShellStart s = startFor(targetFor(q.port()));
    s.kiosk = true;
    s.settingsRoot = settingsRoot.path();
    ShellApp app(std::move(s));
    QVERIFY(app.load());
    app.begin();
    QVERIFY2(waitState(app, QStringLiteral("connected")), qPrintable(app.controller().message()));
    QQuickWindow* w = app.window();
    QVERIFY(w->isVisible());
    QCOMPARE(w->visibility(), QWindow::FullScreen);
    QSignalSpy quits(&app, &ShellApp::quitRequested);

    w->close(); // what a window manager's close button or Alt+F4 asks for
    QCoreApplication::processEvents();
    QVERIFY(w->isVisible());
    // Quit shortcuts are the guest's keys, not ours.
    QTest::keyClick(w, Qt::Key_F4, Qt::AltModifier);
    QTest::keyClick(w, Qt::Key_Q, Qt::ControlModifier);
    QTest::keyClick(w, Qt::Key_W, Qt::ControlModifier);
    QCoreApplication::processEvents();
    QVERIFY(w->isVisible());
    app.controller().disconnectSession(); // no way out from QML either
    QCOMPARE(app.controller().state(), QStringLiteral("connected"));
    QVERIFY(!visible(w, "disconnectButton"));
    QCOMPARE(quits.count(), 0);

    // Settings need the administrator PIN (hashed in the settings file).
    AdminController& admin = app.admin();
    QVERIFY(admin.available());
    QVERIFY(!admin.unlocked());
    QVERIFY(!admin.setValue(QStringLiteral("policy/clipboard"), QStringLiteral("false")));
    QVERIFY(!admin.unlock(QStringLiteral("1111")));
    QCOMPARE(admin.message(), QStringLiteral("Wrong PIN"));
    QVERIFY(admin.unlock(QStringLiteral("2468")));
    QVERIFY2(admin.setValue(QStringLiteral("policy/clipboard"), QStringLiteral("false")),
             qPrintable(admin.message()));
    const QString state = settingsRoot.filePath(QStringLiteral("var/lib/saffron/settings.conf"));
    QFile written(state);
    QVERIFY2(written.open(QIODevice::ReadOnly), qPrintable(state));
    QVERIFY(written.readAll().contains("clipboard=false"));
    QCOMPARE(written.permissions() & (QFile::ReadGroup | QFile::ReadOther), QFile::Permissions());
}

void TestShell::kioskWithoutPinKeepsSettingsLocked() {
    QTemporaryDir root;
    QVERIFY(root.isValid());
    ShellStart s = startFor(std::nullopt);
    s.kiosk = true;
    s.settingsRoot = root.path();
    ShellApp app(std::move(s));
    QVERIFY(!app.admin().unlocked());
    QVERIFY(!app.admin().unlock(QStringLiteral("0000")));
    QVERIFY2(app.admin().message().contains(QStringLiteral("No administrator PIN")),
             qPrintable(app.admin().message()));
}

void TestShell::launcherListsConnections() {
    QemuInstance q;
    QVERIFY2(q.start(), qPrintable(q.errorString()));
    ShellStart s = startFor(std::nullopt);
    s.connections.push_back(
        {QStringLiteral("Accounting"), QStringLiteral("pve1 · VM 101"), targetFor(q.port())});
    s.connections.push_back({QStringLiteral("Lab"), QStringLiteral("spice://lab:5900"), targetFor(1)});
    ShellApp app(std::move(s));
    QVERIFY(app.load());
    app.begin();
    QQuickWindow* w = app.window();
    QVERIFY(
        waitUntil([&] { return w->findChild<QQuickItem*>(QStringLiteral("launcher")) != nullptr; }, 5000));
    auto* grid = w->findChild<QQuickItem*>(QStringLiteral("connectionGrid"));
    QVERIFY(grid);
    QCOMPARE(grid->property("count").toInt(), 2);
    QVERIFY(waitUntil([&] { return w->isExposed(); }, 5000));
    saveShot(w, QStringLiteral("launcher"));
    // Enter on the current (first) tile connects.
    QTest::keyClick(w, Qt::Key_Return);
    QVERIFY2(waitState(app, QStringLiteral("connected")), qPrintable(app.controller().message()));
    QCOMPARE(app.controller().title(), QStringLiteral("test desktop"));
}

QTEST_MAIN(TestShell)
#include "test_shell.moc"
