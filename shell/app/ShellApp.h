#pragma once

#include "app/AdminController.h"
#include "app/AudioDevicesModel.h"
#include "app/ClipboardBridge.h"
#include "app/LauncherModel.h"
#include "app/SessionController.h"
#include "app/ShellConfig.h"
#include "app/UsbController.h"
#include "common/appliance/UpdateStatus.h"

#include <QQmlApplicationEngine>
#include <QTranslator>
#include <functional>
#include <memory>
#include <optional>

class QQuickWindow;

namespace saffron {

// How the shell was asked to start: from the command line (main.cpp) or from a test.
struct ShellStart {
    bool kiosk = false;
    bool quitOnDisconnect = false;
    bool fullScreen = false;
    QString title;
    QString scaling = QStringLiteral("fit");
    QVariantMap hotkeys; // merged over the defaults
    bool clipboard = true;
    std::optional<ConnectionTarget> target; // none: the launcher
    std::vector<LauncherModel::Entry> connections;
    // Reads the connections again after the admin panel changed them; empty: the list is fixed.
    std::function<std::vector<LauncherModel::Entry>()> reloadConnections;
    // USB policy in our rule format (usb/core/README.md); the target's usb-filter and
    // usb-redirect-on-connect (.vv) become its auto-redirect filters.
    QString usbPolicy;
    bool usbAllowed = true;   // the administrator's switch for USB redirection as a whole
    QString usbAutoFilter;    // spice-gtk filter strings from the settings; they replace the
    QString usbConnectFilter; // connection file's, which come from the server's side
    bool virtualKeyboard = false;
    QString settingsRoot; // the administrator's settings live under it; empty = none
    int backoffMinMs = 1000;
    int backoffMaxMs = 30000;
    // The appliance updater's status file (UpdateStatusWatcher; empty: its default).
    QString updateStatusPath;
    // A kiosk that has nothing it can connect to shows this instead (see ShellConfig).
    QString startProblem;
    QString startProblemDetail;
};

// The Qt Quick shell: configuration, the session controller, the launcher model and the QML
// window, wired together. One at a time per process (QML singletons point at it).
class ShellApp : public QObject {
    Q_OBJECT
public:
    explicit ShellApp(ShellStart start, QObject* parent = nullptr);
    ~ShellApp() override;

    // Loads the QML window; false (with the QML errors logged) if it could not be created.
    bool load();
    // Connects to the start target, if any. Separate from load() so callers can hook signals.
    void begin();

    QQuickWindow* window() const { return window_; }
    SessionController& controller() { return controller_; }
    ShellConfig& config() { return config_; }
    LauncherModel& launcher() { return launcher_; }
    UsbController& usb() { return *usb_; }
    AdminController& admin() { return *admin_; }
    AudioDevicesModel& audioDevices() { return *audioDevices_; }
    UpdateStatusWatcher& update() { return *update_; }

    // remote-viewer's defaults where it has one, ours for the rest.
    static QVariantMap defaultHotkeys();

signals:
    void quitRequested(int code);

private:
    void wireClipboard();

    ShellStart start_;
    ShellConfig config_;
    // The user interface's language: QLocale()'s, i.e. LANG / LANGUAGE unless a test set a default.
    QTranslator translator_;
    SessionController controller_;
    LauncherModel launcher_;
    std::unique_ptr<UsbController> usb_;
    std::unique_ptr<AdminController> admin_;
    std::unique_ptr<AudioDevicesModel> audioDevices_;
    std::unique_ptr<UpdateStatusWatcher> update_;
    // Made by load(): the QML engine's construction (~10 ms) is not on the way to begin(), so a
    // session can start connecting first.
    std::unique_ptr<QQmlApplicationEngine> engine_;
    QQuickWindow* window_ = nullptr;
    std::unique_ptr<ClipboardBridge> clipboard_;
};

} // namespace saffron
