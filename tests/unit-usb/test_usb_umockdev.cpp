// The real libusb code paths of usb/core against umockdev devices: enumeration (vendor, product,
// classes, port path through a hub, speed, usb.ids names), hotplug add/remove at run time through
// udev uevents, and auto-redirect on plug. umockdev fakes sysfs, /dev/bus/usb and the udev
// netlink socket that libusb's udev backend listens on; the test must run under
// umockdev-wrapper (see CMakeLists.txt).
//
// The descriptors are the bytes the real devices report (USB 2.0 9.6): little-endian 16-bit
// fields, configuration descriptor followed by its interface, HID and endpoint descriptors.
#include "UsbTestDevices.h"
#include "core/UsbAutoRedirect.h"
#include "core/UsbContext.h"
#include "core/UsbMonitor.h"
#include "core/UsbPolicy.h"

#include <QFileInfo>
#include <QSignalSpy>
#include <QTest>
#include <memory>
#include <umockdev.h>

using namespace saffron;

namespace {

struct GObjectUnref {
    void operator()(gpointer object) const { g_object_unref(object); }
};
using Testbed = std::unique_ptr<UMockdevTestbed, GObjectUnref>;

const char kController[] = "/devices/pci0000:00/0000:00:14.0";

// Linux Foundation 2.0 root hub (1d6b:0002): hub class, one interrupt endpoint.
const char kRootHubDescriptors[] = "12010002090001406b1d020006060302010109021900010100e0000904000001"
                                   "090000000705810304000c";
// Genesys Logic USB 2.0 hub (05e3:0608).
const char kHubDescriptors[] = "1201000209000140e30508066088000100010902190001010"
                               "0e032090400000109000000070581030100"
                               "0c";
// SanDisk Cruzer Blade (0781:5567), bcdDevice 1.00: device class 0, one mass-storage interface
// (class 8, SCSI subclass 6, bulk-only protocol 0x50) with a bulk IN and a bulk OUT endpoint.
const char kStickDescriptors[] = "120100020000004081076755000101020301"
                                 "09022000010100803209040000020806500007058102000200070502020002"
                                 "00";
// Logitech Keyboard K120 (046d:c31c), bcdDevice 64.10: device class 0, interface 0 HID boot
// keyboard (3/1/1) and interface 1 HID without boot protocol (3/0/0), each with its HID
// descriptor and an interrupt IN endpoint.
const char kKeyboardDescriptors[] = "1201100100000008"
                                    "6d041cc31064010200010902"
                                    "3b00020100a02d09040000010301010009211001000122410007058103080"
                                    "00a0904010001030000000921100100012297000705820304000a";

// One device as umockdev-record writes it: sysfs path, device node, udev properties, attributes.
QByteArray deviceRecord(const QString& sysPath, int bus, int devnum, const char* speed,
                        const char* descriptors, const char* product) {
    const QString node = QStringLiteral("bus/usb/%1/%2")
                             .arg(bus, 3, 10, QLatin1Char('0'))
                             .arg(devnum, 3, 10, QLatin1Char('0'));
    QString r;
    r += QStringLiteral("P: %1\n").arg(sysPath);
    r += QStringLiteral("N: %1\n").arg(node);
    r += QStringLiteral("E: DEVNAME=/dev/%1\n").arg(node);
    r += QStringLiteral("E: DEVTYPE=usb_device\nE: DRIVER=usb\nE: SUBSYSTEM=usb\n");
    r += QStringLiteral("E: PRODUCT=%1\n").arg(QLatin1String(product));
    r += QStringLiteral("E: BUSNUM=%1\n").arg(bus, 3, 10, QLatin1Char('0'));
    r += QStringLiteral("E: DEVNUM=%1\n").arg(devnum, 3, 10, QLatin1Char('0'));
    r += QStringLiteral("E: MAJOR=189\nE: MINOR=%1\n").arg((bus - 1) * 128 + devnum - 1);
    r += QStringLiteral("A: busnum=%1\nA: devnum=%2\n").arg(bus).arg(devnum);
    r += QStringLiteral("A: speed=%1\nA: bConfigurationValue=1\n").arg(QLatin1String(speed));
    r += QStringLiteral("H: descriptors=%1\n\n").arg(QLatin1String(descriptors));
    return r.toUtf8();
}

QString rootHubPath() {
    return QLatin1String(kController) + QStringLiteral("/usb1");
}
QString hubPath() {
    return rootHubPath() + QStringLiteral("/1-1");
}
QString stickPath() {
    return hubPath() + QStringLiteral("/1-1.2");
}
QString keyboardPath() {
    return rootHubPath() + QStringLiteral("/1-2");
}

} // namespace

class TestUsbUmockdev : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();
    void contextStartsAndStops();
    void enumeratesDevicesWithClassesAndPortPath();
    void readingStringsFallsBackToUsbIds();
    void kernelStringsByDefault();
    void hotplugAddAndRemove();
    void autoRedirectOnPlug();
    void autoRedirectOnConnect();

private:
    bool add(const QByteArray& record);
    QString plug(const QString& sysPath, int devnum, const char* speed, const char* descriptors,
                 const char* product);
    void unplug(const QString& sysPath);

    Testbed testbed_;
};

bool TestUsbUmockdev::add(const QByteArray& record) {
    GError* error = nullptr;
    const bool ok = umockdev_testbed_add_from_string(testbed_.get(), record.constData(), &error);
    if (!ok) {
        qWarning("umockdev_testbed_add_from_string: %s", error ? error->message : "?");
        g_clear_error(&error);
    }
    return ok;
}

QString TestUsbUmockdev::plug(const QString& sysPath, int devnum, const char* speed, const char* descriptors,
                              const char* product) {
    if (!add(deviceRecord(sysPath, 1, devnum, speed, descriptors, product)))
        return {};
    // What the kernel does on plug: the device appears in sysfs, then udev announces it.
    const QString full = QStringLiteral("/sys") + sysPath;
    umockdev_testbed_uevent(testbed_.get(), full.toUtf8().constData(), "add");
    return full;
}

void TestUsbUmockdev::unplug(const QString& sysPath) {
    // The "remove" uevent is read from the still existing sysfs entry, then the entry goes.
    umockdev_testbed_uevent(testbed_.get(), sysPath.toUtf8().constData(), "remove");
    umockdev_testbed_remove_device(testbed_.get(), sysPath.toUtf8().constData());
}

void TestUsbUmockdev::initTestCase() {
    // The testbed must exist before the first libusb_init: libusb's udev monitor connects to the
    // (faked) netlink socket then.
    testbed_.reset(umockdev_testbed_new());
    QVERIFY(testbed_);
    // Parents first: the root hub, a hub in its port 1, the stick in port 2 of that hub, the
    // keyboard in port 2 of the root hub.
    QVERIFY(add(deviceRecord(rootHubPath(), 1, 1, "480", kRootHubDescriptors, "1d6b/2/606")));
    QVERIFY(add(deviceRecord(hubPath(), 1, 2, "480", kHubDescriptors, "5e3/608/8860")));
    QVERIFY(add(deviceRecord(stickPath(), 1, 3, "480", kStickDescriptors, "781/5567/100")));
    QVERIFY(add(deviceRecord(keyboardPath(), 1, 4, "1.5", kKeyboardDescriptors, "46d/c31c/6410")));
    // umockdev_in_mock_environment() is not reliable across versions; what matters is that /sys
    // is redirected into the testbed, which only the preload library does.
    if (!QFileInfo::exists(QStringLiteral("/sys") + stickPath()))
        QSKIP("not running under umockdev-wrapper (LD_PRELOAD=libumockdev-preload.so)");
}

void TestUsbUmockdev::cleanupTestCase() {
    testbed_.reset();
}

void TestUsbUmockdev::contextStartsAndStops() {
    // The event thread starts and is stopped by the completion flag + interrupt, repeatedly.
    for (int i = 0; i < 3; ++i) {
        UsbContext context;
        QVERIFY(context.raw());
        QVERIFY(context.hasHotplug());
    }
}

void TestUsbUmockdev::enumeratesDevicesWithClassesAndPortPath() {
    UsbContext context;
    UsbMonitor monitor(context);
    monitor.setStringMode(UsbStringMode::DatabaseOnly);
    QSignalSpy added(&monitor, &UsbMonitor::deviceAdded);
    monitor.start();
    QVERIFY(added.isEmpty()); // present devices are listed, not announced

    const auto devices = monitor.devices();
    QCOMPARE(devices.size(), 2); // the two hubs are left out

    const auto stick = monitor.device(QStringLiteral("1-1.2"));
    QVERIFY(stick);
    QCOMPARE(stick->bus, 1);
    QCOMPARE(stick->address, 3);
    QCOMPARE(stick->portPath, QStringLiteral("1-1.2"));
    QCOMPARE(stick->vendorId, quint16(0x0781));
    QCOMPARE(stick->productId, quint16(0x5567));
    QCOMPARE(stick->bcdDevice, quint16(0x0100));
    QCOMPARE(stick->deviceClass, quint8(0));
    QCOMPARE(stick->interfaces, (QList<UsbInterfaceClass>{{0, 0x08, 0x06, 0x50}}));
    QCOMPARE(stick->speed, UsbSpeed::High);
    QVERIFY(stick->hasClass(usbclass::kMassStorage));
    QVERIFY(!stick->isHidInputDevice());

    const auto keyboard = monitor.device(QStringLiteral("1-2"));
    QVERIFY(keyboard);
    QCOMPARE(keyboard->vendorId, quint16(0x046d));
    QCOMPARE(keyboard->productId, quint16(0xc31c));
    QCOMPARE(keyboard->deviceClass, quint8(0));
    QCOMPARE(keyboard->interfaces, (QList<UsbInterfaceClass>{{0, 0x03, 0x01, 0x01}, {1, 0x03, 0x00, 0x00}}));
    QCOMPARE(keyboard->speed, UsbSpeed::Low);
    QVERIFY(keyboard->isHidInputDevice());

    // The same model the unit tests use for policy decisions.
    auto expectedStick = saffron::test::usbStick();
    expectedStick.manufacturer = stick->manufacturer;
    expectedStick.product = stick->product;
    expectedStick.displayName = stick->displayName;
    QCOMPARE(*stick, expectedStick);

    // A reference for redirection, and nothing for an unknown id.
    QVERIFY(monitor.deviceRef(QStringLiteral("1-1.2")));
    QVERIFY(!monitor.deviceRef(QStringLiteral("9-9")));
}

void TestUsbUmockdev::readingStringsFallsBackToUsbIds() {
    if (!UsbIds().available())
        QSKIP("no /usr/share/misc/usb.ids");
    // The fake devices answer no control transfers: the string read fails (quickly) and usb.ids
    // names the device.
    UsbContext context;
    UsbMonitor monitor(context);
    monitor.setStringMode(UsbStringMode::ReadFromDevice);
    monitor.start();
    const auto stick = monitor.device(QStringLiteral("1-1.2"));
    QVERIFY(stick);
    QCOMPARE(stick->manufacturer, QStringLiteral("SanDisk Corp."));
    QCOMPARE(stick->product, QStringLiteral("Cruzer Blade"));
    QCOMPARE(stick->displayName, QStringLiteral("SanDisk Corp. Cruzer Blade"));
    const auto keyboard = monitor.device(QStringLiteral("1-2"));
    QVERIFY(keyboard);
    QCOMPARE(keyboard->displayName, QStringLiteral("Logitech, Inc. Keyboard K120"));

    // Without a database: "USB device vvvv:pppp".
    UsbMonitor bare(context);
    bare.setStringMode(UsbStringMode::DatabaseOnly);
    bare.setUsbIdsPath(QStringLiteral("/nonexistent/usb.ids"));
    bare.start();
    QCOMPARE(bare.device(QStringLiteral("1-1.2"))->displayName, QStringLiteral("USB device 0781:5567"));
}

void TestUsbUmockdev::kernelStringsByDefault() {
    // The default: the strings the kernel cached in sysfs, so listing devices never opens one.
    umockdev_testbed_set_attribute(testbed_.get(), ("/sys" + stickPath()).toUtf8().constData(),
                                   "manufacturer", " SanDisk\x01 ");
    umockdev_testbed_set_attribute(testbed_.get(), ("/sys" + stickPath()).toUtf8().constData(), "product",
                                   "Cruzer Blade (from sysfs)\n");
    UsbContext context;
    UsbMonitor monitor(context);
    monitor.start();
    const auto stick = monitor.device(QStringLiteral("1-1.2"));
    QVERIFY(stick);
    QCOMPARE(stick->manufacturer, QStringLiteral("SanDisk")); // control characters dropped
    QCOMPARE(stick->product, QStringLiteral("Cruzer Blade (from sysfs)"));
    // No attributes: usb.ids (when installed) names it, as with the other modes.
    const auto keyboard = monitor.device(QStringLiteral("1-2"));
    QVERIFY(keyboard);
    if (UsbIds().available())
        QCOMPARE(keyboard->displayName, QStringLiteral("Logitech, Inc. Keyboard K120"));
}

void TestUsbUmockdev::hotplugAddAndRemove() {
    UsbContext context;
    UsbMonitor monitor(context);
    monitor.setStringMode(UsbStringMode::DatabaseOnly);
    monitor.start();
    QCOMPARE(monitor.devices().size(), 2);
    QSignalSpy added(&monitor, &UsbMonitor::deviceAdded);
    QSignalSpy removed(&monitor, &UsbMonitor::deviceRemoved);

    // A second stick into port 3 of the root hub.
    const QString path =
        plug(rootHubPath() + QStringLiteral("/1-3"), 5, "480", kStickDescriptors, "781/5567/100");
    QVERIFY(!path.isEmpty());
    QVERIFY(added.wait(10000));
    QCOMPARE(added.size(), 1);
    const auto info = added.at(0).at(0).value<UsbDeviceInfo>();
    QCOMPARE(info.id, QStringLiteral("1-3"));
    QCOMPARE(info.address, 5);
    QCOMPARE(info.vendorId, quint16(0x0781));
    QCOMPARE(info.productId, quint16(0x5567));
    QVERIFY(info.hasClass(usbclass::kMassStorage));
    QCOMPARE(monitor.devices().size(), 3);
    QVERIFY(monitor.device(QStringLiteral("1-3")));

    unplug(path);
    QVERIFY(removed.wait(10000));
    QCOMPARE(removed.size(), 1);
    QCOMPARE(removed.at(0).at(0).toString(), QStringLiteral("1-3"));
    QCOMPARE(monitor.devices().size(), 2);
    QVERIFY(!monitor.device(QStringLiteral("1-3")));
    QCOMPARE(added.size(), 1);
}

void TestUsbUmockdev::autoRedirectOnPlug() {
    UsbContext context;
    UsbMonitor monitor(context);
    monitor.setStringMode(UsbStringMode::DatabaseOnly);
    monitor.start();
    QString error;
    const auto policy = UsbPolicy::parse(QStringLiteral("auto all\n"), &error);
    QVERIFY2(policy, qPrintable(error));
    UsbAutoRedirect autoRedirect(*policy, monitor);
    QSignalSpy requested(&autoRedirect, &UsbAutoRedirect::redirectRequested);
    QSignalSpy skipped(&autoRedirect, &UsbAutoRedirect::redirectSkipped);

    // A keyboard plugged into port 4: the policy says "auto all", the HID default keeps it local.
    const QString keyboard =
        plug(rootHubPath() + QStringLiteral("/1-4"), 6, "1.5", kKeyboardDescriptors, "46d/c31c/6410");
    QVERIFY(skipped.wait(10000));
    QCOMPARE(skipped.at(0).at(0).value<UsbDeviceInfo>().id, QStringLiteral("1-4"));
    QVERIFY(skipped.at(0).at(1).toString().contains(QStringLiteral("HID keyboard or mouse")));

    // A stick plugged into port 3: requested.
    const QString stick =
        plug(rootHubPath() + QStringLiteral("/1-3"), 7, "480", kStickDescriptors, "781/5567/100");
    QVERIFY(requested.wait(10000));
    QCOMPARE(requested.size(), 1);
    const auto info = requested.at(0).at(0).value<UsbDeviceInfo>();
    QCOMPARE(info.id, QStringLiteral("1-3"));
    QCOMPARE(info.vendorId, quint16(0x0781));

    // Nothing was requested for the keyboard, before or after.
    QSignalSpy removed(&monitor, &UsbMonitor::deviceRemoved);
    unplug(stick);
    unplug(keyboard);
    QTRY_COMPARE_WITH_TIMEOUT(removed.size(), 2, 10000);
    QCOMPARE(requested.size(), 1);
    QCOMPARE(skipped.size(), 1);

    // Disabled (no session): plugs are ignored.
    autoRedirect.setEnabled(false);
    QSignalSpy added(&monitor, &UsbMonitor::deviceAdded);
    const QString again =
        plug(rootHubPath() + QStringLiteral("/1-3"), 8, "480", kStickDescriptors, "781/5567/100");
    QVERIFY(added.wait(10000));
    QCOMPARE(requested.size(), 1);
    unplug(again);
    QTRY_COMPARE_WITH_TIMEOUT(removed.size(), 3, 10000);
}

void TestUsbUmockdev::autoRedirectOnConnect() {
    UsbContext context;
    UsbMonitor monitor(context);
    monitor.setStringMode(UsbStringMode::DatabaseOnly);
    monitor.start();
    const auto policy = UsbPolicy::parse(QStringLiteral("auto-connect all\n"));
    QVERIFY(policy);
    UsbAutoRedirect autoRedirect(*policy, monitor);
    QSignalSpy requested(&autoRedirect, &UsbAutoRedirect::redirectRequested);
    autoRedirect.onSessionConnected();
    // The stick present at start, not the keyboard.
    QCOMPARE(requested.size(), 1);
    QCOMPARE(requested.at(0).at(0).value<UsbDeviceInfo>().id, QStringLiteral("1-1.2"));
}

QTEST_GUILESS_MAIN(TestUsbUmockdev)
#include "test_usb_umockdev.moc"
