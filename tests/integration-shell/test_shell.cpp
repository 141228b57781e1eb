// The kiosk shell as a user sees it, against QEMU 7.2 (SeaBIOS on qxl): the session view shows
// exactly what QMP screendump shows, each status screen says what happened, a restarted server
// is reconnected by itself, kiosk mode cannot be closed, and the launcher lists connections.
// Screenshots of every screen are saved under $SAFFRON_TEST_SHOTS for people to look at.
#include "HostileServer.h"
#include "QemuInstance.h"
#include "SpiceBuilders.h"
#include "TestCertificates.h"
#include "TestServerProcess.h"
#include "TestUtil.h"
#include "VideoWorkloadCheck.h"
#include "app/DirectVideoNode.h"
#include "app/SceneGraphChoice.h"
#include "app/ShellApp.h"
#include "common/appliance/ConnectionCatalog.h"
#include "video/DecoderOverrides.h"
#include "video/DecoderSelector.h"

#include <QDir>
#include <QFile>
#include <QPainter>
#include <QProcess>
#include <QQuickItem>
#include <QQuickPaintedItem>
#include <QQuickWindow>
#include <QSGRendererInterface>
#include <QScopeGuard>
#include <QScreen>
#include <QSslCertificate>
#include <QTemporaryDir>
#include <QtTest>
#include <memory>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

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

// A plain (translucent) square above the session, repainted when its colour changes: what sits
// over a video layer and changes while the layer does not.
class ColourSquare : public QQuickPaintedItem {
public:
    explicit ColourSquare(QQuickItem* parent) : QQuickPaintedItem(parent) {}
    void setColor(const QColor& c) {
        color_ = c;
        update();
    }
    void paint(QPainter* p) override { p->fillRect(boundingRect(), color_); }

private:
    QColor color_;
};

// A visible top-level window of the shell by object name ("displayWindow1", "headWindow1").
QQuickWindow* shellWindow(const QString& name) {
    for (QWindow* w : QGuiApplication::topLevelWindows())
        if (w->objectName() == name && w->isVisible())
            return qobject_cast<QQuickWindow*>(w);
    return nullptr;
}

bool waitState(ShellApp& app, const QString& state, int timeoutMs = 60000) {
    return waitUntil([&] { return app.controller().state() == state; }, timeoutMs);
}

// The VGA text cursor blinks: one 9x16 cell may differ between any two pictures of the BIOS.
constexpr int kCursorCellPixels = 9 * 16;

// A local server (the test server, or a scripted one) as the shell's connection.
ConnectionTarget localTarget(quint16 port, const QString& title) {
    ConnectionTarget t;
    t.spec.host = t.options.host = QStringLiteral("127.0.0.1");
    t.spec.port = t.options.port = port;
    t.spec.title = title;
    return t;
}

// The shell started with `start` and connected, its window `windowSize` device pixels (as the
// shell opens it where `windowSize` is empty).
std::unique_ptr<ShellApp> connectedShell(ShellStart start, QSize windowSize, QString* why) {
    auto app = std::make_unique<ShellApp>(std::move(start));
    if (!app->load()) {
        *why = QStringLiteral("the shell did not load");
        return nullptr;
    }
    if (!windowSize.isEmpty()) {
        QQuickWindow* w = app->window();
        w->resize(windowSize / w->effectiveDevicePixelRatio());
    }
    app->begin();
    if (!waitState(*app, QStringLiteral("connected"))) {
        *why = app->controller().message();
        return nullptr;
    }
    return app;
}

// What the two-screen tests share: a full-screen shell connected to the test server, and the
// monitors config that asks for one monitor per local screen, side by side.
std::unique_ptr<ShellApp> connectedFullScreenShell(TestServerProcess& server, const QString& title,
                                                   QString* why) {
    ConnectionTarget t = localTarget(server.port(), title);
    t.options.videoCodecs = {QStringLiteral("off")};
    ShellStart start = startFor(t);
    start.fullScreen = true;
    return connectedShell(std::move(start), QSize(), why);
}

// A window of the guest's size (640x480) connected to `server`, the video tests' set-up.
std::unique_ptr<ShellApp> connectedVideoShell(TestServerProcess& server, QString* why) {
    return connectedShell(startFor(localTarget(server.port(), QStringLiteral("video desktop"))),
                          QSize(640, 480), why);
}

// The test server's moving picture in a 320x256 region of a 640x480 screen, streamed in `codec`.
QStringList videoWorkload() {
    return {QStringLiteral("--workload"), QStringLiteral("video-moving"), QStringLiteral("--size"),
            QStringLiteral("640x480"),    QStringLiteral("--video-rect"), QStringLiteral("160,112,320,256")};
}
QStringList streamedIn(const QString& codec) {
    return {QStringLiteral("--streaming-video"), QStringLiteral("all"), QStringLiteral("--video-codecs"),
            codec};
}

// Each screen's size in device pixels, the width as the shell asks for it (a multiple of 8).
struct ScreenPair {
    QSize first;
    QSize other;
};
ScreenPair monitorSizes(const QList<QScreen*>& screens) {
    const auto px = [](QScreen* s) { return (QSizeF(s->size()) * s->devicePixelRatio()).toSize(); };
    const QSize a = px(screens[0]);
    const QSize b = px(screens[1]);
    return {QSize(a.width() & ~7, a.height()), QSize(b.width() & ~7, b.height())};
}

// One monitors config for both windows, in screen order. Until both windows have said their
// size a monitor keeps the size it has (no config may leave one out: the guest would switch that
// monitor off), so earlier configs are skipped; each must still name two monitors.
bool waitForSideBySideConfig(TestServerProcess& server, const ScreenPair& sizes, QString* last) {
    const QString want = QStringLiteral("AGENT monitors-config 2 %1x%2+0+0 %3x%4+%1+0 use-pos")
                             .arg(sizes.first.width())
                             .arg(sizes.first.height())
                             .arg(sizes.other.width())
                             .arg(sizes.other.height());
    while (*last != want) {
        *last = server.waitLine(QStringLiteral("AGENT monitors-config"));
        qInfo() << *last;
        if (!last->startsWith(QStringLiteral("AGENT monitors-config 2 ")))
            return false;
    }
    return true;
}

} // namespace

class TestShell : public QObject {
    Q_OBJECT
private slots:
    void connectedViewMatchesScreendump();
    void unreachableScreen();
    void unreachableScreenInGerman();
    void authenticationFailedThenPassword();
    void certificateRefusedShowsDetails();
    void reconnectsAfterServerRestart();
    void kioskCannotBeClosed();
    void kioskWithoutPinKeepsSettingsLocked();
    void adminPanelConnectionsReachTheLauncher();
    void kioskWithoutConnectionShowsProblem();
    void kioskBinaryWithoutConnectionStaysUp();
    void updateBannerOverTheSession();
    void launcherListsConnections();
    void videoStreamMatchesSource_data();
    void videoStreamMatchesSource();
    void videoClipAndOrientation_data();
    void videoClipAndOrientation();
    void stillPointerOverVideoSendsNothing();
    void displaysOnTheirOwnScreens();
    void headsOnTheirOwnScreens();
    void sceneGraphChoice();
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
    QVERIFY(waitUntil(
        [&] {
            auto* desktop = w->findChild<QQuickItem*>(QStringLiteral("surfaceView"));
            return desktop && desktop->hasActiveFocus();
        },
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

void TestShell::unreachableScreenInGerman() {
    // The shell speaks the user's language (QLocale(): LANG / LANGUAGE, here set as the default).
    QLocale::setDefault(QLocale(QLocale::German, QLocale::Germany));
    const auto restore = qScopeGuard([] { QLocale::setDefault(QLocale::system()); });
    const quint16 closedPort = freeTcpPort();
    QVERIFY(closedPort);
    ShellApp app(startFor(targetFor(closedPort)));
    QVERIFY(app.load());
    app.begin();
    QVERIFY(waitState(app, QStringLiteral("unreachable")));
    QCOMPARE(text(app.window(), "statusHeadline"), QStringLiteral("Der Server ist nicht erreichbar"));
    QCOMPARE(text(app.window(), "retryButton"), QStringLiteral("Erneut versuchen"));
    saveShot(app.window(), QStringLiteral("unreachable-de"));
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

// The admin panel's connections: saved behind the PIN into var/lib/saffron/connections.d, shown
// by the launcher at once (ShellStart::reloadConnections, which main() points at the catalog),
// editable and removable; the panel lists only its own.
void TestShell::adminPanelConnectionsReachTheLauncher() {
    QTemporaryDir root;
    QVERIFY(root.isValid());
    QVERIFY(QDir().mkpath(root.filePath(QStringLiteral("etc/saffron"))));
    QString error;
    const QString hash = AdminPin::hash(QStringLiteral("2468"), &error, AdminPin::kMinIterations);
    QFile conf(root.filePath(QStringLiteral("etc/saffron/saffron.conf")));
    QVERIFY(conf.open(QIODevice::WriteOnly));
    conf.write("[admin]\npin-hash=" + hash.toUtf8() + "\n");
    conf.close();
    ShellStart s = startFor(std::nullopt);
    s.settingsRoot = root.path();
    s.reloadConnections = [dir = ConnectionCatalog::adminDirForRoot(root.path())] {
        ConnectionCatalog catalog;
        catalog.load({}, {}, dir);
        return LauncherModel::entriesFrom(catalog, nullptr);
    };
    ShellApp app(std::move(s));
    QVERIFY(app.load());
    app.begin();
    AdminController& admin = app.admin();
    QCOMPARE(app.launcher().rowCount(), 0);
    QVERIFY(!admin.saveConnection({}, QStringLiteral("Office"), QStringLiteral("office:5900"), {}, false));
    QCOMPARE(admin.message(), QStringLiteral("Settings are locked"));
    QVERIFY(admin.unlock(QStringLiteral("2468")));

    QSignalSpy changed(&admin, &AdminController::connectionsChanged);
    QVERIFY2(admin.saveConnection({}, QStringLiteral("Office"), QStringLiteral("office:5900"),
                                  QStringLiteral("pw"), false),
             qPrintable(admin.message()));
    QCOMPARE(changed.count(), 1);
    QCOMPARE(app.launcher().rowCount(), 1);
    QCOMPARE(app.launcher().data(app.launcher().index(0), Qt::DisplayRole).toString(),
             QStringLiteral("Office"));
    QVariantList listed = admin.connections();
    QCOMPARE(listed.size(), 1);
    QVariantMap office = listed.first().toMap();
    QCOMPARE(office.value(QStringLiteral("id")).toString(), QStringLiteral("office"));
    QCOMPARE(office.value(QStringLiteral("address")).toString(), QStringLiteral("spice://office:5900"));
    QVERIFY(office.value(QStringLiteral("passwordStored")).toBool());

    // Edit: a new address, the password left empty keeps the stored one.
    QVERIFY2(admin.saveConnection(QStringLiteral("office"), QStringLiteral("Office"),
                                  QStringLiteral("spice://office?tls-port=5901"), {}, false),
             qPrintable(admin.message()));
    office = admin.connections().first().toMap();
    QCOMPARE(office.value(QStringLiteral("address")).toString(), QStringLiteral("spice+tls://office:5901"));
    // What the panel lists is what its form takes back: saved unchanged, it stays the same.
    QVERIFY2(admin.saveConnection(QStringLiteral("office"), QStringLiteral("Office"),
                                  office.value(QStringLiteral("address")).toString(), {}, false),
             qPrintable(admin.message()));
    QCOMPARE(admin.connections().first().toMap().value(QStringLiteral("address")).toString(),
             QStringLiteral("spice+tls://office:5901"));
    QVERIFY(office.value(QStringLiteral("passwordStored")).toBool());
    QCOMPARE(app.launcher().rowCount(), 1);

    // A bad address is refused with the parser's reason and changes nothing.
    QVERIFY(!admin.saveConnection({}, QStringLiteral("Broken"), QStringLiteral("host:port"), {}, false));
    QVERIFY2(admin.message().startsWith(QStringLiteral("Not saved: ")), qPrintable(admin.message()));
    QCOMPARE(app.launcher().rowCount(), 1);

    QVERIFY(admin.removeConnection(QStringLiteral("office")));
    QCOMPARE(app.launcher().rowCount(), 0);
    QVERIFY(admin.connections().isEmpty());
    QCOMPARE(changed.count(), 4);

    // The same through the panel's form, as an administrator at the device fills it in.
    QQuickWindow* w = app.window();
    QVERIFY(QMetaObject::invokeMethod(w, "openAdmin"));
    QQuickItem* name = nullptr;
    QVERIFY(
        waitUntil([&] { return (name = w->findChild<QQuickItem*>(QStringLiteral("adminConnName"))); }, 5000));
    auto* address = w->findChild<QQuickItem*>(QStringLiteral("adminConnAddress"));
    auto* password = w->findChild<QQuickItem*>(QStringLiteral("adminConnPassword"));
    auto* save = w->findChild<QQuickItem*>(QStringLiteral("adminConnSave"));
    QVERIFY(address && password && save);
    name->setProperty("text", QStringLiteral("Lab machine"));
    address->setProperty("text", QStringLiteral("lab.example:5930"));
    password->setProperty("text", QStringLiteral("secret"));
    QVERIFY(waitUntil([&] { return save->isVisible() && save->width() > 0; }, 5000));
    QTest::mouseClick(w, Qt::LeftButton, {},
                      save->mapToScene(QPointF(save->width() / 2, save->height() / 2)).toPoint());
    QVERIFY2(waitUntil([&] { return app.launcher().rowCount() == 1; }, 5000), qPrintable(admin.message()));
    QCOMPARE(admin.connections().first().toMap().value(QStringLiteral("id")).toString(),
             QStringLiteral("lab-machine"));
    QCOMPARE(name->property("text").toString(), QString()); // the form is cleared for the next one
    saveShot(w, QStringLiteral("admin-connections"));
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

void TestShell::kioskWithoutConnectionShowsProblem() {
    QTemporaryDir root;
    QVERIFY(root.isValid());
    ShellStart s = startFor(std::nullopt);
    s.kiosk = true;
    s.settingsRoot = root.path();
    s.startProblem = QStringLiteral("no-connection");
    s.startProblemDetail = QStringLiteral("no usable connection in /etc/saffron/connections.d");
    ShellApp app(std::move(s));
    QVERIFY(app.load());
    app.begin();
    QQuickWindow* w = app.window();
    QVERIFY(waitUntil([&] { return w->isExposed(); }, 5000));
    QCOMPARE(app.controller().state(), QStringLiteral("idle"));
    // The problem, not an empty launcher: a kiosk never lists connections.
    QVERIFY(w->findChild<QQuickItem*>(QStringLiteral("launcher")) == nullptr);
    QVERIFY(visible(w, "statusScreen"));
    QCOMPARE(text(w, "statusHeadline"), QStringLiteral("No desktop is set up for this device"));
    QVERIFY(visible(w, "statusProblemHint"));
    QVERIFY(visible(w, "statusDetails"));
    QCOMPARE(text(w, "statusDetails"), QStringLiteral("no usable connection in /etc/saffron/connections.d"));
    QVERIFY(visible(w, "adminButton"));
    QVERIFY(!visible(w, "retryButton"));
    w->close();
    QCoreApplication::processEvents();
    QVERIFY(w->isVisible());
    saveShot(w, QStringLiteral("kiosk-no-connection"));
}

// main()'s side: `saffron --kiosk` with nothing in connections.d keeps running with that
// screen (before, it exited and systemd started it again every half second), and tells systemd
// it is up (READY=1) and why it does not connect (STATUS=).
void TestShell::kioskBinaryWithoutConnectionStaysUp() {
    const QString shell = qEnvironmentVariable("SAFFRON_SHELL");
    if (shell.isEmpty())
        QSKIP("SAFFRON_SHELL is not set");
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    QVERIFY(QDir().mkpath(dir.filePath(QStringLiteral("root/etc/saffron/connections.d"))));
    QFile broken(dir.filePath(QStringLiteral("root/etc/saffron/connections.d/office.conf")));
    QVERIFY(broken.open(QIODevice::WriteOnly));
    broken.write("[connection]\nname=Office\n"); // no uri: unusable
    broken.close();
    const QByteArray socketPath = QFile::encodeName(dir.filePath(QStringLiteral("notify")));
    const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    QVERIFY(fd >= 0);
    const auto closeFd = qScopeGuard([fd] { ::close(fd); });
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    QVERIFY(size_t(socketPath.size()) < sizeof(addr.sun_path));
    std::copy(socketPath.begin(), socketPath.end(), addr.sun_path);
    QCOMPARE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);

    QProcess p;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("QT_QPA_PLATFORM"), QStringLiteral("offscreen"));
    env.insert(QStringLiteral("NOTIFY_SOCKET"), QString::fromLocal8Bit(socketPath));
    p.setProcessEnvironment(env);
    p.setProcessChannelMode(QProcess::MergedChannels);
    p.start(shell, {QStringLiteral("--kiosk"), QStringLiteral("--settings-root"),
                    dir.filePath(QStringLiteral("root"))});
    QVERIFY2(p.waitForStarted(), qPrintable(p.errorString()));
    const auto stop = qScopeGuard([&p] {
        p.terminate();
        if (!p.waitForFinished(10000))
            p.kill();
        p.waitForFinished();
    });
    QStringList messages;
    QByteArray output; // QVERIFY2 evaluates its message every time: read the pipe only here
    const bool ready = waitUntil(
        [&] {
            char buf[4096];
            for (;;) {
                const ssize_t n = ::recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
                if (n <= 0)
                    break;
                messages << QString::fromUtf8(buf, int(n)).split(QLatin1Char('\n'), Qt::SkipEmptyParts);
            }
            return messages.contains(QStringLiteral("READY=1")) || p.state() != QProcess::Running;
        },
        60000);
    output += p.readAll();
    QVERIFY2(ready && p.state() == QProcess::Running,
             qPrintable(QStringLiteral("messages %1; output:\n%2")
                            .arg(messages.join(QLatin1Char(' ')), QString::fromLocal8Bit(output))));
    QVERIFY2(messages.filter(QStringLiteral("STATUS=Cannot connect: no usable connection in")).size() == 1,
             qPrintable(messages.join(QLatin1Char(' '))));
    QTest::qWait(1000); // still up a second later, nothing to retry
    QCOMPARE(p.state(), QProcess::Running);
    output += p.readAll();
    const QString text = QString::fromLocal8Bit(output);
    QVERIFY2(text.contains(QStringLiteral("kiosk cannot connect")) &&
                 text.contains(QStringLiteral("office.conf")),
             qPrintable(text));
}

// The appliance's updater writes its status file; the shell puts a banner over everything,
// the connected desktop included.
void TestShell::updateBannerOverTheSession() {
    QemuInstance q;
    QVERIFY2(q.start(), qPrintable(q.errorString()));
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString status = dir.filePath(QStringLiteral("status"));
    ShellStart s = startFor(targetFor(q.port()));
    s.updateStatusPath = status;
    ShellApp app(std::move(s));
    QVERIFY(app.load());
    app.begin();
    QVERIFY2(waitState(app, QStringLiteral("connected")), qPrintable(app.controller().message()));
    QQuickWindow* w = app.window();
    QVERIFY(!visible(w, "updateBanner"));
    QFile f(status + QStringLiteral(".tmp"));
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write("state=installing\nversion=0.1.0.202611270900\n");
    f.close();
    QVERIFY(QFile::rename(f.fileName(), status));
    QVERIFY(waitUntil([&] { return visible(w, "updateBanner"); }, 5000));
    QCOMPARE(text(w, "updateBannerText"),
             QStringLiteral(
                 "Installing update 0.1.0.202611270900. Do not switch off: the device restarts by itself "
                 "when it is done."));
    QVERIFY(visible(w, "surfaceView")); // the desktop stays, under the banner
    QCOMPARE(app.controller().state(), QStringLiteral("connected"));
    QVERIFY(waitUntil([&] { return w->isExposed(); }, 5000));
    saveShot(w, QStringLiteral("update-installing"));
    QVERIFY(QFile::remove(status));
    QVERIFY(waitUntil([&] { return !visible(w, "updateBanner"); }, 5000));
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

void TestShell::videoStreamMatchesSource_data() {
    QTest::addColumn<QString>("serverCodec");
    QTest::addColumn<double>("minPsnr");
    // spice-server's H.264 is 4:4:4 (three full planes), its VP8 4:2:0 (subsampled chroma):
    // both plane layouts of the layer shader. Thresholds as in test_video_streams.
    QTest::newRow("h264") << QStringLiteral("gstreamer:h264") << 28.0;
    QTest::newRow("vp8") << QStringLiteral("gstreamer:vp8") << 22.0;
}

// A video stream from libspice-server shown by the shell: with a GPU (Xvfb + llvmpipe) as a YUV
// layer converted by the shader, offscreen (software renderer) converted on the CPU straight into
// the window. Either way the window must show the source frame within the codec's PSNR, and
// everything else exactly.
void TestShell::videoStreamMatchesSource() {
    QFETCH(QString, serverCodec);
    QFETCH(double, minPsnr);
    QVERIFY(QFile::exists(qEnvironmentVariable("SAFFRON_TEST_SERVER")));
    const QRect videoRect(160, 112, 320, 256);
    const QStringList workload = videoWorkload();
    TestServerProcess server(workload + streamedIn(serverCodec));
    QVERIFY(server.port());
    QString why;
    const auto shell = connectedVideoShell(server, &why);
    QVERIFY2(shell, qPrintable(why));
    ShellApp& app = *shell;
    QQuickWindow* w = app.window();
    const bool rhi = w->rendererInterface()->graphicsApi() != QSGRendererInterface::Software;
    if (qEnvironmentVariableIntValue("SAFFRON_EXPECT_RHI"))
        QVERIFY(rhi);
    const auto video = [&] { return app.controller().session()->info().display.video; };
    QVERIFY2(waitUntil([&] { return video().framesPresented >= 10; }, 60000),
             qPrintable(QStringLiteral("%1 frames presented").arg(video().framesPresented)));

    double best = 0;
    int shown = -1;
    QImage view;
    for (int attempt = 0; attempt < 5 && best < minPsnr; ++attempt) {
        view = w->grabWindow().convertToFormat(QImage::Format_RGB32);
        const auto code = workloadFrameCode(view, videoRect);
        if (!code || *code < 20) {
            QTest::qWait(100);
            continue;
        }
        const QImage expected = expectedWorkloadFrame(workload, *code);
        QVERIFY(!expected.isNull());
        const double score = psnr(view, expected, videoRect);
        qInfo("%s: frame %d shown at %.1f dB PSNR (%s)", qPrintable(serverCodec), *code, score,
              rhi ? "GPU layer" : "RGB layer");
        if (score > best) {
            best = score;
            shown = *code;
        }
        QCOMPARE(differingOutside(view, expected, videoRect), 0);
    }
    saveShot(w, QStringLiteral("video-") + QString(QTest::currentDataTag()));
    QVERIFY2(best >= minPsnr, qPrintable(QStringLiteral("best %1 dB (frame %2)").arg(best).arg(shown)));
    // A lossy stream never reproduces its source exactly: a perfect score would be the last
    // lossless image the server drew before it started streaming, with the stream not shown.
    QVERIFY2(best < 99.0, "the view shows the picture from before the stream");
    // And the picture keeps moving.
    std::optional<int> later;
    QVERIFY(waitUntil(
        [&] {
            later = workloadFrameCode(w->grabWindow().convertToFormat(QImage::Format_RGB32), videoRect);
            return later && *later > shown;
        },
        10000));
    const VideoStats v = video();
    qInfo() << "frames presented" << v.framesPresented << "as layers" << v.framesAsLayer
            << "painted straight into the window" << DirectVideoNode::directPaints() << "through a picture"
            << DirectVideoNode::indirectPaints();
    QCOMPARE(v.framesAsLayer, v.framesPresented); // none was drawn into the surface
    // Software renderer, picture 1:1 in a plain 32-bit backing store: converted straight into
    // it, frame after frame (a picture of its own only where something above needed a part).
    if (!rhi)
        QVERIFY(DirectVideoNode::directPaints() >= 2);
}

// A pointer resting over a playing video must not reach the guest again and again. Qt Quick
// re-delivers a hover event at the pointer's old place after every frame in which an item
// changed (frame-synchronous hover, QQuickDeliveryAgent), so a video under a still pointer made
// the view send one MOUSE_POSITION per frame: a TCP message, a wake-up of spice-server and an
// input event in the guest (which can keep its screensaver off or a player's controls shown).
void TestShell::stillPointerOverVideoSendsNothing() {
    QVERIFY(QFile::exists(qEnvironmentVariable("SAFFRON_TEST_SERVER")));
    TestServerProcess server(videoWorkload() + streamedIn(QStringLiteral("spice:mjpeg")));
    QVERIFY(server.port());
    QString why;
    const auto shell = connectedVideoShell(server, &why);
    QVERIFY2(shell, qPrintable(why));
    const auto video = [&] { return shell->controller().session()->info().display.video; };
    QVERIFY(waitUntil([&] { return video().framesPresented >= 5; }, 60000));
    QQuickWindow* w = shell->window();
    QQuickItem* view = nullptr;
    QVERIFY(
        waitUntil([&] { return (view = w->findChild<QQuickItem*>(QStringLiteral("surfaceView"))); }, 10000));
    // The agent gives client mouse mode.
    QVERIFY(waitUntil([&] { return !view->property("serverMouse").toBool(); }, 20000));

    // Onto the video, then still. The agent reports every position spice-server hands it.
    QTest::mouseMove(w, QPoint(200, 150));
    QVERIFY(!server.waitLine(QStringLiteral("AGENT mouse-state 200 150 "), 10000).isEmpty());
    const uint64_t before = video().framesPresented;
    QVERIFY(waitUntil([&] { return video().framesPresented >= before + 25; }, 30000));
    QTest::qWait(200); // a position sent for the last frame has reached the agent
    server.readLines();
    const QStringList& lines = server.lines();
    const auto arrived = std::find_if(lines.begin(), lines.end(), [](const QString& l) {
        return l.startsWith(QLatin1String("AGENT mouse-state 200 150 "));
    });
    QVERIFY(arrived != lines.end());
    const auto repeats = std::count_if(arrived + 1, lines.end(), [](const QString& l) {
        return l.startsWith(QLatin1String("AGENT mouse-state"));
    });
    qInfo() << video().framesPresented - before << "frames presented under a still pointer;" << repeats
            << "positions sent again";
    QCOMPARE(repeats, 0);

    // It still follows the pointer when it moves.
    QTest::mouseMove(w, QPoint(260, 170));
    QVERIFY(!server.waitLine(QStringLiteral("AGENT mouse-state 260 170 "), 10000).isEmpty());
}

// What libspice-server's streams above never do: a stream clipped to two rectangles, and a
// bottom-up stream, from a scripted server. Each picture is red in its top half and blue in its
// bottom half. The view must show each only inside its clip, the bottom-up one flipped, whether
// it is drawn as a GPU layer (Xvfb) or on the CPU (offscreen, the software renderer): decoded to
// RGB by libjpeg-turbo, or (jpegdec forced) a decoder's picture converted as it is painted,
// straight into the window where it shows whole at 1:1 (the bottom-up stream), into a picture
// of the shell's own where clipped (the other) or scaled (the window 1.5 times the guest).
void TestShell::videoClipAndOrientation_data() {
    QTest::addColumn<QByteArray>("decoder");
    QTest::addColumn<double>("scale");
    QTest::newRow("libjpeg-turbo") << QByteArray() << 1.0;
    QTest::newRow("jpegdec") << QByteArray("mjpeg=jpegdec") << 1.0;
    QTest::newRow("jpegdec scaled") << QByteArray("mjpeg=jpegdec") << 1.5;
}

void TestShell::videoClipAndOrientation() {
    QFETCH(QByteArray, decoder);
    QFETCH(double, scale);
    // The decoder choice is the process's, made once: made again for this row and after it.
    qputenv(kDecoderOverrideEnv, decoder);
    DecoderSelector::configureProcessDefault({});
    const auto unforce = qScopeGuard([] {
        qunsetenv(kDecoderOverrideEnv);
        DecoderSelector::configureProcessDefault({});
    });
    const uint64_t directBefore = DirectVideoNode::directPaints();
    using namespace saffron::hostile;
    HostileServer server;
    server.setScript(SPICE_CHANNEL_MAIN, mainScript());
    const Bytes picture =
        encodeJpeg(64, 64, [](uint32_t, uint32_t y) { return y < 32 ? 0xff0000u : 0x0000ffu; });
    Script display;
    display.waitFor(SPICE_MSGC_DISPLAY_INIT);
    display.send(SPICE_MSG_DISPLAY_SURFACE_CREATE, surfaceCreate(0, 320, 240));
    display.send(SPICE_MSG_DISPLAY_DRAW_FILL,
                 drawFill(DrawBase{0, rectXYWH(0, 0, 320, 240), {}}, Brush::solid(0x404040)));
    display.send(SPICE_MSG_DISPLAY_MARK); // the shell shows the session from the first mark on
    display.send(SPICE_MSG_DISPLAY_STREAM_CREATE,
                 streamCreate(0, 1, SPICE_STREAM_FLAGS_TOP_DOWN, SPICE_VIDEO_CODEC_TYPE_MJPEG, 64, 64, 64, 64,
                              rectXYWH(32, 32, 64, 64),
                              clipRects({rectXYWH(32, 32, 64, 16), rectXYWH(32, 64, 32, 32)})));
    display.send(SPICE_MSG_DISPLAY_STREAM_DATA, streamData(1, picture));
    display.send(SPICE_MSG_DISPLAY_STREAM_CREATE, streamCreate(0, 2, 0, SPICE_VIDEO_CODEC_TYPE_MJPEG, 64, 64,
                                                               64, 64, rectXYWH(128, 32, 64, 64)));
    display.send(SPICE_MSG_DISPLAY_STREAM_DATA, streamData(2, picture));
    server.setScript(SPICE_CHANNEL_DISPLAY, display);

    ConnectionTarget t = localTarget(server.port(), QStringLiteral("scripted desktop"));
    t.options.password = QByteArrayLiteral("hostile-ticket");
    t.options.videoCodecs = {QStringLiteral("mjpeg")};
    QString why;
    const auto shell = connectedShell(startFor(t), QSize(320, 240) * scale, &why);
    QVERIFY2(shell, qPrintable(why));
    ShellApp& app = *shell;
    QQuickWindow* w = app.window();
    const auto video = [&] { return app.controller().session()->info().display.video; };
    QVERIFY(waitUntil([&] { return video().framesPresented >= 2; }, 30000));

    const auto near = [](QRgb p, QRgb want) {
        return std::abs(qRed(p) - qRed(want)) <= 0x18 && std::abs(qGreen(p) - qGreen(want)) <= 0x18 &&
               std::abs(qBlue(p) - qBlue(want)) <= 0x18;
    };
    const QRgb red = qRgb(0xff, 0, 0), blue = qRgb(0, 0, 0xff), grey = qRgb(0x40, 0x40, 0x40);
    struct Probe {
        QPoint at;
        QRgb want;
        const char* what;
    };
    const Probe probes[] = {
        {{40, 40}, red, "stream 1, first clip rectangle, top half"},
        {{80, 56}, grey, "stream 1, clipped away (top half)"},
        {{40, 88}, blue, "stream 1, second clip rectangle, bottom half"},
        {{80, 88}, grey, "stream 1, clipped away (bottom half)"},
        {{140, 40}, blue, "stream 2, bottom-up: its last rows on top"},
        {{140, 88}, red, "stream 2, bottom-up: its first rows at the bottom"},
        {{250, 200}, grey, "outside both streams"},
    };
    QImage view;
    QString wrong;
    const bool ok = waitUntil(
        [&] {
            view = w->grabWindow().convertToFormat(QImage::Format_RGB32);
            wrong.clear();
            for (const Probe& p : probes) {
                const QPoint at = (QPointF(p.at) * scale).toPoint();
                if (!near(view.pixel(at), p.want))
                    wrong += QStringLiteral("%1 at (%2,%3) is %4; ")
                                 .arg(QLatin1String(p.what))
                                 .arg(at.x())
                                 .arg(at.y())
                                 .arg(view.pixel(at), 8, 16);
            }
            return wrong.isEmpty();
        },
        10000);
    saveShot(w, QStringLiteral("video-clip-") + QString(QTest::currentDataTag()).replace(u' ', u'-'));
    QVERIFY2(ok, qPrintable(wrong));
    QCOMPARE(video().framesAsLayer, quint64(2));
    const bool software = w->rendererInterface()->graphicsApi() == QSGRendererInterface::Software;
    if (software)
        QCOMPARE(DirectVideoNode::directPaints() > directBefore, !decoder.isEmpty() && scale == 1.0);
    if (!software || decoder.isEmpty() || scale != 1.0)
        return;

    // A translucent veil (as the statistics overlay or a menu is) over the still bottom-up
    // picture, which was painted straight into the window, and a small item above its corner
    // that changes: the renderer then wants just that corner of the picture repainted. It must
    // come back under the veil; painting the whole picture again would wipe the rest of the
    // veil off it.
    const QRect stream2(128, 32, 64, 64);
    ColourSquare veil(w->contentItem());
    veil.setPosition(QPointF(stream2.topLeft()) - QPointF(16, 16));
    veil.setSize(QSizeF(stream2.size()) + QSizeF(32, 32));
    veil.setColor(QColor(16, 20, 24, 192));
    QTest::qWait(200);
    const uint64_t indirectBefore = DirectVideoNode::indirectPaints();
    ColourSquare blinker(w->contentItem());
    blinker.setPosition(QPointF(stream2.topLeft()) - QPointF(8, 8));
    blinker.setSize(QSizeF(24, 24));
    for (const QColor& c : {QColor(0, 255, 0, 128), QColor(255, 255, 0, 128)}) {
        blinker.setColor(c);
        QTest::qWait(200);
    }
    view = w->grabWindow().convertToFormat(QImage::Format_RGB32);
    saveShot(w, QStringLiteral("video-clip-under-veil"));
    QVERIFY(DirectVideoNode::indirectPaints() > indirectBefore);
    int bare = 0;
    for (int y = stream2.top(); y <= stream2.bottom(); ++y)
        for (int x = stream2.left(); x <= stream2.right(); ++x)
            bare += near(view.pixel(x, y), red) || near(view.pixel(x, y), blue);
    QCOMPARE(bare, 0); // every pixel of the picture is under the veil
}

QTEST_MAIN(TestShell)
#include "test_shell.moc"

// A server with two QXL devices (two display channels) and a client with two screens (the
// offscreen platform configured with two, see CMakeLists.txt): the second display gets a
// full-screen window of its own on the second screen, the guest is asked for one monitor per
// screen at that screen's size, and each window shows its display exactly.
void TestShell::displaysOnTheirOwnScreens() {
    const QList<QScreen*> screens = QGuiApplication::screens();
    if (screens.size() < 2)
        QSKIP("needs a platform with two screens (ctest's shell_two_screens)");
    TestServerProcess server({QStringLiteral("--displays"), QStringLiteral("2"), QStringLiteral("--size"),
                              QStringLiteral("640x480")});
    QVERIFY(server.port());
    QString why;
    const auto shell = connectedFullScreenShell(server, QStringLiteral("two displays"), &why);
    QVERIFY2(shell, qPrintable(why));
    ShellApp& app = *shell;

    QPointer<QQuickWindow> second; // the window must stay while the display changes mode
    QVERIFY(waitUntil([&] { return (second = shellWindow(QStringLiteral("displayWindow1"))) != nullptr; },
                      20000));
    QCOMPARE(second->screen(), screens[1]);
    QCOMPARE(second->visibility(), QWindow::FullScreen);
    QCOMPARE(app.window()->screen(), screens[0]);

    // Monitor i is display i: display 1 takes the second screen's size.
    const ScreenPair sizes = monitorSizes(screens);
    QString config;
    QVERIFY2(waitForSideBySideConfig(server, sizes, &config), qPrintable(config));
    QVERIFY(
        !server
             .waitLine(
                 QStringLiteral("DISPLAY 1 RESIZED %1x%2").arg(sizes.other.width()).arg(sizes.other.height()))
             .isEmpty());

    // The window shows display 1's picture as the server has it, pixel for pixel.
    QTemporaryDir dir;
    const QString dump = dir.filePath(QStringLiteral("display1.ppm"));
    int diff = -1;
    QImage view;
    const bool same = waitUntil(
        [&] {
            server.command("dump-surface " + dump.toUtf8() + " 1");
            if (server.waitLine(QStringLiteral("DUMPED")).isEmpty())
                return false;
            const QImage expected = QImage(dump).convertToFormat(QImage::Format_RGB32);
            if (!second)
                return false;
            view = second->grabWindow().convertToFormat(QImage::Format_RGB32);
            diff = differingPixels(view, expected);
            return expected.size() == view.size() && diff == 0;
        },
        20000);
    QVERIFY2(second, "the second display's window went away");
    saveShot(second, QStringLiteral("display-2"));
    saveShot(app.window(), QStringLiteral("display-1"));
    QVERIFY2(same, qPrintable(QStringLiteral("%1 pixels of the %2x%3 view differ from display 1")
                                  .arg(diff)
                                  .arg(view.width())
                                  .arg(view.height())));
    QCOMPARE(view.pixel(view.width() / 4, view.height() / 4), QRgb(0xff2060a0));

    // A click on the second window reaches the guest at that place on display 1 (spice-server
    // hands client-mode positions to the agent as VD_AGENT_MOUSE_STATE, display id last).
    QTest::mouseClick(second, Qt::LeftButton, {}, QPoint(100, 50));
    QString state;
    do {
        state = server.waitLine(QStringLiteral("AGENT mouse-state"), 10000);
        qInfo() << state;
    } while (!state.isEmpty() && !state.startsWith(QLatin1String("AGENT mouse-state 100 50 ")));
    QVERIFY2(state.endsWith(QLatin1String(" 1")), qPrintable(state));
}

// One QXL device driving two heads on one surface (a Linux guest, Proxmox "qxl2"), and a client
// with two screens: the main window shows head 0, a second window on the second screen head 1,
// the guest is asked for one head per screen at that screen's size, each window equals its
// part of the server's surface, and a click on the second window lands on head 1's part.
void TestShell::headsOnTheirOwnScreens() {
    const QList<QScreen*> screens = QGuiApplication::screens();
    if (screens.size() < 2)
        QSKIP("needs a platform with two screens (ctest's shell_two_screens)");
    TestServerProcess server({QStringLiteral("--heads"), QStringLiteral("2"), QStringLiteral("--size"),
                              QStringLiteral("640x480")});
    QVERIFY(server.port());
    QString why;
    const auto shell = connectedFullScreenShell(server, QStringLiteral("two heads"), &why);
    QVERIFY2(shell, qPrintable(why));
    ShellApp& app = *shell;

    QPointer<QQuickWindow> second;
    QVERIFY(
        waitUntil([&] { return (second = shellWindow(QStringLiteral("headWindow1"))) != nullptr; }, 20000));
    QCOMPARE(second->screen(), screens[1]);
    QCOMPARE(second->visibility(), QWindow::FullScreen);

    // Monitor i is head i of display 0: the driver lays the heads out as asked.
    const ScreenPair sizes = monitorSizes(screens);
    QString config;
    QVERIFY2(waitForSideBySideConfig(server, sizes, &config), qPrintable(config));
    const QRect head0(QPoint(0, 0), sizes.first);
    const QRect head1(QPoint(head0.right() + 1, 0), sizes.other);
    QCOMPARE(server.waitLine(QStringLiteral("HEADS")), QStringLiteral("HEADS 2 %1x%2+0+0 %3x%4+%1+0")
                                                           .arg(head0.width())
                                                           .arg(head0.height())
                                                           .arg(head1.width())
                                                           .arg(head1.height()));

    QTemporaryDir dir;
    const QString dump = dir.filePath(QStringLiteral("surface.ppm"));
    int diff0 = -1;
    int diff1 = -1;
    const bool same = waitUntil(
        [&] {
            server.command("dump-surface " + dump.toUtf8());
            if (server.waitLine(QStringLiteral("DUMPED")).isEmpty() || !second)
                return false;
            const QImage surface = QImage(dump).convertToFormat(QImage::Format_RGB32);
            const QImage main = app.window()->grabWindow().convertToFormat(QImage::Format_RGB32);
            const QImage right = second->grabWindow().convertToFormat(QImage::Format_RGB32);
            diff0 = main.size() == head0.size() ? differingPixels(main, surface.copy(head0)) : -1;
            diff1 = right.size() == head1.size() ? differingPixels(right, surface.copy(head1)) : -1;
            return diff0 == 0 && diff1 == 0;
        },
        20000);
    QVERIFY2(second, "the second head's window went away");
    saveShot(app.window(), QStringLiteral("head-1"));
    saveShot(second, QStringLiteral("head-2"));
    QVERIFY2(same, qPrintable(QStringLiteral("pixels differing from the surface: head 0 %1, head 1 %2 "
                                             "(-1: the window is not the head's size)")
                                  .arg(diff0)
                                  .arg(diff1)));

    // The heads share display 0: a click on the second window is a position on its part.
    QTest::mouseClick(second, Qt::LeftButton, {}, QPoint(100, 50));
    const QString prefix = QStringLiteral("AGENT mouse-state %1 50 ").arg(head1.left() + 100);
    QString state;
    do {
        state = server.waitLine(QStringLiteral("AGENT mouse-state"), 10000);
        qInfo() << state;
    } while (!state.isEmpty() && !state.startsWith(prefix));
    QVERIFY2(state.endsWith(QLatin1String(" 0")), qPrintable(state));
}

// The shell's choice of scene graph: the settings' word where it is not "auto"; auto takes the
// GPU unless OpenGL is missing (offscreen) or a CPU rasterizer (Xvfb's llvmpipe).
void TestShell::sceneGraphChoice() {
    QVERIFY(isCpuRasterizer(QStringLiteral("llvmpipe (LLVM 15.0.6, 256 bits)")));
    QVERIFY(isCpuRasterizer(QStringLiteral("softpipe")));
    QVERIFY(isCpuRasterizer(QStringLiteral("Software Rasterizer")));
    QVERIFY(isCpuRasterizer(QStringLiteral("SWR")));
    QVERIFY(!isCpuRasterizer(QStringLiteral("Mesa Intel(R) UHD Graphics 620 (KBL GT2)")));
    QVERIFY(!isCpuRasterizer(QStringLiteral("NVIDIA GeForce GTX 1650/PCIe/SSE2")));
    QVERIFY(!isCpuRasterizer(
        QStringLiteral("AMD Radeon Graphics (renoir, LLVM 15.0.6, DRM 3.49, 6.1.0-13-amd64)")));
    QVERIFY(chooseSceneGraph(RendererChoice::Software).software);
    QVERIFY(!chooseSceneGraph(RendererChoice::Gpu).software);

    // A cache of its own, holding two other machines' answers the probe must keep.
    QTemporaryDir cacheHome;
    QVERIFY(cacheHome.isValid());
    const QByteArray oldCacheHome = qgetenv("XDG_CACHE_HOME");
    qputenv("XDG_CACHE_HOME", QFile::encodeName(cacheHome.path()));
    const QByteArray display = qgetenv("DISPLAY");
    const auto restore = qScopeGuard([&] {
        qputenv("XDG_CACHE_HOME", oldCacheHome);
        qputenv("DISPLAY", display);
    });
    const QString cacheFile = cacheHome.filePath(QStringLiteral("saffron/gl-renderer"));
    QVERIFY(QDir().mkpath(QFileInfo(cacheFile).path()));
    const QByteArray others = "wayland wayland-1 6.4.2 card0:i915\nMesa Intel(R) UHD Graphics 620 (KBL GT2)\n"
                              "xcb :7 6.4.2\n\n";
    {
        QFile f(cacheFile);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(others);
    }
    const auto mapsMesa = [] {
        QFile maps(QStringLiteral("/proc/self/maps"));
        return maps.open(QIODevice::ReadOnly) && maps.readAll().contains("swrast_dri");
    };
    const bool mesaBefore = mapsMesa();
    const QString shell = qEnvironmentVariable("SAFFRON_SHELL");
    QVERIFY2(!shell.isEmpty(), "SAFFRON_SHELL names the saffron binary that answers --probe-opengl");

    const SceneGraphDecision automatic = chooseSceneGraph(RendererChoice::Auto, shell);
    qInfo().noquote() << "auto:" << automatic.reason;
    QVERIFY(automatic.software);
    const QByteArray cached = [&] {
        QFile f(cacheFile);
        return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
    }();
    QVERIFY2(cached.endsWith(others), cached.constData()); // the newest answer first
    QCOMPARE(cached.count('\n'), others.count('\n') + 2);
    if (qEnvironmentVariableIntValue("SAFFRON_EXPECT_RHI")) { // Xvfb: OpenGL is there, on the CPU
        QVERIFY2(automatic.reason.contains(QLatin1String("CPU rasterizer")), qPrintable(automatic.reason));
        // It was asked in a child: the driver is not in this process.
        if (!mesaBefore)
            QVERIFY(!mapsMesa());
        // A probe without an answer (its display is gone): software for now, nothing remembered.
        qputenv("DISPLAY", ":65000");
        const SceneGraphDecision failed = chooseSceneGraph(RendererChoice::Auto, shell);
        qInfo().noquote() << "probe on a missing display:" << failed.reason;
        QVERIFY(failed.software);
        QVERIFY2(failed.reason.contains(QLatin1String("probe failed")), qPrintable(failed.reason));
        qputenv("DISPLAY", display);
        QFile f(cacheFile);
        QVERIFY(f.open(QIODevice::ReadOnly));
        QCOMPARE(f.readAll(), cached);
    }
    // The next start on this display takes the remembered answer.
    QCOMPARE(chooseSceneGraph(RendererChoice::Auto, shell).reason, automatic.reason);
}
