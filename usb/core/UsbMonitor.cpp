#include "UsbMonitor.h"

#include <QMetaObject>
#include <algorithm>

namespace saffron {

namespace {

struct DeviceListDeleter {
    void operator()(libusb_device** list) const { libusb_free_device_list(list, 1); }
};

} // namespace

UsbMonitor::UsbMonitor(UsbContext& context, QObject* parent)
    : QObject(parent), context_(context), ids_(std::make_unique<UsbIds>()) {
    qRegisterMetaType<saffron::UsbDeviceInfo>();
}

UsbMonitor::~UsbMonitor() {
    // After this returns the listener never runs again; events it already posted are discarded
    // with this QObject (their device references are released while the context still exists).
    if (listenerToken_ != 0)
        context_.removeHotplugListener(listenerToken_);
}

void UsbMonitor::setUsbIdsPath(const QString& path) {
    ids_ = std::make_unique<UsbIds>(path);
}

void UsbMonitor::start() {
    if (started_)
        return;
    started_ = true;
    // Listen before enumerating, so that no plug between the two is missed; a device seen both
    // ways is recognised by its libusb_device and added once.
    if (context_.hasHotplug()) {
        listenerToken_ = context_.addHotplugListener([this](libusb_device* raw, bool arrived) {
            // Event thread: no blocking work here, only a reference and a queued call. The
            // shared_ptr makes the functor copyable and drops the reference if the call is
            // discarded.
            std::shared_ptr<libusb_device> device(libusb_ref_device(raw), UsbDeviceUnref{});
            QMetaObject::invokeMethod(
                this,
                [this, device, arrived] {
                    if (arrived)
                        onArrived(usbDeviceRef(device.get()));
                    else
                        onLeft(device.get());
                },
                Qt::QueuedConnection);
        });
    }

    libusb_device** rawList = nullptr;
    const ssize_t count = libusb_get_device_list(context_.raw(), &rawList);
    if (count < 0)
        return;
    std::unique_ptr<libusb_device*, DeviceListDeleter> list(rawList);
    for (ssize_t i = 0; i < count; ++i) {
        UsbDeviceInfo ignored;
        add(usbDeviceRef(list.get()[i]), ignored);
    }
}

bool UsbMonitor::add(UsbDevicePtr device, UsbDeviceInfo& added) {
    const auto known =
        std::find_if(entries_.begin(), entries_.end(), [&](const Entry& e) { return e.device == device; });
    if (known != entries_.end())
        return false;
    UsbDeviceInfo info;
    if (!readUsbDeviceInfo(device.get(), ids_.get(), stringMode_, info))
        return false;
    if (info.deviceClass == usbclass::kHub)
        return false;
    added = info;
    entries_.push_back(Entry{std::move(device), std::move(info)});
    return true;
}

void UsbMonitor::onArrived(UsbDevicePtr device) {
    UsbDeviceInfo added;
    if (add(std::move(device), added))
        Q_EMIT deviceAdded(added);
}

void UsbMonitor::onLeft(libusb_device* device) {
    const auto it = std::find_if(entries_.begin(), entries_.end(),
                                 [&](const Entry& e) { return e.device.get() == device; });
    if (it == entries_.end())
        return;
    const QString id = it->info.id;
    entries_.erase(it);
    Q_EMIT deviceRemoved(id);
}

QList<UsbDeviceInfo> UsbMonitor::devices() const {
    QList<UsbDeviceInfo> out;
    out.reserve(qsizetype(entries_.size()));
    for (const auto& entry : entries_)
        out.append(entry.info);
    return out;
}

std::optional<UsbDeviceInfo> UsbMonitor::device(const QString& id) const {
    for (const auto& entry : entries_) {
        if (entry.info.id == id)
            return entry.info;
    }
    return std::nullopt;
}

UsbDevicePtr UsbMonitor::deviceRef(const QString& id) const {
    for (const auto& entry : entries_) {
        if (entry.info.id == id)
            return usbDeviceRef(entry.device.get());
    }
    return nullptr;
}

} // namespace saffron
