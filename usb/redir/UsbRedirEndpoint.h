#pragma once

#include <QByteArray>
#include <QObject>
#include <QString>
#include <atomic>

namespace saffron::usb {

// The usb-host end of one usbredir stream (docs/usb-redirection-protocol.md in usbredir): the
// guest side is a `-device usb-redir` reached through a byte pipe (for SPICE, one usbredir
// channel). Implementations: UsbRedirector (a real device through libusb and usbredirhost) and the
// emulated devices of the tests. Nothing here knows about SPICE.
//
// One endpoint lives as long as its pipe: QEMU creates its usbredir parser when the pipe opens
// and expects exactly one hello from us on it, so devices are attached to and released from a
// running endpoint, never by creating a new one on the same pipe.
class UsbRedirEndpoint : public QObject {
    Q_OBJECT
public:
    using QObject::QObject;
    ~UsbRedirEndpoint() override = default;

    // Sends our usbredir hello (through toGuest). Connect toGuest first. False with `error` set
    // if the endpoint cannot run.
    virtual bool start(QString* error) = 0;
    // Thread-safe. Bytes from the guest side, in order, as they arrive from the pipe.
    virtual void feedFromGuest(const QByteArray& data) = 0;
    // Thread-safe. True while a device is attached (connected to the guest).
    virtual bool hasDevice() const = 0;
    // Thread-safe. Disconnects the device from the guest and gives it back to the local system.
    // No-op without a device. Emits deviceReleased(QString()).
    virtual void releaseDevice() = 0;

    // Thread-safe reservation so that two callers never attach to the same endpoint: a claimed
    // endpoint is "in use" from tryClaim() until unclaim() (after release).
    bool tryClaim() {
        bool expected = false;
        return claimed_.compare_exchange_strong(expected, true, std::memory_order_acq_rel);
    }
    void unclaim() { claimed_.store(false, std::memory_order_release); }
    bool isClaimed() const { return claimed_.load(std::memory_order_acquire); }

signals:
    // Any thread. Bytes for the guest side, in order; write them to the pipe.
    void toGuest(const QByteArray& data);
    // Any thread. The device left the guest: `reason` is empty after releaseDevice(), else it
    // says why (unplugged, rejected by the guest, I/O error, pipe closed).
    void deviceReleased(const QString& reason);
    // Any thread. Something went wrong that the user should see; the endpoint stays usable.
    void error(const QString& message);

private:
    std::atomic<bool> claimed_{false};
};

} // namespace saffron::usb
