#pragma once

#include <QObject>
#include <QString>
#include <QTimer>
#include <chrono>
#include <optional>

namespace saffron {

// The sd_notify(3) messages the shell sends to its service manager. Each is a no-op (returns
// false) when NOTIFY_SOCKET is unset, i.e. when not started by systemd with Type=notify.
class SystemdNotifier {
public:
    static bool ready();                       // READY=1: the first screen is up
    static bool status(const QString& status); // STATUS=...: shown by systemctl status
    static bool watchdog();                    // WATCHDOG=1
    static bool stopping();                    // STOPPING=1
    // The watchdog interval systemd expects pings within (WATCHDOG_USEC, for this process per
    // WATCHDOG_PID), or std::nullopt when the watchdog is off.
    static std::optional<std::chrono::microseconds> watchdogInterval();

private:
    static bool send(const QByteArray& state);
};

// Feeds the systemd watchdog from the thread this object lives on: create it on the GUI
// thread. A QTimer on that thread sends WATCHDOG=1 every half interval, so the pings stop as
// soon as the event loop stops turning (a deadlock, an endless layout, a blocking call on the
// GUI thread) and systemd kills and restarts the shell (Restart=always, WatchdogSec=) instead
// of leaving a frozen picture on a kiosk. A separate ping thread would keep pinging for a
// hung UI, which is exactly what this must not do.
class GuiWatchdog : public QObject {
    Q_OBJECT
public:
    explicit GuiWatchdog(QObject* parent = nullptr);

    // Starts pinging when the watchdog is enabled for this process; returns whether it is.
    // Pings once immediately.
    bool start();
    void stop();
    bool isActive() const { return timer_.isActive(); }
    std::chrono::milliseconds pingInterval() const { return std::chrono::milliseconds(timer_.interval()); }

private:
    QTimer timer_;
};

} // namespace saffron
