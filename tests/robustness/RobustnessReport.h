#pragma once

#include <QString>
#include <QStringList>
#include <QVariant>
#include <QtGlobal>

namespace saffron::test {

// What this process holds right now, from procfs (proc(5)).
qint64 residentKiB();                    // /proc/self/statm "resident" pages, in KiB
int openFileDescriptors();               // entries of /proc/self/fd, the directory's own fd excluded
QStringList openFileDescriptorTargets(); // "3 -> socket:[1234]", for diagnostics

// An integer from the environment, or `fallback` when unset or not a number. Long durations of
// the suite (soak cycles, streaming seconds) are read this way so that CI can run short and a
// person can run the full figures.
int envInt(const char* name, int fallback);

// Collects the figures of one robustness executable and writes them, with the outcome, to
// $SAFFRON_ROBUSTNESS_RESULTS/<suite>.json for the summary (summary.py). At start a
// <suite>.started marker is written and a watchdog armed: if the executable runs longer than
// $SAFFRON_HANG_SECONDS it records a hang and aborts, so the summary can tell a hang (marker
// "hang") from a crash (started, no result) from a pass.
class RobustnessReport {
public:
    static void begin(const QString& suite);
    // Called from each test class's cleanup(): one case (data row) ran, failed or not.
    static void caseDone(bool failed);
    static void setFigure(const QString& key, const QVariant& value);
    // A figure that keeps its maximum over the calls (e.g. RSS growth over several cases).
    static void maxFigure(const QString& key, qint64 value);
    // Runs a leak check (LeakSanitizer, when built with ASan) and writes the result file;
    // returns the exit code to use (qtestRc, or 1 if leaks were found).
    static int finish(int qtestRc);
};

} // namespace saffron::test

// main() for a robustness test: QTEST_MAIN plus the report around QTest::qExec.
#define SAFFRON_ROBUSTNESS_MAIN(AppClass, TestClass)                                                         \
    int main(int argc, char** argv) {                                                                        \
        AppClass app(argc, argv);                                                                            \
        saffron::test::RobustnessReport::begin(QStringLiteral(#TestClass));                                  \
        int rc = 0;                                                                                          \
        {                                                                                                    \
            TestClass tc;                                                                                    \
            QTEST_SET_MAIN_SOURCE_PATH                                                                       \
            rc = QTest::qExec(&tc, argc, argv);                                                              \
        }                                                                                                    \
        return saffron::test::RobustnessReport::finish(rc);                                                  \
    }
