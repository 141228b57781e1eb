// sd_notify and the GUI-thread watchdog, against a real notification socket: a unix datagram
// socket this test binds and points NOTIFY_SOCKET at, exactly what systemd gives a
// Type=notify service (sd_notify(3)). A second thread receives the datagrams.
#include "common/appliance/SystemdNotifier.h"

#include <QCoreApplication>
#include <QFile>
#include <QProcess>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QtTest>
#include <atomic>
#include <mutex>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <thread>
#include <unistd.h>

using namespace saffron;
using namespace std::chrono_literals;

namespace {

// Receives every datagram sent to a bound unix socket, in arrival order.
class NotifyReceiver {
public:
    explicit NotifyReceiver(const QString& path) {
        fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        const QByteArray p = QFile::encodeName(path);
        if (fd_ < 0 || p.size() >= qsizetype(sizeof(addr.sun_path)))
            return;
        std::memcpy(addr.sun_path, p.constData(), static_cast<size_t>(p.size()));
        if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0)
            return;
        bound_ = true;
        thread_ = std::thread([this] { run(); });
    }
    ~NotifyReceiver() {
        stop_ = true;
        if (thread_.joinable())
            thread_.join();
        if (fd_ >= 0)
            ::close(fd_);
    }
    bool ok() const { return bound_; }

    QList<QByteArray> messages() const {
        const std::lock_guard lock(mutex_);
        return messages_;
    }
    int count(const QByteArray& message) const { return int(messages().count(message)); }

private:
    void run() {
        while (!stop_) {
            pollfd pfd{fd_, POLLIN, 0};
            if (::poll(&pfd, 1, 20) <= 0)
                continue;
            char buffer[4096];
            const ssize_t n = ::recv(fd_, buffer, sizeof(buffer), 0);
            if (n > 0) {
                const std::lock_guard lock(mutex_);
                messages_.append(QByteArray(buffer, int(n)));
            }
        }
    }

    int fd_ = -1;
    bool bound_ = false;
    std::atomic<bool> stop_{false};
    std::thread thread_;
    mutable std::mutex mutex_;
    QList<QByteArray> messages_;
};

// Sends a marker datagram to the socket from the calling thread. Datagrams to one unix socket
// are queued in the order they were sent, so a marker sent by the GUI thread separates what
// that thread sent before it from what anyone sent after.
void sendMarker(const QString& path, const QByteArray& text) {
    const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    const QByteArray p = QFile::encodeName(path);
    std::memcpy(addr.sun_path, p.constData(), static_cast<size_t>(p.size()));
    ::sendto(fd, text.constData(), static_cast<size_t>(text.size()), 0, reinterpret_cast<sockaddr*>(&addr),
             sizeof(addr));
    ::close(fd);
}

} // namespace

class TestShellWatchdog : public QObject {
    Q_OBJECT

private slots:
    void cleanup() {
        qunsetenv("NOTIFY_SOCKET");
        qunsetenv("WATCHDOG_USEC");
        qunsetenv("WATCHDOG_PID");
    }

    void noOpWithoutSystemd() {
        QVERIFY(!SystemdNotifier::ready());
        QVERIFY(!SystemdNotifier::watchdog());
        QVERIFY(!SystemdNotifier::watchdogInterval());
        GuiWatchdog watchdog;
        QVERIFY(!watchdog.start());
        QVERIFY(!watchdog.isActive());
    }

    void watchdogOnlyForThisProcess() {
        qputenv("WATCHDOG_USEC", "2000000");
        QCOMPARE(SystemdNotifier::watchdogInterval(), std::optional<std::chrono::microseconds>(2s));
        qputenv("WATCHDOG_PID", QByteArray::number(qint64(::getpid())));
        QCOMPARE(SystemdNotifier::watchdogInterval(), std::optional<std::chrono::microseconds>(2s));
        // Inherited from a parent service: not ours to feed.
        qputenv("WATCHDOG_PID", QByteArray::number(qint64(::getppid())));
        QVERIFY(!SystemdNotifier::watchdogInterval());
        GuiWatchdog watchdog;
        QVERIFY(!watchdog.start());
    }

    void notifications() {
        QTemporaryDir dir;
        const QString path = dir.filePath("notify");
        NotifyReceiver receiver(path);
        QVERIFY(receiver.ok());
        qputenv("NOTIFY_SOCKET", QFile::encodeName(path));
        QVERIFY(SystemdNotifier::status("connecting to office\nstep: TLS"));
        QVERIFY(SystemdNotifier::ready());
        QVERIFY(SystemdNotifier::stopping());
        QTRY_COMPARE_WITH_TIMEOUT(receiver.messages().size(), 3, 10000);
        QCOMPARE(receiver.messages(),
                 QList<QByteArray>({"STATUS=connecting to office step: TLS", "READY=1", "STOPPING=1"}));
    }

    // The watchdog is fed from the GUI thread's event loop: while that thread is blocked no
    // ping is sent (so systemd's WatchdogSec= fires and restarts a hung shell), and pings come
    // back once it runs again. Checked by order of arrival, not by timing.
    void blockedGuiThreadStopsPings() {
        QTemporaryDir dir;
        const QString path = dir.filePath("notify");
        NotifyReceiver receiver(path);
        QVERIFY(receiver.ok());
        qputenv("NOTIFY_SOCKET", QFile::encodeName(path));
        qputenv("WATCHDOG_USEC", "100000"); // 100 ms: pings every 50 ms
        qputenv("WATCHDOG_PID", QByteArray::number(qint64(::getpid())));

        GuiWatchdog watchdog;
        QVERIFY(watchdog.start());
        QCOMPARE(watchdog.pingInterval(), 50ms);
        // The event loop runs: pings arrive.
        QTRY_VERIFY_WITH_TIMEOUT(receiver.count("WATCHDOG=1") >= 3, 20000);

        // Block this (the GUI) thread for 10 intervals, between two markers.
        sendMarker(path, "BLOCK-BEGIN");
        std::this_thread::sleep_for(1s);
        sendMarker(path, "BLOCK-END");
        // Unblocked: the pings resume.
        const auto pingsAfterBlock = [&receiver] {
            const QList<QByteArray> all = receiver.messages();
            const qsizetype end = all.indexOf("BLOCK-END");
            return end < 0 ? 0 : all.mid(end).count("WATCHDOG=1");
        };
        QTRY_VERIFY_WITH_TIMEOUT(pingsAfterBlock() >= 2, 20000);
        watchdog.stop();

        const QList<QByteArray> all = receiver.messages();
        const qsizetype begin = all.indexOf("BLOCK-BEGIN");
        const qsizetype end = all.indexOf("BLOCK-END");
        QVERIFY(begin >= 0 && end > begin);
        QCOMPARE(end - begin, 1); // nothing at all between the markers: no ping while blocked
        QVERIFY(all.mid(0, begin).count("WATCHDOG=1") >= 3);
        QVERIFY(all.mid(end).count("WATCHDOG=1") >= 2);
    }

    // Control for the test above: a pinger on another thread (the design GuiWatchdog must not
    // have) keeps pinging while the GUI thread is blocked, and the markers show it.
    void otherThreadPingerIsDetected() {
        QTemporaryDir dir;
        const QString path = dir.filePath("notify");
        NotifyReceiver receiver(path);
        QVERIFY(receiver.ok());
        qputenv("NOTIFY_SOCKET", QFile::encodeName(path));
        std::atomic<bool> stop{false};
        std::thread pinger([&stop] {
            while (!stop) {
                SystemdNotifier::watchdog();
                std::this_thread::sleep_for(20ms);
            }
        });
        sendMarker(path, "BLOCK-BEGIN");
        std::this_thread::sleep_for(500ms);
        sendMarker(path, "BLOCK-END");
        stop = true;
        pinger.join();
        QTRY_VERIFY_WITH_TIMEOUT(receiver.messages().contains("BLOCK-END"), 20000);
        const QList<QByteArray> all = receiver.messages();
        const qsizetype begin = all.indexOf("BLOCK-BEGIN");
        const qsizetype end = all.indexOf("BLOCK-END");
        QVERIFY(all.mid(begin, end - begin).count("WATCHDOG=1") >= 1);
    }

    // The same with the real service manager, where one runs: a transient user service with
    // WatchdogSec= whose GUI thread blocks must end with result "watchdog".
    void realSystemdKillsBlockedShell() {
        if (!QFile::exists("/run/systemd/system"))
            QSKIP("systemd is not the init system here (no /run/systemd/system)");
        const QString systemdRun = QStandardPaths::findExecutable("systemd-run");
        if (systemdRun.isEmpty())
            QSKIP("systemd-run not installed");
        QProcess probe;
        probe.start("systemctl", {"--user", "is-system-running"});
        if (!probe.waitForFinished(10000) || probe.exitStatus() != QProcess::NormalExit ||
            probe.readAllStandardOutput().trimmed().isEmpty() || probe.exitCode() > 1)
            QSKIP("no systemd user manager reachable");
        QProcess run;
        run.start(systemdRun,
                  {"--user", "--wait", "--quiet", "-p", "Type=notify", "-p", "WatchdogSec=1", "-p",
                   "TimeoutStartSec=20", QCoreApplication::applicationFilePath(), "--blocking-child"});
        QVERIFY(run.waitForFinished(60000));
        const QString output = QString::fromUtf8(run.readAllStandardOutput() + run.readAllStandardError());
        QVERIFY2(run.exitCode() != 0, qPrintable(output));
        // systemd-run --wait reports "Finished with result: watchdog" without --quiet; with it,
        // the non-zero status is the service's SIGABRT from the watchdog.
    }
};

// Child mode for realSystemdKillsBlockedShell: feed the watchdog from the event loop, tell
// systemd we are ready, then block the GUI thread for good.
static int blockingChild(int argc, char** argv) {
    QCoreApplication app(argc, argv);
    GuiWatchdog watchdog;
    watchdog.start();
    SystemdNotifier::ready();
    QTimer::singleShot(1500, [] {
        std::this_thread::sleep_for(60s);
        QCoreApplication::exit(0);
    });
    return app.exec();
}

int main(int argc, char** argv) {
    if (argc == 2 && qstrcmp(argv[1], "--blocking-child") == 0)
        return blockingChild(argc, argv);
    QCoreApplication app(argc, argv);
    TestShellWatchdog test;
    return QTest::qExec(&test, argc, argv);
}

#include "test_shell_watchdog.moc"
