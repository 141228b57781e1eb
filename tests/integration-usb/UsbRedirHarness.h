#pragma once

#include "EmulatedHidDevice.h"
#include "Session.h"
#include "channels/UsbRedirChannel.h"
#include "redir/UsbRedirPool.h"

#include <QCoreApplication>
#include <QMutex>
#include <map>
#include <memory>

namespace saffron::test {

// The glue the shell will have, in small: every usbredir channel the session opens gets an
// endpoint (here an emulated HID device) wired to it byte for byte, and the endpoints form the
// pool devices are attached from. The wiring happens on the session thread as the channel is
// created, before it connects, so QEMU's hello is never missed.
class UsbRedirHarness {
public:
    explicit UsbRedirHarness(const SessionOptions& options) : session_(std::make_unique<Session>(options)) {
        QObject::connect(
            session_.get(), &Session::usbRedirChannelCreated, session_.get(),
            [this](UsbRedirChannel* channel) { wire(channel); }, Qt::DirectConnection);
        session_->start();
    }

    // The session (and with it every channel) goes first, so no channel can call into an
    // endpoint being destroyed.
    ~UsbRedirHarness() { session_.reset(); }

    Session& session() { return *session_; }
    void endSession() { session_.reset(); }

    usb::UsbRedirPool& pool() { return pool_; }

    QList<EmulatedHidDevice*> endpoints() {
        QMutexLocker lock(&mutex_);
        QList<EmulatedHidDevice*> out;
        for (auto& [channel, ep] : endpoints_)
            out << ep.get();
        return out;
    }

private:
    void wire(UsbRedirChannel* channel) {
        auto ep = std::make_unique<EmulatedHidDevice>();
        EmulatedHidDevice* raw = ep.get();
        // Created on the session thread; the test thread owns and deletes it.
        raw->moveToThread(QCoreApplication::instance()->thread());
        QObject::connect(channel, &UsbRedirChannel::dataReceived, raw, &EmulatedHidDevice::feedFromGuest,
                         Qt::DirectConnection);
        QObject::connect(raw, &usb::UsbRedirEndpoint::toGuest, channel, &UsbRedirChannel::sendData,
                         Qt::DirectConnection);
        // Server gone: the device is no longer in the guest; free the endpoint.
        QObject::connect(
            channel, &Channel::closed, raw,
            [this, raw](const QString&) {
                raw->releaseDevice();
                pool_.remove(raw);
            },
            Qt::DirectConnection);
        QString error;
        if (!raw->start(&error))
            qWarning("emulated endpoint failed: %s", qPrintable(error));
        pool_.add(raw);
        QMutexLocker lock(&mutex_);
        endpoints_.emplace(channel->channelId(), std::move(ep));
    }

    usb::UsbRedirPool pool_;
    QMutex mutex_;
    std::map<int, std::unique_ptr<EmulatedHidDevice>> endpoints_;
    std::unique_ptr<Session> session_; // declared last: destroyed first
};

} // namespace saffron::test
