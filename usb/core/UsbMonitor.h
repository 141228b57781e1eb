#pragma once

#include "UsbContext.h"
#include "UsbDeviceInfo.h"
#include "UsbIds.h"

#include <QList>
#include <QObject>
#include <memory>
#include <optional>
#include <vector>

namespace saffron {

// The USB devices plugged into this machine, kept current by libusb hotplug events.
//
// start() enumerates what is present (no signals for those: read devices()), then every plug and
// unplug becomes deviceAdded/deviceRemoved. libusb calls hotplug callbacks on the context's event
// thread; the monitor only takes a device reference there and posts the rest (descriptor reading,
// strings, signals) to the thread the monitor lives on. Hubs are topology, not redirectable, and
// are left out.
class UsbMonitor : public QObject {
    Q_OBJECT
public:
    explicit UsbMonitor(UsbContext& context, QObject* parent = nullptr);
    ~UsbMonitor() override;

    // Before start(): where usb.ids lives (tests), and whether devices are opened to read their
    // strings (default yes; names then fall back to usb.ids).
    void setUsbIdsPath(const QString& path);
    void setStringMode(UsbStringMode mode) { stringMode_ = mode; }

    void start();
    bool isStarted() const { return started_; }

    QList<UsbDeviceInfo> devices() const;
    std::optional<UsbDeviceInfo> device(const QString& id) const;
    // A new reference to the libusb device behind `id` (for redirection), or null.
    UsbDevicePtr deviceRef(const QString& id) const;

Q_SIGNALS:
    void deviceAdded(const saffron::UsbDeviceInfo& device);
    void deviceRemoved(const QString& id);

private:
    struct Entry {
        UsbDevicePtr device;
        UsbDeviceInfo info;
    };
    void onArrived(UsbDevicePtr device);
    void onLeft(libusb_device* device);
    bool add(UsbDevicePtr device, UsbDeviceInfo& added);

    UsbContext& context_;
    std::unique_ptr<UsbIds> ids_;
    UsbStringMode stringMode_ = UsbStringMode::KernelCache;
    int listenerToken_ = 0;
    bool started_ = false;
    std::vector<Entry> entries_;
};

} // namespace saffron
