// The real redirection path, end to end, without USB hardware: a device emulated at the usbdevfs
// level (UsbdevfsDevice: umockdev sysfs + ioctl emulation) is found by libusb through UsbMonitor,
// opened and claimed by usbredirhost inside UsbRedirector, and carried by our SPICE usbredir
// channel (a real saffron::Session) to QEMU 7.2's usb-redir behind qemu-xhci. Everything runs
// through the shell's UsbController, which owns the policy check, the monitor, auto-redirect and
// the channel endpoints. Checks:
//  - a redirected device is attached in QEMU with its vendor:product, its kernel driver detached;
//    release takes it out of QEMU and re-attaches the kernel driver (IOCTL CONNECT), so a released
//    stick works locally again;
//  - a device the policy denies is never claimed nor detached from its kernel driver, and never
//    reaches QEMU, even when redirect is asked for;
//  - auto-redirect on plug; unplug while attached detaches it cleanly from QEMU, the session
//    stays up and the next plug is redirected again;
//  - the transfer path QEMU alone cannot drive (it has no guest driver to poll the device): with
//    an in-process usbredir guest (GuestPeer), interrupt IN data travels device -> libusb ->
//    usbredirhost -> guest, and an unplug while interrupt URBs are pending releases the device
//    cleanly (URBs completed or discarded, "unplugged" reason, the guest told).
// Runs under umockdev-wrapper (see CMakeLists.txt).
#include "GuestPeer.h"
#include "QemuInstance.h"
#include "Session.h"
#include "TestUtil.h"
#include "UsbdevfsTestbed.h"
#include "app/UsbController.h"
#include "core/UsbContext.h"
#include "core/UsbMonitor.h"
#include "core/UsbPolicy.h"
#include "redir/UsbRedirector.h"

#include <QMutex>
#include <QSignalSpy>
#include <QTest>
#include <memory>

using namespace saffron;
using namespace saffron::test;

namespace {

// Product ids of the emulated devices, one per role (policy below).
constexpr uint16_t kManualPid = 0x5350; // may be redirected by hand
constexpr uint16_t kDeniedPid = 0x5351; // denied by policy
constexpr uint16_t kAutoPid = 0x5352;   // redirected automatically when plugged

const char kPolicy[] = "deny vendor=1209 product=5351\n"
                       "auto-plug vendor=1209 product=5352\n";

UsbdevfsDeviceModel model(uint16_t pid, const char* name) {
    UsbdevfsDeviceModel m;
    m.productId = pid;
    m.product = QString::fromLatin1(name);
    return m;
}

bool attached(QemuInstance& q) {
    const QJsonObject r = q.qmp().execute(
        QStringLiteral("qom-get"), {{QStringLiteral("path"), QStringLiteral("/machine/peripheral/redir1")},
                                    {QStringLiteral("property"), QStringLiteral("attached")}});
    return r.value(QStringLiteral("return")).toBool();
}

// What the in-process guest received (its parser callbacks are plain function pointers).
struct GuestLog {
    int interruptPackets = 0;
    QByteArray lastInterruptData;
    int interruptStatus = -1;
    int disconnects = 0;
};
GuestLog guestLog;

} // namespace

class TestUsbRealPath : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();
    void cleanupTestCase();
    void redirectThenReleaseReattachesKernelDriver();
    void deniedDeviceIsNeverClaimed();
    void autoRedirectThenUnplugWhileAttached();
    void interruptDataThenUnplugDuringTransfer();

private:
    std::unique_ptr<UsbdevfsTestbed> testbed_;
    std::unique_ptr<QemuInstance> qemu_;
    std::unique_ptr<UsbController> controller_;
    std::unique_ptr<Session> session_;
};

void TestUsbRealPath::initTestCase() {
    if (qEnvironmentVariableIsEmpty("UMOCKDEV_DIR") &&
        !qEnvironmentVariable("LD_PRELOAD").contains(QLatin1String("umockdev")))
        QSKIP("needs umockdev-wrapper (run through ctest)");
    testbed_ = std::make_unique<UsbdevfsTestbed>();
    QVERIFY(testbed_->valid());

    QemuOptions qo;
    // debug=3: usb-redir logs "attaching <speed> device VVVV:PPPP" on stderr.
    qo.extraArgs = {QStringLiteral("-device"),  QStringLiteral("qemu-xhci,id=xhci"),
                    QStringLiteral("-chardev"), QStringLiteral("spicevmc,name=usbredir,id=u1"),
                    QStringLiteral("-device"),  QStringLiteral("usb-redir,chardev=u1,id=redir1,debug=3")};
    qemu_ = std::make_unique<QemuInstance>(qo);
    QVERIFY2(qemu_->start(), qPrintable(qemu_->errorString()));

    QString error;
    const std::optional<UsbPolicy> policy = UsbPolicy::parse(QString::fromLatin1(kPolicy), &error);
    QVERIFY2(policy, qPrintable(error));
    controller_ = std::make_unique<UsbController>(*policy);
    QVERIFY2(controller_->available(), qPrintable(controller_->unavailableReason()));

    SessionOptions o;
    o.host = QemuInstance::host();
    o.port = qemu_->port();
    session_ = std::make_unique<Session>(o);
    controller_->setSession(session_.get());
    session_->start();
    QVERIFY(waitUntil([&] { return controller_->channels() == 1; }, 60000));
}

void TestUsbRealPath::cleanupTestCase() {
    if (controller_)
        controller_->setSession(nullptr);
    session_.reset();
    controller_.reset();
    qemu_.reset();
    testbed_.reset();
}

void TestUsbRealPath::redirectThenReleaseReattachesKernelDriver() {
    auto dev = std::make_shared<UsbdevfsDevice>(model(kManualPid, "Saffron Test Pad"));
    QString error;
    const QString sys = testbed_->plug(dev, 3, 5, &error);
    QVERIFY2(!sys.isEmpty(), qPrintable(error));
    const QString id = QStringLiteral("1-3");
    QVERIFY(waitUntil([&] { return controller_->stateOf(id) == QLatin1String("local"); }, 20000));
    QCOMPARE(dev->interfaceDriver(), QStringLiteral("usbhid"));
    QVERIFY(!attached(*qemu_));

    QVERIFY2(controller_->redirect(id), qPrintable(controller_->lastError()));
    QCOMPARE(controller_->stateOf(id), QStringLiteral("redirected"));
    // The device list names the SPICE channel that carries it.
    QString channel;
    for (int row = 0; row < controller_->rowCount(); ++row) {
        const QModelIndex index = controller_->index(row);
        if (controller_->data(index, UsbController::IdRole).toString() == id)
            channel = controller_->data(index, UsbController::ChannelRole).toString();
    }
    QVERIFY2(channel.startsWith(QLatin1String("usbredir:")), qPrintable(channel));
    // usbredirhost claimed the interface with libusb's auto-detach: the kernel driver let go.
    const UsbdevfsLog claimed = dev->log();
    qInfo() << "after redirect: opens" << claimed.opens << "claims" << claimed.claims << "kernel detaches"
            << claimed.kernelDetaches << "control transfers" << claimed.controlTransfers << "unknown ioctls"
            << claimed.unknownIoctls;
    QVERIFY(claimed.claims >= 1);
    QVERIFY(claimed.kernelDetaches >= 1);
    QCOMPARE(dev->interfaceDriver(), QStringLiteral("usbfs"));

    QVERIFY(waitUntil([&] { return attached(*qemu_); }, 30000));
    QVERIFY(waitUntil([&] { return qemu_->standardError().contains(QLatin1String("1209:5350")); }, 10000));
    QVERIFY2(qemu_->standardError().contains(QLatin1String("attaching full speed device 1209:5350")),
             qPrintable(qemu_->standardError()));

    controller_->release(id);
    QCOMPARE(controller_->stateOf(id), QStringLiteral("local"));
    QVERIFY(waitUntil([&] { return !attached(*qemu_); }, 30000));
    // usbredirhost_release: interfaces released, device reset, kernel driver re-attached.
    const UsbdevfsLog released = dev->log();
    qInfo() << "after release: releases" << released.releases << "resets" << released.resets << "reattaches"
            << released.kernelReattaches << "urbs submitted/reaped/discarded" << released.urbsSubmitted
            << released.urbsReaped << released.urbsDiscarded;
    QVERIFY(released.releases >= 1);
    QVERIFY(released.kernelReattaches >= 1);
    QCOMPARE(dev->interfaceDriver(), QStringLiteral("usbhid"));
    QCOMPARE(dev->pendingUrbs(), 0);
    QVERIFY(released.unknownIoctls.isEmpty());
    // Its channel is free for the next device.
    QCOMPARE(controller_->channels(), 1);

    testbed_->unplug(sys, 5);
    QVERIFY(waitUntil([&] { return controller_->stateOf(id).isEmpty(); }, 20000));
}

void TestUsbRealPath::deniedDeviceIsNeverClaimed() {
    auto dev = std::make_shared<UsbdevfsDevice>(model(kDeniedPid, "Saffron Denied Pad"));
    QString error;
    const QString sys = testbed_->plug(dev, 4, 6, &error);
    QVERIFY2(!sys.isEmpty(), qPrintable(error));
    const QString id = QStringLiteral("1-4");
    QVERIFY(waitUntil([&] { return !controller_->stateOf(id).isEmpty(); }, 20000));
    QCOMPARE(controller_->stateOf(id), QStringLiteral("denied"));
    // Asked anyway (a user, or a server asking for it): refused before the device is touched.
    QVERIFY(!controller_->redirect(id));
    QCOMPARE(controller_->stateOf(id), QStringLiteral("denied"));
    QTest::qWait(300); // a wrongly started redirect would have claimed it by now
    const UsbdevfsLog log = dev->log();
    qInfo() << "denied device: opens" << log.opens << "claims" << log.claims << "kernel detaches"
            << log.kernelDetaches;
    // Never opened at all: UsbMonitor names devices from the kernel's copy of their strings.
    QCOMPARE(log.opens, 0);
    QString shownName;
    for (int row = 0; row < controller_->rowCount(); ++row) {
        const QModelIndex index = controller_->index(row);
        if (controller_->data(index, UsbController::IdRole).toString() == id)
            shownName = controller_->data(index, UsbController::NameRole).toString();
    }
    QCOMPARE(shownName, QStringLiteral("Saffron Saffron Denied Pad"));
    QCOMPARE(log.claims, 0);
    QCOMPARE(log.kernelDetaches, 0);
    QCOMPARE(dev->interfaceDriver(), QStringLiteral("usbhid"));
    QVERIFY(!attached(*qemu_));
    QVERIFY(!qemu_->standardError().contains(QLatin1String("1209:5351")));
    testbed_->unplug(sys, 6);
    QVERIFY(waitUntil([&] { return controller_->stateOf(id).isEmpty(); }, 20000));
}

void TestUsbRealPath::autoRedirectThenUnplugWhileAttached() {
    auto dev = std::make_shared<UsbdevfsDevice>(model(kAutoPid, "Saffron Auto Pad"));
    QString error;
    const QString sys = testbed_->plug(dev, 5, 7, &error);
    QVERIFY2(!sys.isEmpty(), qPrintable(error));
    const QString id = QStringLiteral("1-5");
    QSignalSpy disconnected(session_.get(), &Session::disconnected);
    // Plugged while the session runs: the policy's auto-plug rule redirects it.
    QVERIFY(waitUntil([&] { return controller_->stateOf(id) == QLatin1String("redirected"); }, 20000));
    QVERIFY(waitUntil([&] { return attached(*qemu_); }, 30000));
    QVERIFY(waitUntil([&] { return qemu_->standardError().contains(QLatin1String("1209:5352")); }, 10000));

    // Pulled out while attached (an interrupt IN URB may be queued): QEMU loses it, the row
    // goes, the session and its channel stay.
    testbed_->unplug(sys, 7);
    QVERIFY(waitUntil([&] { return !attached(*qemu_); }, 30000));
    QVERIFY(waitUntil([&] { return controller_->stateOf(id).isEmpty(); }, 20000));
    QCOMPARE(dev->pendingUrbs(), 0);
    QCOMPARE(disconnected.size(), 0);
    QCOMPARE(controller_->channels(), 1);

    // Plugged in again (same port, next device number): redirected again over the same channel.
    auto again = std::make_shared<UsbdevfsDevice>(model(kAutoPid, "Saffron Auto Pad"));
    const QString sys2 = testbed_->plug(again, 5, 8, &error);
    QVERIFY2(!sys2.isEmpty(), qPrintable(error));
    QVERIFY(waitUntil([&] { return controller_->stateOf(id) == QLatin1String("redirected"); }, 20000));
    QVERIFY(waitUntil([&] { return attached(*qemu_); }, 30000));
    controller_->release(id);
    QVERIFY(waitUntil([&] { return !attached(*qemu_); }, 30000));
    QCOMPARE(again->interfaceDriver(), QStringLiteral("usbhid"));
    testbed_->unplug(sys2, 8);
    QVERIFY(waitUntil([&] { return controller_->stateOf(id).isEmpty(); }, 20000));
}

void TestUsbRealPath::interruptDataThenUnplugDuringTransfer() {
    UsbContext context;
    UsbMonitor monitor(context);
    monitor.start();
    auto dev = std::make_shared<UsbdevfsDevice>(model(kManualPid, "Saffron Test Pad"));
    QString error;
    const QString sys = testbed_->plug(dev, 6, 9, &error);
    QVERIFY2(!sys.isEmpty(), qPrintable(error));
    const QString id = QStringLiteral("1-6");
    QVERIFY(waitUntil([&] { return monitor.device(id).has_value(); }, 20000));
    UsbDevicePtr device = monitor.deviceRef(id);
    QVERIFY(device);

    guestLog = {};
    GuestPeer guest;
    guest.parser()->interrupt_packet_func = [](void* priv, uint64_t, usb_redir_interrupt_packet_header* h,
                                               uint8_t* data, int len) {
        guestLog.interruptPackets++;
        guestLog.interruptStatus = h->status;
        guestLog.lastInterruptData = QByteArray(reinterpret_cast<const char*>(data), len);
        usbredirparser_free_packet_data(static_cast<GuestPeer*>(priv)->parser(), data);
    };
    guest.parser()->device_disconnect_func = [](void*) { guestLog.disconnects++; };

    usb::UsbRedirector redirector(context.raw());
    // toGuest comes from this thread and from libusb's event thread (transfer completions).
    QMutex mutex;
    QByteArray toGuest;
    connect(
        &redirector, &usb::UsbRedirEndpoint::toGuest, this,
        [&](const QByteArray& d) {
            QMutexLocker lock(&mutex);
            toGuest += d;
        },
        Qt::DirectConnection);
    auto pump = [&] {
        QByteArray bytes;
        {
            QMutexLocker lock(&mutex);
            bytes = std::exchange(toGuest, QByteArray());
        }
        if (!bytes.isEmpty())
            guest.feed(bytes);
        const QByteArray back = guest.take();
        if (!back.isEmpty())
            redirector.feedFromGuest(back);
    };
    QVERIFY2(redirector.start(&error), qPrintable(error));
    pump();
    pump();
    QVERIFY2(redirector.attach(device.get(), &error), qPrintable(error));
    pump();

    // The guest's driver starts polling the interrupt IN endpoint: usbredirhost queues URBs.
    usb_redir_start_interrupt_receiving_header start{};
    start.endpoint = 0x81;
    usbredirparser_send_start_interrupt_receiving(guest.parser(), 1, &start);
    guest.flush();
    pump();
    QVERIFY(waitUntil(
        [&] {
            pump();
            return dev->pendingUrbs() > 0;
        },
        10000));
    qInfo() << "interrupt URBs pending on the device:" << dev->pendingUrbs();

    // A report from the device reaches the guest.
    const QByteArray report = QByteArray::fromHex("0102030405060708");
    QVERIFY(dev->sendInterruptReport(report));
    QVERIFY(waitUntil(
        [&] {
            pump();
            return guestLog.interruptPackets > 0;
        },
        10000));
    QCOMPARE(guestLog.interruptStatus, int(usb_redir_success));
    QCOMPARE(guestLog.lastInterruptData, report);

    // Released with interrupt URBs queued: they are discarded (DISCARDURB) and reaped, the
    // kernel driver comes back.
    QVERIFY(dev->pendingUrbs() > 0);
    redirector.releaseDevice();
    pump();
    QCOMPARE(dev->pendingUrbs(), 0);
    QVERIFY(dev->log().urbsDiscarded > 0);
    QCOMPARE(dev->interfaceDriver(), QStringLiteral("usbhid"));
    QCOMPARE(guestLog.disconnects, 1);

    // Redirected again, polled again, then pulled out with interrupt URBs still queued.
    QVERIFY2(redirector.attach(device.get(), &error), qPrintable(error));
    pump();
    usbredirparser_send_start_interrupt_receiving(guest.parser(), 2, &start);
    guest.flush();
    QVERIFY(waitUntil(
        [&] {
            pump();
            return dev->pendingUrbs() > 0;
        },
        10000));
    QSignalSpy released(&redirector, &usb::UsbRedirEndpoint::deviceReleased);
    connect(&monitor, &UsbMonitor::deviceRemoved, &redirector, [&](const QString& gone) {
        if (gone == id)
            redirector.deviceUnplugged();
    });
    testbed_->unplug(sys, 9);
    QVERIFY(waitUntil(
        [&] {
            pump();
            return !released.isEmpty();
        },
        20000));
    QVERIFY2(released.first().first().toString().contains(QLatin1String("unplugged")),
             qPrintable(released.first().first().toString()));
    QVERIFY(!redirector.hasDevice());
    QCOMPARE(dev->pendingUrbs(), 0);
    QVERIFY(waitUntil(
        [&] {
            pump();
            return guestLog.disconnects > 1;
        },
        10000));
    const UsbdevfsLog log = dev->log();
    qInfo() << "unplug during transfer: urbs submitted" << log.urbsSubmitted << "reaped" << log.urbsReaped
            << "discarded" << log.urbsDiscarded;
    QVERIFY(log.unknownIoctls.isEmpty());
}

QTEST_GUILESS_MAIN(TestUsbRealPath)
#include "test_usb_real_path.moc"
