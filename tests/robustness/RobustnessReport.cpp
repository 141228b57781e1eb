#include "RobustnessReport.h"

#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QMutex>
#include <QVariantMap>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <thread>
#include <unistd.h>

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SAFFRON_HAVE_LSAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define SAFFRON_HAVE_LSAN 1
#endif
#ifdef SAFFRON_HAVE_LSAN
#include <sanitizer/lsan_interface.h>
#endif

namespace saffron::test {

namespace {

struct State {
    QMutex mutex;
    QString suite;
    QString dir;
    int cases = 0;
    int failed = 0;
    QVariantMap figures;
};

State& state() {
    static State s;
    return s;
}

// The watchdog: a plain thread, so it fires even when the Qt event loop of the thread under
// test is stuck.
struct Watchdog {
    std::mutex m;
    std::condition_variable cv;
    bool done = false;
    std::thread thread;
};

Watchdog& watchdog() {
    static Watchdog w;
    return w;
}

QString pathFor(const QString& ext) {
    State& s = state();
    return s.dir.isEmpty() ? QString() : QDir(s.dir).filePath(s.suite + ext);
}

void writeFile(const QString& path, const QByteArray& data) {
    if (path.isEmpty())
        return;
    QFile f(path);
    if (f.open(QIODevice::WriteOnly | QIODevice::Truncate))
        f.write(data);
}

} // namespace

qint64 residentKiB() {
    QFile f(QStringLiteral("/proc/self/statm"));
    if (!f.open(QIODevice::ReadOnly))
        return -1;
    const QList<QByteArray> fields = f.readAll().simplified().split(' ');
    if (fields.size() < 2)
        return -1;
    return fields[1].toLongLong() * (sysconf(_SC_PAGESIZE) / 1024);
}

int openFileDescriptors() {
    // QDir opens the directory itself while listing: that one descriptor is not ours to count.
    return int(QDir(QStringLiteral("/proc/self/fd"))
                   .entryList(QDir::NoDotAndDotDot | QDir::AllEntries | QDir::System)
                   .size()) -
           1;
}

QStringList openFileDescriptorTargets() {
    QStringList out;
    const QDir d(QStringLiteral("/proc/self/fd"));
    for (const QString& n : d.entryList(QDir::NoDotAndDotDot | QDir::AllEntries | QDir::System))
        out << n + QStringLiteral(" -> ") + QFile::symLinkTarget(d.filePath(n));
    return out;
}

int envInt(const char* name, int fallback) {
    bool ok = false;
    const int v = qEnvironmentVariableIntValue(name, &ok);
    return ok ? v : fallback;
}

void RobustnessReport::begin(const QString& suite) {
    State& s = state();
    // ctest names the run (SAFFRON_ROBUSTNESS_SUITE); by hand the test class does.
    s.suite = qEnvironmentVariable("SAFFRON_ROBUSTNESS_SUITE", suite);
    s.dir = qEnvironmentVariable("SAFFRON_ROBUSTNESS_RESULTS");
    if (!s.dir.isEmpty()) {
        QDir().mkpath(s.dir);
        QFile::remove(pathFor(QStringLiteral(".json")));
        QFile::remove(pathFor(QStringLiteral(".hang")));
        writeFile(pathFor(QStringLiteral(".started")),
                  QByteArray::number(QDateTime::currentSecsSinceEpoch()));
    }
    const int hangSeconds = envInt("SAFFRON_HANG_SECONDS", 0);
    if (hangSeconds > 0) {
        const QByteArray hangPath = QFile::encodeName(pathFor(QStringLiteral(".hang")));
        watchdog().thread = std::thread([hangSeconds, hangPath] {
            Watchdog& w = watchdog();
            std::unique_lock lock(w.m);
            if (w.cv.wait_for(lock, std::chrono::seconds(hangSeconds), [&] { return w.done; }))
                return;
            std::fprintf(stderr, "robustness: no end after %d s, recording a hang\n", hangSeconds);
            if (!hangPath.isEmpty())
                if (FILE* f = std::fopen(hangPath.constData(), "w"))
                    std::fclose(f);
            std::abort();
        });
    }
}

void RobustnessReport::caseDone(bool failed) {
    QMutexLocker lock(&state().mutex);
    state().cases++;
    if (failed)
        state().failed++;
}

void RobustnessReport::setFigure(const QString& key, const QVariant& value) {
    QMutexLocker lock(&state().mutex);
    state().figures.insert(key, value);
}

void RobustnessReport::maxFigure(const QString& key, qint64 value) {
    QMutexLocker lock(&state().mutex);
    QVariantMap& f = state().figures;
    if (!f.contains(key) || f.value(key).toLongLong() < value)
        f.insert(key, value);
}

int RobustnessReport::finish(int qtestRc) {
    Watchdog& w = watchdog();
    if (w.thread.joinable()) {
        {
            std::lock_guard lock(w.m);
            w.done = true;
        }
        w.cv.notify_all();
        w.thread.join();
    }
    int leaks = -1; // -1: not checked (no LeakSanitizer in this build)
#ifdef SAFFRON_HAVE_LSAN
    // Unreachable heap blocks now, with the suppressions of LSAN_OPTIONS applied; the normal
    // check at exit still runs too.
    leaks = __lsan_do_recoverable_leak_check() ? 1 : 0;
#endif
    State& s = state();
    QJsonObject o;
    {
        QMutexLocker lock(&s.mutex);
        o.insert(QStringLiteral("suite"), s.suite);
        o.insert(QStringLiteral("exit"), qtestRc);
        o.insert(QStringLiteral("cases"), s.cases);
        o.insert(QStringLiteral("failed"), s.failed);
        o.insert(QStringLiteral("leaks"), leaks);
        o.insert(QStringLiteral("figures"), QJsonObject::fromVariantMap(s.figures));
    }
    writeFile(pathFor(QStringLiteral(".json")), QJsonDocument(o).toJson());
    std::printf("robustness: %s: %d cases, %d failed, leak check %s\n", qPrintable(s.suite), s.cases,
                s.failed, leaks < 0 ? "not available" : (leaks ? "FOUND LEAKS" : "clean"));
    return qtestRc != 0 ? qtestRc : (leaks > 0 ? 1 : 0);
}

} // namespace saffron::test
