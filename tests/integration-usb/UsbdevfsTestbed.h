#pragma once

// A umockdev testbed holding a root hub and UsbdevfsDevice instances plugged into its ports, for
// the tests and the bench that drive the real libusb path. The process must run under
// umockdev-wrapper, and the testbed must exist before the first libusb_init (libusb's udev
// monitor binds the faked netlink socket then). umockdev.h is kept out of this header: GLib's
// headers have struct members named `signals`, which Qt defines as a macro.
#include "UsbdevfsDevice.h"

#include <QString>
#include <map>
#include <memory>

namespace saffron::test {

class UsbdevfsTestbed {
public:
    UsbdevfsTestbed();
    ~UsbdevfsTestbed();
    UsbdevfsTestbed(const UsbdevfsTestbed&) = delete;
    UsbdevfsTestbed& operator=(const UsbdevfsTestbed&) = delete;

    bool valid() const { return testbed_ != nullptr; }
    // Whether plug() gives devices a FIFO node (UsbdevfsDevice::makePollable, the default) or
    // umockdev's plain file (libusb's event loop then spins while a device is open).
    void setPollableNodes(bool on) { pollable_ = on; }
    UMockdevTestbed* raw() const { return testbed_; }

    // Plugs `device` into root port `port` as device number `devnum` (unique per plug: the
    // kernel never reuses one at once) and announces it with an "add" uevent. Returns the sysfs
    // path, empty on failure. Port path (UsbDeviceInfo::id) is "1-<port>".
    QString plug(std::shared_ptr<UsbdevfsDevice> device, int port, int devnum, QString* error = nullptr);
    // Pulls the device out: it stops answering (URBs fail as on a real disconnect), then the
    // kernel's "remove" uevent, then its sysfs entry goes.
    void unplug(const QString& sysPath, int devnum);

private:
    bool add(const QByteArray& text);

    UMockdevTestbed* testbed_ = nullptr; // owned (g_object_unref)
    bool pollable_ = true;
    std::map<int, std::shared_ptr<UsbdevfsDevice>> devices_;
};

} // namespace saffron::test
