#include "UsbAutoRedirect.h"

#include "UsbMonitor.h"

namespace saffron {

UsbAutoRedirect::UsbAutoRedirect(UsbPolicy policy, UsbMonitor& monitor, QObject* parent)
    : QObject(parent), policy_(std::move(policy)), monitor_(monitor) {
    connect(&monitor_, &UsbMonitor::deviceAdded, this, &UsbAutoRedirect::onDeviceAdded);
}

void UsbAutoRedirect::onDeviceAdded(const UsbDeviceInfo& device) {
    if (!enabled_)
        return;
    const UsbPolicy::Decision decision = policy_.decide(device);
    if (decision.autoRedirect)
        Q_EMIT redirectRequested(device);
    else
        Q_EMIT redirectSkipped(device, decision.reason);
}

void UsbAutoRedirect::onSessionConnected() {
    for (const UsbDeviceInfo& device : monitor_.devices()) {
        const UsbPolicy::Decision decision = policy_.decide(device);
        if (decision.redirectOnConnect)
            Q_EMIT redirectRequested(device);
        else
            Q_EMIT redirectSkipped(device, decision.reason);
    }
}

} // namespace saffron
