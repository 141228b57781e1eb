// Kiosk escape attempts against the shell in kiosk mode, connected to QEMU: the window manager's
// close, the usual quit and switch shortcuts, the X server's kill chord and the VT switch keys.
// After each one the shell must still be up, full screen, connected, and must not have asked to
// quit; the keys themselves belong to the guest, so the inputs channel must have sent them.
//
// A crash of the shell is handled by systemd (Restart=always, RestartSec=500ms in
// saffron-kiosk@.service); that needs systemd as PID 1 and is checked on the unit file by
// test_security_defaults (kioskUnitRestartsQuickly). The image boot test reports restarts it
// sees in the journal but does not crash the shell on purpose.
#include "QemuInstance.h"
#include "RobustnessReport.h"
#include "TestUtil.h"
#include "app/ShellApp.h"

#include <QGuiApplication>
#include <QQuickItem>
#include <QQuickWindow>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

using namespace saffron;
using namespace saffron::test;

namespace {

quint64 inputsMessagesOut(SessionController& c) {
    if (!c.session())
        return 0;
    for (const ChannelInfo& ch : c.session()->info().channels)
        if (ch.name.startsWith(QStringLiteral("inputs")))
            return ch.stats.messagesOut;
    return 0;
}

} // namespace

class TestKioskEscape : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();
    void cleanupTestCase();
    void cleanup() { RobustnessReport::caseDone(QTest::currentTestFailed()); }
    void escapeAttempt_data();
    void escapeAttempt();
    void windowCloseIsIgnored();

private:
    bool stillKiosk(QString* why);

    std::unique_ptr<QemuInstance> qemu_;
    std::unique_ptr<QTemporaryDir> root_;
    std::unique_ptr<ShellApp> app_;
    std::unique_ptr<QSignalSpy> quits_;
};

void TestKioskEscape::initTestCase() {
    qemu_ = std::make_unique<QemuInstance>();
    QVERIFY2(qemu_->start(), qPrintable(qemu_->errorString()));
    root_ = std::make_unique<QTemporaryDir>();
    ConnectionTarget t;
    t.spec.host = QemuInstance::host();
    t.spec.port = qemu_->port();
    t.spec.title = QStringLiteral("kiosk desktop");
    t.options.host = t.spec.host;
    t.options.port = t.spec.port;
    t.options.videoCodecs = {QStringLiteral("off")};
    ShellStart s;
    s.target = t;
    s.kiosk = true;
    s.fullScreen = true;
    s.settingsRoot = root_->path();
    s.backoffMinMs = 300;
    s.backoffMaxMs = 2000;
    app_ = std::make_unique<ShellApp>(std::move(s));
    quits_ = std::make_unique<QSignalSpy>(app_.get(), &ShellApp::quitRequested);
    QVERIFY(app_->load());
    app_->begin();
    QVERIFY2(waitUntil([&] { return app_->controller().state() == QStringLiteral("connected"); }, 60000),
             qPrintable(app_->controller().message()));
    QQuickWindow* w = app_->window();
    QVERIFY(waitUntil([&] { return w->isExposed(); }, 10000));
    w->requestActivate();
    // The session view takes the keyboard once connected.
    waitUntil([&] { return w->activeFocusItem() != nullptr; }, 10000);
    qInfo("focus item: %s", w->activeFocusItem() ? qPrintable(w->activeFocusItem()->objectName()) : "none");
}

void TestKioskEscape::cleanupTestCase() {
    quits_.reset();
    app_.reset();
    qemu_.reset();
}

bool TestKioskEscape::stillKiosk(QString* why) {
    QQuickWindow* w = app_->window();
    if (!w || !w->isVisible())
        *why = QStringLiteral("window hidden");
    else if (w->visibility() != QWindow::FullScreen)
        *why = QStringLiteral("not full screen: %1").arg(int(w->visibility()));
    else if (app_->controller().state() != QStringLiteral("connected"))
        *why = QStringLiteral("state %1").arg(app_->controller().state());
    else if (!quits_->isEmpty())
        *why = QStringLiteral("quit requested");
    else
        return true;
    return false;
}

void TestKioskEscape::escapeAttempt_data() {
    QTest::addColumn<int>("key");
    QTest::addColumn<int>("modifiers");
    const int ctrl = Qt::ControlModifier, alt = Qt::AltModifier;
    QTest::newRow("Ctrl+Q") << int(Qt::Key_Q) << ctrl;
    QTest::newRow("Ctrl+W") << int(Qt::Key_W) << ctrl;
    QTest::newRow("Alt+F4") << int(Qt::Key_F4) << alt;
    QTest::newRow("Alt+Tab") << int(Qt::Key_Tab) << alt;
    QTest::newRow("Alt+Esc") << int(Qt::Key_Escape) << alt;
    QTest::newRow("Ctrl+Alt+Backspace") << int(Qt::Key_Backspace) << (ctrl | alt);
    QTest::newRow("Ctrl+Alt+Del") << int(Qt::Key_Delete) << (ctrl | alt);
    for (int i = 1; i <= 12; ++i)
        QTest::newRow(qPrintable(QStringLiteral("Ctrl+Alt+F%1").arg(i)))
            << int(Qt::Key_F1 + i - 1) << (ctrl | alt);
}

void TestKioskEscape::escapeAttempt() {
    QFETCH(int, key);
    QFETCH(int, modifiers);
    QQuickWindow* w = app_->window();
    const quint64 before = inputsMessagesOut(app_->controller());
    QTest::keyClick(w, Qt::Key(key), Qt::KeyboardModifiers(modifiers));
    QTest::qWait(100);
    QString why;
    QVERIFY2(stillKiosk(&why), qPrintable(why));
    // The chord went to the guest: at least the key's own down and up on the inputs channel.
    QVERIFY2(waitUntil([&] { return inputsMessagesOut(app_->controller()) >= before + 2; }, 5000),
             qPrintable(QStringLiteral("inputs messages %1 -> %2")
                            .arg(before)
                            .arg(inputsMessagesOut(app_->controller()))));
}

void TestKioskEscape::windowCloseIsIgnored() {
    QQuickWindow* w = app_->window();
    w->close(); // what a window manager's close button asks for
    QTest::qWait(200);
    QString why;
    QVERIFY2(stillKiosk(&why), qPrintable(why));
    // And from QML: no disconnect in kiosk mode.
    app_->controller().disconnectSession();
    QTest::qWait(200);
    QVERIFY2(stillKiosk(&why), qPrintable(why));
}

SAFFRON_ROBUSTNESS_MAIN(QGuiApplication, TestKioskEscape)
#include "test_kiosk_escape.moc"
