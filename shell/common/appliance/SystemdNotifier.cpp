#include "common/appliance/SystemdNotifier.h"

#include <algorithm>
#include <climits>
#include <systemd/sd-daemon.h>

namespace saffron {

bool SystemdNotifier::send(const QByteArray& state) {
    // sd_notify returns 0 when NOTIFY_SOCKET is unset and > 0 once sent. unset_environment=0:
    // later messages (STATUS, WATCHDOG) need the socket too.
    return sd_notify(0, state.constData()) > 0;
}

bool SystemdNotifier::ready() {
    return send("READY=1");
}

bool SystemdNotifier::status(const QString& status) {
    // One line: a newline would start another assignment in the notification.
    QString line = status;
    line.replace(u'\n', u' ');
    return send("STATUS=" + line.toUtf8());
}

bool SystemdNotifier::watchdog() {
    return send("WATCHDOG=1");
}

bool SystemdNotifier::stopping() {
    return send("STOPPING=1");
}

std::optional<std::chrono::microseconds> SystemdNotifier::watchdogInterval() {
    uint64_t usec = 0;
    // > 0 only when WATCHDOG_USEC is set and WATCHDOG_PID (if set) is this process.
    if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0)
        return std::nullopt;
    return std::chrono::microseconds(usec);
}

GuiWatchdog::GuiWatchdog(QObject* parent) : QObject(parent) {
    timer_.setTimerType(Qt::PreciseTimer);
    connect(&timer_, &QTimer::timeout, this, [] { SystemdNotifier::watchdog(); });
}

bool GuiWatchdog::start() {
    const auto interval = SystemdNotifier::watchdogInterval();
    if (!interval)
        return false;
    // Half the interval, as sd_watchdog_enabled(3) recommends, so one late ping is not fatal.
    const auto half = std::chrono::duration_cast<std::chrono::milliseconds>(*interval / 2);
    timer_.start(std::clamp(half, std::chrono::milliseconds(1), std::chrono::milliseconds(INT_MAX)));
    SystemdNotifier::watchdog();
    return true;
}

void GuiWatchdog::stop() {
    timer_.stop();
}

} // namespace saffron
