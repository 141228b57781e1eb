#pragma once

#include <QProcess>
#include <QStringList>

namespace saffron::test {

// One saffron-test-server process (tests/spice-test-server, on libspice-server), driven over
// stdin/stdout as its README describes: `--port 0` is added, the port is read from its READY
// line, commands go to stdin, and its output lines are read in order. The binary is
// $SAFFRON_TEST_SERVER (set by the suites' ctest ENVIRONMENT).
class TestServerProcess {
public:
    explicit TestServerProcess(const QStringList& args);
    // Sends "quit" and waits (then kills) so no server outlives its test.
    ~TestServerProcess();
    TestServerProcess(const TestServerProcess&) = delete;
    TestServerProcess& operator=(const TestServerProcess&) = delete;

    // The next output line starting with `prefix`, waiting at most `ms` (an empty string then).
    // Every line is looked at once: lines before the match are passed over for good.
    QString waitLine(const QString& prefix, int ms = 20000);
    // The port from the READY line (0 if it never came); read once, then remembered.
    quint16 port();
    void command(const QByteArray& line);
    // Every line read so far.
    const QStringList& lines();
    // Reads what arrived without waiting.
    void readLines();
    // Still running (not crashed, not quit).
    bool running() const { return proc_.state() == QProcess::Running; }

private:
    QProcess proc_;
    QStringList lines_;
    qsizetype next_ = 0;
    quint16 port_ = 0;
};

} // namespace saffron::test
