#pragma once

#include <QElapsedTimer>
#include <QTimer>
#include <algorithm>

namespace saffron::test {

// Measures how responsive the thread it lives on is: a timer asks to run every `intervalMs` and
// the longest gap between two runs is kept. A frozen event loop (a blocking call on the GUI
// thread) shows up as one long gap. Only an upper bound far above the interval is ever asserted:
// this is a freeze detector, not a benchmark.
class Heartbeat {
public:
    explicit Heartbeat(int intervalMs = 10) {
        timer_.setTimerType(Qt::PreciseTimer);
        timer_.setInterval(intervalMs);
        QObject::connect(&timer_, &QTimer::timeout, [this] { beat(); });
    }
    void start() {
        maxGapMs_ = 0;
        beats_ = 0;
        last_.start();
        timer_.start();
    }
    void stop() {
        beat();
        timer_.stop();
    }
    qint64 maxGapMs() const { return maxGapMs_; }
    qint64 beats() const { return beats_; }

private:
    void beat() {
        maxGapMs_ = std::max(maxGapMs_, last_.restart());
        ++beats_;
    }

    QTimer timer_;
    QElapsedTimer last_;
    qint64 maxGapMs_ = 0;
    qint64 beats_ = 0;
};

} // namespace saffron::test
