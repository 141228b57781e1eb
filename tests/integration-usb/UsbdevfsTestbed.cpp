#include "UsbdevfsTestbed.h"

#include <QDebug>
#include <umockdev.h>

namespace saffron::test {

namespace {

// One device in umockdev-record's format: sysfs path, node, udev properties, attributes.
QByteArray record(const QString& sysPath, int devnum, const char* speed, const QByteArray& descriptors,
                  const char* product, const UsbdevfsDeviceModel* m = nullptr) {
    const QString node = QStringLiteral("bus/usb/001/%1").arg(devnum, 3, 10, QLatin1Char('0'));
    QString r;
    r += QStringLiteral("P: %1\nN: %2\nE: DEVNAME=/dev/%2\n").arg(sysPath, node);
    r += QStringLiteral("E: DEVTYPE=usb_device\nE: DRIVER=usb\nE: SUBSYSTEM=usb\n");
    r += QStringLiteral("E: PRODUCT=%1\nE: BUSNUM=001\n").arg(QLatin1String(product));
    r += QStringLiteral("E: DEVNUM=%1\n").arg(devnum, 3, 10, QLatin1Char('0'));
    r += QStringLiteral("E: MAJOR=189\nE: MINOR=%1\n").arg(devnum - 1);
    // Text attributes end in a newline as in real sysfs; the format writes it escaped ("\\n").
    r += QStringLiteral("A: busnum=1\\n\nA: devnum=%1\\n\nA: speed=%2\\n\n")
             .arg(devnum)
             .arg(QLatin1String(speed));
    // The kernel reads the string descriptors at enumeration and keeps them here; UsbMonitor
    // names devices from these without opening them.
    if (m)
        r += QStringLiteral("A: manufacturer=%1\\n\nA: product=%2\\n\n").arg(m->manufacturer, m->product);
    r += QStringLiteral("A: bConfigurationValue=1\\n\nH: descriptors=%1\n\n")
             .arg(QString::fromLatin1(descriptors.toHex()));
    return r.toUtf8();
}

} // namespace

UsbdevfsTestbed::UsbdevfsTestbed() : testbed_(umockdev_testbed_new()) {
    // Linux Foundation 2.0 root hub (1d6b:0002) under an xHCI controller: libusb walks up to it
    // for port paths; UsbMonitor lists no hubs.
    const char rootHub[] = "12010002090001406b1d020006060302010109021900010100e00009040000010900000007"
                           "05810304000c";
    if (testbed_)
        add(record(QStringLiteral("/devices/pci0000:00/0000:00:14.0/usb1"), 1, "480",
                   QByteArray::fromHex(rootHub), "1d6b/2/606"));
}

UsbdevfsTestbed::~UsbdevfsTestbed() {
    devices_.clear(); // handlers first, while the testbed can still detach them
    if (testbed_)
        g_object_unref(testbed_);
}

QString UsbdevfsTestbed::plug(std::shared_ptr<UsbdevfsDevice> device, int port, int devnum, QString* error) {
    const QString sysPath = QStringLiteral("/devices/pci0000:00/0000:00:14.0/usb1/1-%1").arg(port);
    const QString node = QStringLiteral("/dev/bus/usb/001/%1").arg(devnum, 3, 10, QLatin1Char('0'));
    QString why;
    if (!device->attachTo(testbed_, node, &why)) {
        if (error)
            *error = why;
        return {};
    }
    const UsbdevfsDeviceModel& m = device->model();
    const QByteArray product =
        QStringLiteral("%1/%2/100").arg(m.vendorId, 0, 16).arg(m.productId, 0, 16).toLatin1();
    if (!add(record(sysPath, devnum, "12", device->sysfsDescriptors(), product.constData(), &m))) {
        if (error)
            *error = QStringLiteral("umockdev_testbed_add_from_string failed");
        return {};
    }
    // The node as the preload library maps it: $UMOCKDEV_DIR/dev/bus/usb/...
    gchar* root = umockdev_testbed_get_root_dir(testbed_);
    const QString nodePath = QString::fromLocal8Bit(root) + node;
    g_free(root);
    if (pollable_ && !device->makePollable(nodePath, error))
        return {};
    devices_[devnum] = std::move(device);
    const QString full = QStringLiteral("/sys") + sysPath;
    umockdev_testbed_uevent(testbed_, full.toUtf8().constData(), "add");
    return full;
}

void UsbdevfsTestbed::unplug(const QString& sysPath, int devnum) {
    if (auto it = devices_.find(devnum); it != devices_.end())
        it->second->unplug();
    umockdev_testbed_uevent(testbed_, sysPath.toUtf8().constData(), "remove");
    umockdev_testbed_remove_device(testbed_, sysPath.toUtf8().constData());
}

bool UsbdevfsTestbed::add(const QByteArray& text) {
    GError* error = nullptr;
    const bool ok = umockdev_testbed_add_from_string(testbed_, text.constData(), &error);
    if (!ok) {
        qWarning("umockdev_testbed_add_from_string: %s", error ? error->message : "?");
        g_clear_error(&error);
    }
    return ok;
}

} // namespace saffron::test
