// USB redirection against QEMU 7.2: emulated HID devices (libusbredirparser, usb-host role) carried
// by our SPICE usbredir channels to `-device usb-redir` behind a qemu-xhci controller. Checks with
// HMP `info usb` that a redirected device appears with the speed it announced and disappears on
// release, that two channels carry two devices, that a third device gets the "no free channel"
// error, and that a server-side disconnect takes the devices away cleanly.
#include "QemuInstance.h"
#include "TestUtil.h"
#include "UsbRedirHarness.h"

#include <QDir>
#include <QFile>
#include <QJsonDocument>
#include <QRegularExpression>
#include <QSignalSpy>
#include <QTest>

using namespace saffron;
using namespace saffron::test;

namespace {

QStringList usbArgs(int channels) {
    QStringList args{QStringLiteral("-device"), QStringLiteral("qemu-xhci,id=xhci")};
    for (int i = 1; i <= channels; ++i) {
        // debug=3 (info) makes usb-redir log "attaching <speed> device VVVV:PPPP" on stderr.
        args << QStringLiteral("-chardev") << QStringLiteral("spicevmc,name=usbredir,id=u%1").arg(i)
             << QStringLiteral("-device")
             << QStringLiteral("usb-redir,chardev=u%1,id=redir%1,debug=3").arg(i);
    }
    return args;
}

// The lines of HMP `info usb` that describe attached devices.
QStringList usbDevices(QemuInstance& q) {
    const QString out = q.qmp().humanMonitorCommand(QStringLiteral("info usb"));
    QStringList lines;
    for (const QString& l : out.split(QLatin1Char('\n'), Qt::SkipEmptyParts))
        if (l.contains(QLatin1String("Device")))
            lines << l.trimmed();
    return lines;
}

// QEMU 7.2's `info usb` lists a usb-redir port whether or not a device is attached to it (a
// detached one shows its reset speed, "1.5 Mb/s"), so whether a device is in the guest is read
// from the USB device's QOM property "attached".
int attachedCount(QemuInstance& q, int channels) {
    int n = 0;
    for (int i = 1; i <= channels; ++i) {
        const QJsonObject r =
            q.qmp().execute(QStringLiteral("qom-get"),
                            {{QStringLiteral("path"), QStringLiteral("/machine/peripheral/redir%1").arg(i)},
                             {QStringLiteral("property"), QStringLiteral("attached")}});
        n += r.value(QStringLiteral("return")).toBool();
    }
    return n;
}

// Waits until exactly `n` of the `channels` usb-redir devices are attached; `last` gets the
// `info usb` lines then.
bool waitForAttached(QemuInstance& q, int channels, int n, QStringList* last = nullptr,
                     int timeoutMs = 30000) {
    const bool ok = waitUntil([&] { return attachedCount(q, channels) == n; }, timeoutMs);
    if (last)
        *last = usbDevices(q);
    return ok;
}

SessionOptions optionsFor(const QemuInstance& q) {
    SessionOptions o;
    o.host = QemuInstance::host();
    o.port = q.port();
    return o;
}

// Writes what QEMU sent on each channel as fuzz seeds when SAFFRON_USB_CAPTURE_DIR is set.
void captureSeeds(const QList<EmulatedHidDevice*>& endpoints, const QString& tag) {
    const QString dir = qEnvironmentVariable("SAFFRON_USB_CAPTURE_DIR");
    if (dir.isEmpty())
        return;
    QDir().mkpath(dir);
    int i = 0;
    for (EmulatedHidDevice* ep : endpoints) {
        QFile f(QDir(dir).filePath(QStringLiteral("qemu-%1-%2.bin").arg(tag).arg(i++)));
        if (f.open(QIODevice::WriteOnly))
            f.write(ep->guestBytes());
    }
}

} // namespace

class TestUsbRedirQemu : public QObject {
    Q_OBJECT
private slots:
    void redirectAndRelease();
    void twoChannelsThenNoFreeChannel();
    void serverDisconnectDetaches();
};

void TestUsbRedirQemu::redirectAndRelease() {
    QemuOptions qo;
    qo.extraArgs = usbArgs(1);
    QemuInstance q(qo);
    QVERIFY2(q.start(), qPrintable(q.errorString()));
    QCOMPARE(attachedCount(q, 1), 0);
    qInfo().noquote() << "info usb before redirect:" << usbDevices(q);

    UsbRedirHarness harness(optionsFor(q));
    Session& session = harness.session();
    QVERIFY(waitUntil([&] { return harness.endpoints().size() == 1; }, 30000));
    EmulatedHidDevice* ep = harness.endpoints().first();
    // The channel linked and QEMU's usb-redir greeted our endpoint through it.
    QVERIFY(waitUntil([&] { return ep->helloReceived(); }, 30000));
    const QList<QPointer<UsbRedirChannel>> channels = session.usbRedirChannels();
    QCOMPARE(channels.size(), 1);
    QVERIFY(channels.first() && channels.first()->isOpen());

    QString error;
    usb::UsbRedirEndpoint* claimed = harness.pool().claim(&error);
    QVERIFY2(claimed == ep, qPrintable(error));
    EmulatedHidIdentity id;
    id.speed = 1; // full speed: "12 Mb/s"
    ep->attachDevice(id);

    QStringList devices;
    QVERIFY2(waitForAttached(q, 1, 1, &devices), qPrintable(devices.join(QLatin1Char('|'))));
    qInfo().noquote() << "info usb after redirect:" << devices;
    QVERIFY2(devices.first().contains(QLatin1String("Speed 12 Mb/s")), qPrintable(devices.first()));
    QVERIFY2(devices.first().contains(QLatin1String("ID: redir1")), qPrintable(devices.first()));
    // usb-redir names no product in `info usb` (its product_desc is fixed); the identity we sent
    // is in its attach log line.
    QVERIFY(waitUntil([&] { return q.standardError().contains(QLatin1String("1209:5346")); }, 10000));
    const QString attachLine = q.standardError().section(QLatin1Char('\n'), -3).trimmed();
    qInfo().noquote() << "qemu stderr:" << attachLine;
    QVERIFY(q.standardError().contains(QLatin1String("attaching full speed device 1209:5346")));
    // The data path both ways: any request the guest firmware sent was answered by the device.
    qInfo() << "control requests answered by the emulated device:" << ep->controlRequests().size();
    QCOMPARE(ep->parseErrors(), 0);
    // Everything the device wrote has left: the backlog usbredirhost reads to decide on dropping
    // isochronous data counts back down to nothing (no bytes counted twice or lost).
    const auto backlog = channels.first()->backlog();
    QVERIFY(waitUntil([&] { return backlog->bytes() == 0; }, 10000));

    QSignalSpy released(ep, &usb::UsbRedirEndpoint::deviceReleased);
    ep->releaseDevice();
    ep->unclaim();
    QCOMPARE(released.size(), 1);
    QVERIFY2(waitForAttached(q, 1, 0, &devices), qPrintable(devices.join(QLatin1Char('|'))));
    qInfo().noquote() << "info usb after release:" << devices;
    QVERIFY2(devices.first().contains(QLatin1String("Speed 1.5 Mb/s")), qPrintable(devices.first()));

    // The same channel carries the next device: QEMU keeps its parser, we keep our endpoint.
    QVERIFY(harness.pool().claim(&error) == ep);
    EmulatedHidIdentity high = id;
    high.speed = 2; // high speed
    high.productId = 0x5347;
    ep->attachDevice(high);
    QVERIFY2(waitForAttached(q, 1, 1, &devices), qPrintable(devices.join(QLatin1Char('|'))));
    qInfo().noquote() << "info usb, second device on the same channel:" << devices;
    QVERIFY2(devices.first().contains(QLatin1String("Speed 480 Mb/s")), qPrintable(devices.first()));
    ep->releaseDevice();
    QVERIFY(waitForAttached(q, 1, 0, &devices));
    captureSeeds(harness.endpoints(), QStringLiteral("single"));
}

void TestUsbRedirQemu::twoChannelsThenNoFreeChannel() {
    QemuOptions qo;
    qo.extraArgs = usbArgs(2);
    QemuInstance q(qo);
    QVERIFY2(q.start(), qPrintable(q.errorString()));

    UsbRedirHarness harness(optionsFor(q));
    QVERIFY(waitUntil([&] { return harness.endpoints().size() == 2; }, 30000));
    for (EmulatedHidDevice* ep : harness.endpoints())
        QVERIFY(waitUntil([&] { return ep->helloReceived(); }, 30000));

    QString error;
    auto* first = qobject_cast<EmulatedHidDevice*>(harness.pool().claim(&error));
    auto* second = qobject_cast<EmulatedHidDevice*>(harness.pool().claim(&error));
    QVERIFY(first && second && first != second);
    EmulatedHidIdentity a;
    EmulatedHidIdentity b;
    b.productId = 0x5348;
    b.speed = 0; // low speed: "1.5 Mb/s"
    first->attachDevice(a);
    second->attachDevice(b);

    QStringList devices;
    QVERIFY2(waitForAttached(q, 2, 2, &devices), qPrintable(devices.join(QLatin1Char('|'))));
    qInfo().noquote() << "info usb with two devices:" << devices;
    QVERIFY(devices.join(QLatin1Char('|')).contains(QLatin1String("Speed 12 Mb/s")));
    QVERIFY(devices.join(QLatin1Char('|')).contains(QLatin1String("Speed 1.5 Mb/s")));

    // A third device: both channels are taken.
    QVERIFY(harness.pool().claim(&error) == nullptr);
    qInfo().noquote() << "third device:" << error;
    QCOMPARE(error, QStringLiteral("the server offers 2 USB redirection channels, all in use"));

    // Releasing one frees its channel for the next device.
    first->releaseDevice();
    first->unclaim();
    QVERIFY2(waitForAttached(q, 2, 1, &devices), qPrintable(devices.join(QLatin1Char('|'))));
    qInfo().noquote() << "info usb after releasing one:" << devices;
    QVERIFY(harness.pool().claim(&error) == first);
    second->releaseDevice();
    QVERIFY(waitForAttached(q, 2, 0, &devices));
    captureSeeds(harness.endpoints(), QStringLiteral("two"));
}

void TestUsbRedirQemu::serverDisconnectDetaches() {
    QemuOptions qo;
    qo.extraArgs = usbArgs(1);
    QemuInstance q(qo);
    QVERIFY2(q.start(), qPrintable(q.errorString()));

    UsbRedirHarness harness(optionsFor(q));
    QVERIFY(waitUntil([&] { return harness.endpoints().size() == 1; }, 30000));
    EmulatedHidDevice* ep = harness.endpoints().first();
    QVERIFY(waitUntil([&] { return ep->helloReceived(); }, 30000));
    QString error;
    QVERIFY(harness.pool().claim(&error) == ep);
    ep->attachDevice({});
    QStringList devices;
    QVERIFY(waitForAttached(q, 1, 1, &devices));

    // The server goes away with the device attached: every channel closes, our side releases
    // the device (for a real one: kernel drivers back) and frees the endpoint.
    QSignalSpy released(ep, &usb::UsbRedirEndpoint::deviceReleased);
    q.stop();
    QVERIFY(waitUntil([&] { return !released.isEmpty(); }, 30000));
    QVERIFY(!ep->hasDevice());
    QCOMPARE(harness.pool().size(), 0);
    harness.endSession();
}

QTEST_GUILESS_MAIN(TestUsbRedirQemu)
#include "test_usbredir_qemu.moc"
