#include "app/ShellApp.h"

#include "app/ClipboardBridge.h"
#include "app/FrameDamageKeeper.h"
#include "app/SurfaceItem.h"
#include "common/appliance/ConnectionCatalog.h"

#include <QClipboard>
#include <QGuiApplication>
#include <QLocale>
#include <QQmlEngine>
#include <QQuickWindow>
#include <mutex>

namespace saffron {

namespace {

ShellApp* g_current = nullptr;

// The QML singletons resolve to the live ShellApp's objects; the engine must not delete them.
template <typename T> QObject* provide(T* (*get)(ShellApp&)) {
    QObject* o = g_current ? get(*g_current) : nullptr;
    if (o)
        QJSEngine::setObjectOwnership(o, QJSEngine::CppOwnership);
    return o;
}

void registerTypes() {
    static std::once_flag once;
    std::call_once(once, [] {
        qmlRegisterType<SurfaceItem>("Saffron.Shell", 1, 0, "SurfaceView");
        qmlRegisterType<FrameDamageKeeper>("Saffron.Shell", 1, 0, "FrameDamageKeeper");
        qmlRegisterSingletonType<SessionController>(
            "Saffron.Shell", 1, 0, "Controller", [](QQmlEngine*, QJSEngine*) -> QObject* {
                return provide<SessionController>([](ShellApp& a) { return &a.controller(); });
            });
        qmlRegisterSingletonType<ShellConfig>(
            "Saffron.Shell", 1, 0, "Config", [](QQmlEngine*, QJSEngine*) -> QObject* {
                return provide<ShellConfig>([](ShellApp& a) { return &a.config(); });
            });
        qmlRegisterSingletonType<UsbController>(
            "Saffron.Shell", 1, 0, "Usb", [](QQmlEngine*, QJSEngine*) -> QObject* {
                return provide<UsbController>([](ShellApp& a) { return &a.usb(); });
            });
        qmlRegisterSingletonType<AdminController>(
            "Saffron.Shell", 1, 0, "Admin", [](QQmlEngine*, QJSEngine*) -> QObject* {
                return provide<AdminController>([](ShellApp& a) { return &a.admin(); });
            });
        qmlRegisterSingletonType<AudioDevicesModel>(
            "Saffron.Shell", 1, 0, "AudioDevices", [](QQmlEngine*, QJSEngine*) -> QObject* {
                return provide<AudioDevicesModel>([](ShellApp& a) { return &a.audioDevices(); });
            });
        qmlRegisterSingletonType<UpdateStatusWatcher>(
            "Saffron.Shell", 1, 0, "Update", [](QQmlEngine*, QJSEngine*) -> QObject* {
                return provide<UpdateStatusWatcher>([](ShellApp& a) { return &a.update(); });
            });
        qmlRegisterSingletonType<LauncherModel>(
            "Saffron.Shell", 1, 0, "Launcher", [](QQmlEngine*, QJSEngine*) -> QObject* {
                return provide<LauncherModel>([](ShellApp& a) { return &a.launcher(); });
            });
    });
}

// The administrator's rules, then what the connection file asks for (it may narrow automatic
// redirection, never widen what the rules deny: deny always wins inside UsbPolicy).
UsbPolicy usbPolicyFor(const ShellStart& s) {
    QString error;
    std::optional<UsbPolicy> policy =
        s.usbPolicy.isEmpty() ? UsbPolicy() : UsbPolicy::parse(s.usbPolicy, &error);
    if (!policy) {
        qWarning().noquote() << "USB policy:" << error << "- redirecting nothing";
        policy = UsbPolicy::parse(QStringLiteral("deny all"), &error);
    }
    if (s.target) {
        const ConnectionSpec& spec = s.target->spec;
        const QString autoFilter = !s.usbAutoFilter.isEmpty() ? s.usbAutoFilter : spec.usbFilter;
        const QString connectFilter =
            !s.usbConnectFilter.isEmpty() ? s.usbConnectFilter : spec.usbRedirectOnConnect;
        if (!autoFilter.isEmpty()) {
            if (auto f = UsbFilter::parse(autoFilter, &error))
                policy->setAutoRedirectFilter(*f);
            else
                qWarning().noquote() << "usb-filter:" << error;
        }
        if (!connectFilter.isEmpty()) {
            if (auto f = UsbFilter::parse(connectFilter, &error))
                policy->setConnectRedirectFilter(*f);
            else
                qWarning().noquote() << "usb-redirect-on-connect:" << error;
        }
    }
    return *policy;
}

SessionController::Policy policyFor(const ShellStart& s) {
    SessionController::Policy p;
    p.kiosk = s.kiosk;
    p.quitOnDisconnect = s.quitOnDisconnect;
    p.backoffMinMs = s.backoffMinMs;
    p.backoffMaxMs = s.backoffMaxMs;
    return p;
}

} // namespace

QVariantMap ShellApp::defaultHotkeys() {
    QVariantMap keys;
    const QMap<QString, QString> defaults = ShellSettings::defaultHotkeys();
    for (auto it = defaults.cbegin(); it != defaults.cend(); ++it)
        keys.insert(it.key(), it.value());
    return keys;
}

ShellApp::ShellApp(ShellStart start, QObject* parent)
    : QObject(parent), start_(std::move(start)), controller_(policyFor(start_)) {
    Q_ASSERT(!g_current);
    g_current = this;
    // Before anything builds a text; English (the sources' language) needs no file.
    if (translator_.load(QLocale(), QStringLiteral("saffron"), QStringLiteral("_"), QStringLiteral(":/i18n")))
        QCoreApplication::installTranslator(&translator_);
    config_.version = QGuiApplication::applicationVersion();
    config_.kiosk = start_.kiosk;
    config_.scaling = start_.scaling;
    config_.clipboard = start_.clipboard;
    config_.virtualKeyboard = start_.virtualKeyboard;
    // A kiosk never shows the connection list, not even an empty one.
    config_.launcher = !start_.target && !start_.kiosk;
    config_.startProblem = start_.startProblem;
    config_.startProblemDetail = start_.startProblemDetail;
    QVariantMap keys = defaultHotkeys();
    if (start_.target) {
        const ConnectionSpec& spec = start_.target->spec;
        for (auto it = spec.hotkeys.cbegin(); it != spec.hotkeys.cend(); ++it)
            keys.insert(it.key(), it.value());
        config_.fullScreen = spec.fullscreen;
        if (!spec.title.isEmpty())
            config_.windowTitle = spec.title;
    }
    for (auto it = start_.hotkeys.cbegin(); it != start_.hotkeys.cend(); ++it)
        keys.insert(it.key(), it.value());
    config_.sessionHotkeys = keys;
    config_.fullScreen = config_.fullScreen || start_.fullScreen || start_.kiosk;
    if (!start_.title.isEmpty())
        config_.windowTitle = start_.title;
    launcher_.setEntries(std::move(start_.connections));
    usb_ = std::make_unique<UsbController>(usbPolicyFor(start_));
    audioDevices_ = std::make_unique<AudioDevicesModel>();
    update_ = std::make_unique<UpdateStatusWatcher>(
        start_.updateStatusPath.isEmpty() ? UpdateStatusWatcher::defaultPath() : start_.updateStatusPath);
    std::unique_ptr<ShellSettings> settings;
    if (!start_.settingsRoot.isEmpty()) {
        settings = std::make_unique<ShellSettings>(start_.settingsRoot);
        settings->reload(start_.kiosk);
    }
    admin_ = std::make_unique<AdminController>(
        std::move(settings), start_.kiosk,
        start_.settingsRoot.isEmpty() ? QString() : ConnectionCatalog::adminDirForRoot(start_.settingsRoot));
    connect(admin_.get(), &AdminController::connectionsChanged, this, [this] {
        if (start_.reloadConnections)
            launcher_.setEntries(start_.reloadConnections());
    });
    const bool usbAllowed =
        start_.usbAllowed && (!start_.target || start_.target->spec.enableUsbRedir.value_or(true));
    // The session is created and wired before it starts: its usbredir channels must meet their
    // endpoints before the server's first bytes arrive.
    connect(&controller_, &SessionController::sessionChanged, this,
            [this, usbAllowed] { usb_->setSession(usbAllowed ? controller_.session() : nullptr); });

    connect(&launcher_, &LauncherModel::activated, &controller_,
            [this](const ConnectionTarget& t, bool needsPassword) {
                needsPassword ? controller_.askPassword(t) : controller_.open(t);
            });
    connect(&controller_, &SessionController::quitRequested, this, &ShellApp::quitRequested);
    if (start_.target && !start_.kiosk) {
        // Like remote-viewer: a window opened for one connection closes when the user leaves it.
        connect(&controller_, &SessionController::stateChanged, this, [this] {
            if (controller_.state() == QLatin1String("idle"))
                emit quitRequested(0);
        });
    }
    wireClipboard();
}

ShellApp::~ShellApp() {
    // Sessions first (their usbredir channels call into USB endpoints), then the USB side.
    controller_.closeSession();
    QCoreApplication::sendPostedEvents(nullptr, QEvent::DeferredDelete);
    usb_->setSession(nullptr);
    usb_.reset();
    if (engine_)
        engine_->clearSingletons();
    g_current = nullptr;
}

bool ShellApp::load() {
    registerTypes();
    if (!engine_)
        engine_ = std::make_unique<QQmlApplicationEngine>();
    engine_->load(QUrl(QStringLiteral("qrc:/qml/Main.qml")));
    if (engine_->rootObjects().isEmpty())
        return false;
    window_ = qobject_cast<QQuickWindow*>(engine_->rootObjects().first());
    if (!window_)
        return false;
    if (config_.fullScreen)
        window_->showFullScreen();
    return true;
}

void ShellApp::begin() {
    if (start_.target)
        controller_.open(*start_.target);
}

void ShellApp::wireClipboard() {
    if (!config_.clipboard)
        return; // the administrator turned it off: nothing crosses in either direction
    clipboard_ = std::make_unique<ClipboardBridge>(QGuiApplication::clipboard());
    connect(&controller_, &SessionController::sessionChanged, this,
            [this] { clipboard_->setSession(controller_.session()); });
}

} // namespace saffron
