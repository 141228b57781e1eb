#pragma once

#include "Session.h"

#include <QObject>
#include <QTimer>
#include <functional>
#include <memory>

namespace saffron {

// A diagnostic for benches and for a technician at the device: with SAFFRON_STATS_LOG=MS in the
// environment, the process writes one line every MS milliseconds to stderr with the session's
// cumulative counters, its own CPU time and the monotonic clock (CLOCK_MONOTONIC, the clock of
// Python's time.monotonic()), so that figures over any window come from two lines' differences:
//
//   saffron-stats t_ms=… cpu_ms=… bytes_in=… draws=… received=… decoded=… presented=… …
//
// Counters only, no rates: the reader picks the window. Without the variable nothing runs.
class StatsLog : public QObject {
    Q_OBJECT
public:
    // The session to read, or null between sessions (then nothing is written).
    using SessionGetter = std::function<const Session*()>;

    // Null unless SAFFRON_STATS_LOG is set; a value outside 100..60000 means 1000.
    static std::unique_ptr<StatsLog> fromEnvironment(SessionGetter session, QObject* parent = nullptr);
    // One line (without the newline), for the given session figures, clock and CPU time.
    static QByteArray line(const SessionInfo& info, qint64 monotonicMs, qint64 cpuMs);

    StatsLog(SessionGetter session, int periodMs, QObject* parent = nullptr);

private:
    void write();

    SessionGetter session_;
    QTimer timer_;
};

} // namespace saffron
