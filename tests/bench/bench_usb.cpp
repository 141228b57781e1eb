// USB redirection bench (issue 6), printed in one run:
//  1. plug -> attached in QEMU through our client: a device emulated at the usbdevfs level
//     (UsbdevfsDevice, umockdev) is plugged (sysfs entry + "add" uevent) while a session runs
//     with an auto-redirect-on-plug policy; the shell's UsbController (UsbMonitor, UsbPolicy,
//     UsbAutoRedirect, UsbRedirector = usbredirhost + libusb) redirects it over a SPICE usbredir
//     channel; the time ends when QEMU's usb-redir reports the device attached (QOM "attached").
//  2. baseline: the same kind of device (EmulatedHidDevice, a full-speed HID device speaking
//     usbredir itself) fed straight into a QEMU usb-redir on a TCP chardev, no client between:
//     from sending the device to QEMU reporting it attached.
//  3. the client's CPU while the redirected device stays attached and idle (default 60 s), from
//     /proc/self/task/*/stat, by thread group, with wakeups (context switches) per second. The
//     device node is a FIFO the emulation keeps full while no URB is ready (UsbdevfsDevice.h), so
//     libusb's poll() sleeps as on a real usbfs fd; the umockdev worker (it answers the emulated
//     ioctls) is test code and is shown apart. A last phase puts the device on umockdev's own
//     node, a plain file that is always POLLOUT: libusb's event thread then reaps in a loop. That
//     is a test artefact, printed so it is not mistaken for product CPU.
// Both attach paths are timed with the same QMP polling loop. Goals: attach < 500 ms and within
// 1.5x the baseline; idle CPU < 0.5 %. The bench prints and never asserts a time.
// Exit 77 (skip) without umockdev-wrapper or QEMU.
#include "EmulatedHidDevice.h"
#include "QemuInstance.h"
#include "Session.h"
#include "TestUtil.h"
#include "UsbdevfsTestbed.h"
#include "app/UsbController.h"
#include "core/UsbPolicy.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QDir>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QFile>
#include <QJsonObject>
#include <QStandardPaths>
#include <QTcpSocket>
#include <QTimer>
#include <algorithm>
#include <cstdio>
#include <map>
#include <memory>
#include <set>
#include <unistd.h>

using namespace saffron;
using namespace saffron::test;

namespace {

constexpr int kSkip = 77;
// QEMU's usb-redir holds a new attach back until about 200 ms after the last detach (so the guest
// sees both): wait longer than that between plugs, or every plug but the first measures it.
constexpr int kSettleMs = 400;

void out(const QString& line) {
    std::printf("%s\n", qPrintable(line));
    std::fflush(stdout);
}

// Clock ticks of CPU (user + system) per thread of this process, by thread id.
struct ThreadCpu {
    QString name;
    long long ticks = 0;
    long long switches = 0; // context switches: roughly, how often the thread woke up
};
std::map<int, ThreadCpu> threadCpu() {
    std::map<int, ThreadCpu> r;
    const QStringList tids =
        QDir(QStringLiteral("/proc/self/task")).entryList(QDir::Dirs | QDir::NoDotAndDotDot);
    for (const QString& tid : tids) {
        QFile f(QStringLiteral("/proc/self/task/%1/stat").arg(tid));
        if (!f.open(QIODevice::ReadOnly))
            continue;
        const QByteArray s = f.readAll();
        // proc(5): "pid (comm) state ..." - comm may hold spaces; fields after ')' are fixed.
        const qsizetype open = s.indexOf('('), close = s.lastIndexOf(')');
        if (open < 0 || close < open)
            continue;
        const QList<QByteArray> f2 = s.mid(close + 2).split(' ');
        if (f2.size() < 13)
            continue;
        ThreadCpu t;
        t.name = QString::fromUtf8(s.mid(open + 1, close - open - 1));
        t.ticks = f2[11].toLongLong() + f2[12].toLongLong(); // utime, stime (fields 14, 15)
        QFile st(QStringLiteral("/proc/self/task/%1/status").arg(tid));
        if (st.open(QIODevice::ReadOnly)) {
            for (const QByteArray& line : st.readAll().split('\n'))
                if (line.contains("ctxt_switches:"))
                    t.switches += line.mid(line.indexOf(':') + 1).trimmed().toLongLong();
        }
        r[tid.toInt()] = t;
    }
    return r;
}

std::set<int> threadIds() {
    std::set<int> ids;
    for (const auto& [tid, t] : threadCpu())
        ids.insert(tid);
    return ids;
}

bool attached(QemuInstance& q) {
    const QJsonObject r = q.qmp().execute(
        QStringLiteral("qom-get"), {{QStringLiteral("path"), QStringLiteral("/machine/peripheral/redir1")},
                                    {QStringLiteral("property"), QStringLiteral("attached")}});
    return r.value(QStringLiteral("return")).toBool();
}

// Polls QOM "attached" as fast as QMP answers, letting this thread's events run in between;
// returns the elapsed milliseconds of `timer` when it equals `want`, or -1.
double pollAttached(QemuInstance& q, bool want, const QElapsedTimer& timer, int timeoutMs = 20000) {
    while (timer.elapsed() < timeoutMs) {
        QCoreApplication::processEvents(QEventLoop::AllEvents);
        if (attached(q) == want)
            return double(timer.nsecsElapsed()) / 1e6;
    }
    return -1;
}

double median(std::vector<double> v) {
    if (v.empty())
        return -1;
    std::sort(v.begin(), v.end());
    return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

QString list(const std::vector<double>& v) {
    QStringList s;
    for (double x : v)
        s << QString::number(x, 'f', 1);
    return s.join(QLatin1String(" "));
}

void spin(int ms) {
    QEventLoop loop;
    QTimer::singleShot(ms, &loop, &QEventLoop::quit);
    loop.exec();
}

// Baseline: EmulatedHidDevice on a TCP socket straight into QEMU's usb-redir.
std::vector<double> baseline(int reps, QString* error) {
    const quint16 port = freeTcpPort();
    QemuOptions qo;
    qo.extraArgs = {QStringLiteral("-device"),
                    QStringLiteral("qemu-xhci,id=xhci"),
                    QStringLiteral("-chardev"),
                    QStringLiteral("socket,id=d1,host=127.0.0.1,port=%1,server=on,wait=off").arg(port),
                    QStringLiteral("-device"),
                    QStringLiteral("usb-redir,chardev=d1,id=redir1")};
    QemuInstance q(qo);
    if (!q.start()) {
        *error = q.errorString();
        return {};
    }
    std::vector<double> times;
    for (int i = 0; i < reps; ++i) {
        // A fresh connection per device, as QEMU's usb-redir expects one hello per stream.
        QTcpSocket socket;
        EmulatedHidDevice ep;
        QObject::connect(&ep, &usb::UsbRedirEndpoint::toGuest, &socket, [&socket](const QByteArray& d) {
            socket.write(d);
            socket.flush();
        });
        QObject::connect(&socket, &QTcpSocket::readyRead, &ep, [&] { ep.feedFromGuest(socket.readAll()); });
        socket.connectToHost(QemuInstance::host(), port);
        if (!socket.waitForConnected(10000)) {
            *error = QStringLiteral("baseline: cannot connect to QEMU's usbredir chardev");
            return {};
        }
        // No Nagle: the device's first packets are small writes in a row, and on loopback
        // Nagle plus QEMU's delayed ACK would hold the second one back ~40 ms (our SPICE
        // channels set TCP_NODELAY too).
        socket.setSocketOption(QAbstractSocket::LowDelayOption, 1); // needs a connected socket
        QString why;
        ep.start(&why);
        if (!waitUntil([&] { return ep.helloReceived(); }, 10000)) {
            *error = QStringLiteral("baseline: no usbredir hello from QEMU");
            return {};
        }
        EmulatedHidIdentity id;
        id.productId = 0x5352;
        QElapsedTimer t;
        t.start();
        ep.attachDevice(id);
        const double ms = pollAttached(q, true, t);
        if (ms < 0) {
            *error = QStringLiteral("baseline: QEMU never attached the device");
            return {};
        }
        times.push_back(ms);
        ep.releaseDevice();
        QElapsedTimer t2;
        t2.start();
        pollAttached(q, false, t2);
        socket.disconnectFromHost();
        spin(kSettleMs);
    }
    return times;
}

} // namespace

int main(int argc, char** argv) {
    QCoreApplication app(argc, argv);
    QCommandLineParser p;
    p.addHelpOption();
    QCommandLineOption repsOpt(QStringLiteral("reps"), QStringLiteral("plugs per path (default 5)"),
                               QStringLiteral("n"), QStringLiteral("5"));
    QCommandLineOption idleOpt(QStringLiteral("idle"),
                               QStringLiteral("idle seconds with the device attached (60)"),
                               QStringLiteral("s"), QStringLiteral("60"));
    QCommandLineOption busyOpt(QStringLiteral("busy"),
                               QStringLiteral("seconds with the emulation's reap throttle off (5; 0 skips)"),
                               QStringLiteral("s"), QStringLiteral("5"));
    p.addOptions({repsOpt, idleOpt, busyOpt});
    p.process(app);
    const int reps = std::max(1, p.value(repsOpt).toInt());
    const int idleS = std::max(1, p.value(idleOpt).toInt());
    const int busyS = std::max(0, p.value(busyOpt).toInt());

    if (!qEnvironmentVariable("LD_PRELOAD").contains(QLatin1String("umockdev"))) {
        out(QStringLiteral("SKIP: run under umockdev-wrapper (ctest does)"));
        return kSkip;
    }
    if (QStandardPaths::findExecutable(QemuInstance::qemuBinary()).isEmpty() &&
        !QFile::exists(QemuInstance::qemuBinary())) {
        out(QStringLiteral("SKIP: %1 not found").arg(QemuInstance::qemuBinary()));
        return kSkip;
    }
    const long hz = sysconf(_SC_CLK_TCK);

    const std::set<int> before = threadIds();
    // The testbed exists before libusb_init (UsbController), as umockdev needs.
    UsbdevfsTestbed testbed;
    if (!testbed.valid()) {
        out(QStringLiteral("FAIL: no umockdev testbed"));
        return 1;
    }
    std::set<int> umockdevThreads;
    for (int tid : threadIds())
        if (!before.count(tid))
            umockdevThreads.insert(tid);

    QString error;
    out(QStringLiteral("== baseline: emulated usbredir device -> QEMU usb-redir (TCP chardev), %1 attaches")
            .arg(reps));
    const std::vector<double> base = baseline(reps, &error);
    if (base.empty()) {
        out(QStringLiteral("FAIL: %1").arg(error));
        return 1;
    }
    out(QStringLiteral("baseline attach ms: %1  (median %2)").arg(list(base)).arg(median(base), 0, 'f', 1));

    QemuOptions qo;
    qo.extraArgs = {QStringLiteral("-device"),  QStringLiteral("qemu-xhci,id=xhci"),
                    QStringLiteral("-chardev"), QStringLiteral("spicevmc,name=usbredir,id=u1"),
                    QStringLiteral("-device"),  QStringLiteral("usb-redir,chardev=u1,id=redir1")};
    QemuInstance q(qo);
    if (!q.start()) {
        out(QStringLiteral("FAIL: QEMU: %1").arg(q.errorString()));
        return 1;
    }
    const std::set<int> beforeUsb = threadIds();
    const std::optional<UsbPolicy> policy =
        UsbPolicy::parse(QStringLiteral("auto-plug vendor=1209 product=5352\n"), &error);
    UsbController controller(*policy);
    if (!controller.available()) {
        out(QStringLiteral("FAIL: USB unavailable: %1").arg(controller.unavailableReason()));
        return 1;
    }
    std::set<int> usbThreads;
    for (int tid : threadIds())
        if (!beforeUsb.count(tid))
            usbThreads.insert(tid);
    SessionOptions so;
    so.host = QemuInstance::host();
    so.port = q.port();
    auto session = std::make_unique<Session>(so);
    controller.setSession(session.get());
    session->start();
    if (!waitUntil([&] { return controller.channels() == 1; }, 60000)) {
        out(QStringLiteral("FAIL: no usbredir channel"));
        return 1;
    }
    spin(500);

    out(QStringLiteral(
            "== client: umockdev plug -> UsbController auto-redirect -> SPICE usbredir -> QEMU, %1 plugs")
            .arg(reps));
    std::vector<double> client, listed, redirected;
    const QString id = QStringLiteral("1-3");
    // Where the time goes: the row appears once UsbMonitor has read the device (hotplug event,
    // descriptors, strings), turns "redirected" once UsbRedirector has opened, claimed and reset
    // it and usbredirhost has sent it; the rest is SPICE, spice-server and QEMU.
    QElapsedTimer plugTimer;
    double listedMs = -1, redirectedMs = -1;
    QObject::connect(&controller, &QAbstractItemModel::rowsInserted, [&] {
        if (listedMs < 0 && !controller.stateOf(id).isEmpty())
            listedMs = double(plugTimer.nsecsElapsed()) / 1e6;
    });
    QObject::connect(&controller, &QAbstractItemModel::dataChanged, [&] {
        if (redirectedMs < 0 && controller.stateOf(id) == QLatin1String("redirected"))
            redirectedMs = double(plugTimer.nsecsElapsed()) / 1e6;
    });
    int devnum = 10;
    for (int i = 0; i < reps; ++i, ++devnum) {
        UsbdevfsDeviceModel m;
        m.productId = 0x5352;
        auto dev = std::make_shared<UsbdevfsDevice>(m);
        listedMs = redirectedMs = -1;
        plugTimer.start();
        const QString sys = testbed.plug(dev, 3, devnum, &error);
        if (sys.isEmpty()) {
            out(QStringLiteral("FAIL: plug: %1").arg(error));
            return 1;
        }
        const double ms = pollAttached(q, true, plugTimer);
        if (ms < 0) {
            out(QStringLiteral("FAIL: the plugged device never reached QEMU (state %1: %2)")
                    .arg(controller.stateOf(id), controller.lastError()));
            return 1;
        }
        client.push_back(ms);
        listed.push_back(listedMs);
        redirected.push_back(redirectedMs);
        testbed.unplug(sys, devnum);
        QElapsedTimer t2;
        t2.start();
        pollAttached(q, false, t2);
        waitUntil([&] { return controller.stateOf(id).isEmpty(); }, 10000);
        spin(kSettleMs);
    }
    const double mc = median(client), mb = median(base);
    out(QStringLiteral("client attach ms: %1  (median %2)").arg(list(client)).arg(mc, 0, 'f', 1));
    out(QStringLiteral("  of which: plug -> listed by UsbMonitor (hotplug, descriptors, strings) %1 ms; "
                       "-> redirected (open, claim, reset, usbredir sent) %2 ms; -> attached in QEMU %3 ms "
                       "(medians of %4)")
            .arg(median(listed), 0, 'f', 1)
            .arg(median(redirected) - median(listed), 0, 'f', 1)
            .arg(mc - median(redirected), 0, 'f', 1)
            .arg(list(listed) + QLatin1String(" / ") + list(redirected)));

    // Idle: one device stays attached.
    UsbdevfsDeviceModel m;
    m.productId = 0x5352;
    auto dev = std::make_shared<UsbdevfsDevice>(m);
    const QString sys = testbed.plug(dev, 3, devnum, &error);
    QElapsedTimer t;
    t.start();
    if (sys.isEmpty() || pollAttached(q, true, t) < 0) {
        out(QStringLiteral("FAIL: idle device not attached"));
        return 1;
    }
    spin(1000);
    auto classify = [&](int tid, const QString& name) -> QString {
        if (umockdevThreads.count(tid))
            return QStringLiteral("umockdev worker (test emulation)");
        if (usbThreads.count(tid))
            return QStringLiteral("libusb event + hotplug threads");
        if (tid == int(getpid()))
            return QStringLiteral("main thread (UsbController, monitor)");
        return QStringLiteral("other: %1").arg(name);
    };
    struct Group {
        double cpu = 0;     // % of one core
        double wakeups = 0; // context switches per second
    };
    auto measure = [&](int seconds, std::map<QString, Group>* byGroup) {
        const auto a = threadCpu();
        QElapsedTimer w;
        w.start();
        spin(seconds * 1000);
        const double wall = double(w.nsecsElapsed()) / 1e9;
        const auto b = threadCpu();
        double total = 0;
        for (const auto& [tid, tb] : b) {
            const auto it = a.find(tid);
            const long long d = tb.ticks - (it == a.end() ? 0 : it->second.ticks);
            const long long sw = tb.switches - (it == a.end() ? 0 : it->second.switches);
            const double pct = 100.0 * double(d) / double(hz) / wall;
            Group& g = (*byGroup)[classify(tid, tb.name)];
            g.cpu += pct;
            g.wakeups += double(sw) / wall;
            total += pct;
        }
        return total;
    };
    auto print = [&](const std::map<QString, Group>& groups) {
        for (const auto& [name, g] : groups)
            out(QStringLiteral("  %1: %2 %  %3 wakeups/s")
                    .arg(name, -44)
                    .arg(g.cpu, 5, 'f', 2)
                    .arg(g.wakeups, 7, 'f', 1));
    };
    const QString umockdevGroup = QStringLiteral("umockdev worker (test emulation)");
    out(QStringLiteral(
            "== idle: device attached, %1 s (FIFO device node: libusb's poll() sleeps as on usbfs)")
            .arg(idleS));
    std::map<QString, Group> groups;
    const double total = measure(idleS, &groups);
    print(groups);
    const double product = total - groups[umockdevGroup].cpu;
    out(QStringLiteral("  process total: %1 %   without the umockdev worker: %2 %")
            .arg(total, 0, 'f', 2)
            .arg(product, 0, 'f', 2));
    out(QStringLiteral("  emulated reaps that found nothing: %1; URBs pending on the device: %2")
            .arg(dev->log().idleReaps)
            .arg(dev->pendingUrbs()));

    if (busyS > 0) {
        // The artefact bare: the same device on umockdev's own node (a plain file, always
        // POLLOUT), first with the emulation's 1 ms answer delay on empty reaps, then without.
        controller.release(id);
        testbed.unplug(sys, devnum);
        waitUntil([&] { return controller.stateOf(id).isEmpty(); }, 10000);
        spin(kSettleMs);
        testbed.setPollableNodes(false);
        auto plain = std::make_shared<UsbdevfsDevice>(m);
        ++devnum;
        const QString sys2 = testbed.plug(plain, 3, devnum, &error);
        QElapsedTimer t3;
        t3.start();
        if (sys2.isEmpty() || pollAttached(q, true, t3) < 0) {
            out(QStringLiteral("FAIL: artefact device not attached"));
            return 1;
        }
        spin(500);
        for (int delay : {1, 0}) {
            plain->setIdleReapDelayMs(delay);
            std::map<QString, Group> g;
            const double busy = measure(busyS, &g);
            out(QStringLiteral(
                    "== artefact: umockdev's plain-file node, empty reaps answered after %1 ms, %2 s")
                    .arg(delay)
                    .arg(busyS));
            print(g);
            out(QStringLiteral("  process total: %1 %").arg(busy, 0, 'f', 2));
        }
        plain->setIdleReapDelayMs(1);
        controller.release(id);
        testbed.unplug(sys2, devnum);
        waitUntil([&] { return controller.stateOf(id).isEmpty(); }, 10000);
    } else {
        controller.release(id);
        testbed.unplug(sys, devnum);
    }
    controller.setSession(nullptr);
    session.reset();

    out(QStringLiteral("== summary"));
    out(QStringLiteral("attach, plug -> in QEMU: client median %1 ms, baseline median %2 ms, ratio %3 "
                       "(goals: < 500 ms, ratio <= 1.5)")
            .arg(mc, 0, 'f', 1)
            .arg(mb, 0, 'f', 1)
            .arg(mb > 0 ? mc / mb : 0, 0, 'f', 2));
    out(QStringLiteral(
            "idle CPU with the device attached, %1 s: %2 % of one core without the umockdev worker "
            "(process total %3 %; goal < 0.5 %)")
            .arg(idleS)
            .arg(product, 0, 'f', 2)
            .arg(total, 0, 'f', 2));
    return 0;
}
