#pragma once

#include "redir/UsbRedirEndpoint.h"

#include <QList>
#include <QPointer>
#include <QString>
#include <mutex>
#include <vector>

namespace saffron::usb {

// The usbredir endpoints of one session, one per pipe the server offers (SPICE: one per usbredir
// channel, i.e. per `-device usb-redir` in QEMU). Hands out a free one per device and says
// clearly when there is none. Thread-safe; does not own the endpoints.
class UsbRedirPool {
public:
    void add(UsbRedirEndpoint* endpoint);
    void remove(UsbRedirEndpoint* endpoint);
    int size() const;
    int inUse() const;

    // Reserves an endpoint without a device (UsbRedirEndpoint::tryClaim). On failure returns
    // nullptr and sets `error`: "the server offers N USB redirection channels, all in use", or
    // that it offers none. The caller attaches its device and, when done, releases it and calls
    // endpoint->unclaim().
    UsbRedirEndpoint* claim(QString* error);

    static QString noFreeChannelMessage(int offered);

private:
    mutable std::mutex mutex_;
    std::vector<QPointer<UsbRedirEndpoint>> endpoints_;
};

} // namespace saffron::usb
