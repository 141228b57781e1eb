#pragma once

#include "redir/UsbRedirEndpoint.h"

#include <QByteArray>
#include <QString>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>

struct libusb_context;
struct libusb_device;
struct usbredirhost;

namespace saffron::usb {

struct UsbRedirectorStats {
    quint64 bytesFromGuest = 0;
    quint64 bytesToGuest = 0;
    quint64 parseErrors = 0; // malformed usbredir packets from the guest side, skipped
};

// A real USB device carried over one usbredir stream by libusbredirhost. One instance per
// stream (per SPICE usbredir channel): it greets the guest once in start(), then devices are
// attached with attach() and given back with releaseDevice(), as often as needed.
//
// Threads (usbredir docs/multi-thread.md): feedFromGuest(), attach(), releaseDevice() and the
// destructor are serialised by one mutex, since usbredirhost_read_guest_data and
// usbredirhost_set_device allow one caller at a time. Transfer completions run on whichever
// thread calls libusb_handle_events for the context (the UsbContext event thread); they queue
// packets and call our flush callback, which writes them out at once, so toGuest() may be
// emitted on that thread too. Slots connected to toGuest() must not call back into this object.
class UsbRedirector final : public UsbRedirEndpoint {
    Q_OBJECT
public:
    // `context` must outlive this object, and something must be handling its events.
    explicit UsbRedirector(libusb_context* context, QObject* parent = nullptr);
    // Releases any device (its kernel drivers are re-attached) and closes the host.
    ~UsbRedirector() override;

    // How many bytes handed out through toGuest() still wait to go out on the wire (the pipe's
    // send backlog, e.g. the SPICE channel's queue plus its socket's write buffer). With it,
    // usbredirhost drops isochronous packets, whole frames first, when the link backs up (a
    // webcam or headset on a slow line) instead of queueing them without bound
    // (usbredirhost.h, usbredirhost_set_buffered_output_size_cb). Call before start(); it is
    // called from libusb's event thread, so it must be thread-safe. Without it the host never
    // drops.
    using BacklogFunction = std::function<uint64_t()>;
    void setOutputBacklog(BacklogFunction backlog);

    bool start(QString* error) override;
    void feedFromGuest(const QByteArray& data) override;
    bool hasDevice() const override { return hasDevice_.load(std::memory_order_acquire); }
    void releaseDevice() override;

    // Opens `device`, lets usbredirhost claim every interface (detaching kernel drivers such as
    // usb-storage: the device disappears locally) and announces it to the guest. Fails with a
    // readable `error` (no permission, device gone, already attached, not started).
    bool attach(libusb_device* device, QString* error);
    // For the hotplug code: the device was unplugged. Releases it with a reason.
    void deviceUnplugged();

    UsbRedirectorStats stats() const;

private:
    struct HostDeleter {
        void operator()(usbredirhost* host) const;
    };

    static int readCallback(void* priv, uint8_t* data, int count);
    static int writeCallback(void* priv, uint8_t* data, int count);
    static void flushCallback(void* priv);
    static void logCallback(void* priv, int level, const char* message);
    static uint64_t bufferedOutputCallback(void* priv);
    void releaseLocked(std::unique_lock<std::mutex>& lock, const QString& reason);

    libusb_context* const context_;
    BacklogFunction backlog_;  // set before start(), read-only afterwards
    mutable std::mutex mutex_; // see the class comment
    std::unique_ptr<usbredirhost, HostDeleter> host_;
    std::atomic<usbredirhost*> liveHost_{nullptr}; // host_ as seen by the flush callback
    QByteArray input_;                             // guest bytes handed to usbredirhost by readCallback
    qsizetype inputPos_ = 0;
    std::atomic<bool> hasDevice_{false};
    std::atomic<quint64> bytesFromGuest_{0};
    std::atomic<quint64> bytesToGuest_{0};
    std::atomic<quint64> parseErrors_{0};
    std::atomic<int> loggedWarnings_{0};
};

} // namespace saffron::usb
