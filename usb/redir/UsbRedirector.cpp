#include "redir/UsbRedirector.h"

#include <QLoggingCategory>
#include <cstring>
#include <libusb.h>
#include <usbredirhost.h>

namespace saffron::usb {

namespace {
Q_LOGGING_CATEGORY(lcRedir, "saffron.usb.redir")

// usbredirhost's lock callbacks (usbredirparser.h): plain mutexes, as the docs ask for (they are
// never taken recursively by the library). alloc must not fail.
void* allocLock() {
    return new std::mutex;
}
void lockLock(void* lock) {
    static_cast<std::mutex*>(lock)->lock();
}
void unlockLock(void* lock) {
    static_cast<std::mutex*>(lock)->unlock();
}
void freeLock(void* lock) {
    delete static_cast<std::mutex*>(lock);
}

QString libusbError(int code) {
    return QString::fromLatin1(libusb_error_name(code));
}
} // namespace

void UsbRedirector::HostDeleter::operator()(usbredirhost* host) const {
    // Also releases a still attached device first (usbredirhost_close calls set_device(NULL)).
    usbredirhost_close(host);
}

UsbRedirector::UsbRedirector(libusb_context* context, QObject* parent)
    : UsbRedirEndpoint(parent), context_(context) {}

UsbRedirector::~UsbRedirector() {
    std::unique_lock lock(mutex_);
    if (host_ && hasDevice_.load(std::memory_order_acquire)) {
        // Tell the guest while we still can; kernel drivers are re-attached here.
        usbredirhost_set_device(host_.get(), nullptr);
        usbredirhost_write_guest_data(host_.get());
    }
    liveHost_.store(nullptr, std::memory_order_release);
    // Closing cancels pending transfers and waits for them; after it returns no libusb
    // callback can reach us any more.
    host_.reset();
    hasDevice_.store(false, std::memory_order_release);
}

void UsbRedirector::setOutputBacklog(BacklogFunction backlog) {
    std::unique_lock lock(mutex_);
    if (host_) {
        qCWarning(lcRedir) << "setOutputBacklog after start() ignored";
        return;
    }
    backlog_ = std::move(backlog);
}

bool UsbRedirector::start(QString* error) {
    std::unique_lock lock(mutex_);
    if (host_)
        return true;
    if (!context_) {
        if (error)
            *error = QStringLiteral("USB redirection is not available: no libusb context");
        return false;
    }
    // No device yet: the host only sends its hello; attach() adds the device later.
    usbredirhost* host =
        usbredirhost_open_full(context_, nullptr, &UsbRedirector::logCallback, &UsbRedirector::readCallback,
                               &UsbRedirector::writeCallback, &UsbRedirector::flushCallback, &allocLock,
                               &lockLock, &unlockLock, &freeLock, this, "saffron", usbredirparser_warning, 0);
    if (!host) {
        if (error)
            *error = QStringLiteral("could not start usbredirhost (out of memory)");
        return false;
    }
    host_.reset(host);
    liveHost_.store(host, std::memory_order_release);
    if (backlog_)
        usbredirhost_set_buffered_output_size_cb(host, &UsbRedirector::bufferedOutputCallback);
    usbredirhost_write_guest_data(host);
    return true;
}

bool UsbRedirector::attach(libusb_device* device, QString* error) {
    auto fail = [error](const QString& why) {
        if (error)
            *error = why;
        return false;
    };
    if (!device)
        return fail(QStringLiteral("no USB device given"));
    std::unique_lock lock(mutex_);
    if (!host_)
        return fail(QStringLiteral("USB redirection channel is not running"));
    if (hasDevice_.load(std::memory_order_acquire))
        return fail(QStringLiteral("this USB redirection channel already carries a device"));
    libusb_device_handle* handle = nullptr;
    if (const int r = libusb_open(device, &handle); r != 0) {
        if (r == LIBUSB_ERROR_ACCESS)
            return fail(QStringLiteral("no permission to open the USB device (%1); a udev rule must grant "
                                       "this user access")
                            .arg(libusbError(r)));
        return fail(QStringLiteral("cannot open the USB device: %1").arg(libusbError(r)));
    }
    // set_device takes the handle over, closing it on failure; it claims every interface with
    // libusb's auto-detach, so the kernel driver lets go of the device while it is redirected.
    const int status = usbredirhost_set_device(host_.get(), handle);
    if (status != usb_redir_success)
        return fail(QStringLiteral("the USB device could not be claimed for redirection (usbredir "
                                   "status %1); another program may be using it")
                        .arg(status));
    hasDevice_.store(true, std::memory_order_release);
    usbredirhost_write_guest_data(host_.get());
    return true;
}

void UsbRedirector::releaseDevice() {
    std::unique_lock lock(mutex_);
    releaseLocked(lock, QString());
}

void UsbRedirector::deviceUnplugged() {
    std::unique_lock lock(mutex_);
    releaseLocked(lock, QStringLiteral("the USB device was unplugged"));
}

// Unlocks before emitting, so slots may call back into this object.
void UsbRedirector::releaseLocked(std::unique_lock<std::mutex>& lock, const QString& reason) {
    if (!host_ || !hasDevice_.load(std::memory_order_acquire))
        return;
    // set_device(NULL) cancels and reaps the pending transfers, releases the interfaces, resets
    // the device and re-attaches its kernel drivers (usbredirhost_release), so a USB stick is
    // mounted locally again; it also tells the guest the device is gone.
    usbredirhost_set_device(host_.get(), nullptr);
    hasDevice_.store(false, std::memory_order_release);
    usbredirhost_write_guest_data(host_.get());
    lock.unlock();
    emit deviceReleased(reason);
}

void UsbRedirector::feedFromGuest(const QByteArray& data) {
    std::unique_lock lock(mutex_);
    if (!host_ || data.isEmpty())
        return;
    bytesFromGuest_ += quint64(data.size());
    input_ = data;
    inputPos_ = 0;
    QString released;
    bool lost = false;
    // usbredirhost_read_guest_data pulls through readCallback until it returns 0. A parse error
    // skips the bad packet (by its header's length) and returns early: go on with the rest.
    // Each round consumes at least one byte or stops.
    while (inputPos_ < input_.size()) {
        const qsizetype before = inputPos_;
        const int r = usbredirhost_read_guest_data(host_.get());
        if (r == usbredirhost_read_parse_error) {
            // A hostile server could flood the journal: say it for the first few only.
            if (++parseErrors_ <= 10)
                qCWarning(lcRedir) << "malformed usbredir packet from the guest side skipped";
        } else if (r == usbredirhost_read_device_rejected) {
            // The guest refused the device (filter, speed mismatch): give it back locally.
            if (hasDevice_.load(std::memory_order_acquire)) {
                usbredirhost_set_device(host_.get(), nullptr);
                hasDevice_.store(false, std::memory_order_release);
                released = QStringLiteral("the remote machine rejected the USB device");
            }
        } else if (r == usbredirhost_read_device_lost) {
            // The host already dropped the device (its handle failed: unplugged during a transfer).
            if (hasDevice_.exchange(false, std::memory_order_acq_rel)) {
                released = QStringLiteral("the USB device was lost (unplugged or stopped responding)");
                lost = true;
            }
        } else if (r != 0) {
            qCWarning(lcRedir) << "usbredirhost read error" << r;
            break;
        }
        if (inputPos_ == before)
            break;
    }
    input_.clear();
    inputPos_ = 0;
    usbredirhost_write_guest_data(host_.get());
    lock.unlock();
    if (!released.isNull()) {
        if (lost)
            emit error(released);
        emit deviceReleased(released);
    }
}

UsbRedirectorStats UsbRedirector::stats() const {
    UsbRedirectorStats s;
    s.bytesFromGuest = bytesFromGuest_.load();
    s.bytesToGuest = bytesToGuest_.load();
    s.parseErrors = parseErrors_.load();
    return s;
}

// Called by usbredirparser_do_read, with mutex_ held by feedFromGuest.
int UsbRedirector::readCallback(void* priv, uint8_t* data, int count) {
    auto* self = static_cast<UsbRedirector*>(priv);
    const qsizetype left = self->input_.size() - self->inputPos_;
    const qsizetype n = std::min<qsizetype>(left, std::max(count, 0));
    if (n <= 0)
        return 0; // "would block": no more data until the next feed
    std::memcpy(data, self->input_.constData() + self->inputPos_, size_t(n));
    self->inputPos_ += n;
    return int(n);
}

// Called under the parser's write lock, from any thread (see the class comment).
int UsbRedirector::writeCallback(void* priv, uint8_t* data, int count) {
    auto* self = static_cast<UsbRedirector*>(priv);
    if (count <= 0)
        return 0;
    self->bytesToGuest_ += quint64(count);
    // The pipe (SPICE channel) queues without limit; TCP back-pressure applies further down.
    emit self->toGuest(QByteArray(reinterpret_cast<const char*>(data), count));
    return count;
}

void UsbRedirector::flushCallback(void* priv) {
    auto* self = static_cast<UsbRedirector*>(priv);
    // May run inside usbredirhost_open_full, before host_ is set: start() flushes then.
    // usbredirhost_write_guest_data allows several callers at once (multi-thread.md).
    if (usbredirhost* host = self->liveHost_.load(std::memory_order_acquire))
        usbredirhost_write_guest_data(host);
}

// usbredirhost asks this from the isochronous completion path (libusb's event thread) and
// compares it with thresholds it derives from the endpoint's packet rate.
uint64_t UsbRedirector::bufferedOutputCallback(void* priv) {
    auto* self = static_cast<UsbRedirector*>(priv);
    return self->backlog_ ? self->backlog_() : 0;
}

void UsbRedirector::logCallback(void* priv, int level, const char* message) {
    const QString text = QString::fromUtf8(message);
    // Errors are mostly about what the guest side sent; past the first few they go to debug so a
    // hostile server cannot flood the journal.
    auto* self = static_cast<UsbRedirector*>(priv);
    if (level <= usbredirparser_warning && self->loggedWarnings_.fetch_add(1) >= 50)
        level = usbredirparser_debug;
    if (level <= usbredirparser_error)
        qCWarning(lcRedir).noquote() << "usbredirhost:" << text;
    else if (level <= usbredirparser_warning)
        qCInfo(lcRedir).noquote() << "usbredirhost:" << text;
    else
        qCDebug(lcRedir).noquote() << "usbredirhost:" << text;
}

} // namespace saffron::usb
