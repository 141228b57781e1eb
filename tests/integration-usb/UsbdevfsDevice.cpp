#include "UsbdevfsDevice.h"

#include <QDebug>
#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <fcntl.h>
#include <linux/usbdevice_fs.h>
#include <memory>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <umockdev.h>
#include <unistd.h>

// The ioctls answered, and why (libusb 1.0.26 os/linux_usbfs.c, usbredirhost 0.13):
//  - GET_CAPABILITIES on open (libusb keeps the bits; we report what a 5.x/6.x kernel does, less
//    MMAP and scatter-gather which change how bulk buffers are allocated and split);
//  - DISCONNECT_CLAIM: usbredirhost turns libusb's auto-detach on, so claiming an interface
//    detaches its kernel driver in one call; GETDRIVER / IOCTL(DISCONNECT) / CLAIMINTERFACE are
//    the fallback libusb uses where that ioctl is missing, and are answered too;
//  - RELEASEINTERFACE, RESET, then IOCTL(CONNECT) per interface when usbredirhost gives the
//    device back (usbredirhost_release): CONNECT is "re-attach the kernel driver";
//  - SETCONFIGURATION / SETINTERFACE / CLEAR_HALT / RESETEP for what the guest asks;
//  - SUBMITURB / REAPURBNDELAY / DISCARDURB for transfers: control on endpoint 0 (answered at
//    once from the descriptors below) and interrupt IN on 0x81 (pending until a report).

namespace saffron::test {

namespace {

struct GObjectUnref {
    void operator()(gpointer p) const {
        if (p)
            g_object_unref(p);
    }
};
using DataRef = std::unique_ptr<UMockdevIoctlData, GObjectUnref>;

// Resolves the pointer at `offset` inside `data` to `len` bytes of client memory; the copy is
// written back to the client when the ioctl completes (umockdev_ioctl_client_complete).
DataRef resolve(UMockdevIoctlData* data, size_t offset, size_t len) {
    GError* error = nullptr;
    UMockdevIoctlData* r = umockdev_ioctl_data_resolve(data, offset, len, &error);
    if (error) {
        qWarning("umockdev_ioctl_data_resolve: %s", error->message);
        g_clear_error(&error);
    }
    return DataRef(r);
}

uint64_t argValue(UMockdevIoctlClient* client) {
    UMockdevIoctlData* arg = umockdev_ioctl_client_get_arg(client);
    uint64_t v = 0;
    if (arg && arg->data_len >= int(sizeof(v)))
        std::memcpy(&v, arg->data, sizeof(v));
    return v;
}

void put16(QByteArray& b, uint16_t v) {
    b.append(char(v & 0xff));
    b.append(char(v >> 8));
}

// USB 2.0 9.4 request codes; HID 1.11 7.2 class requests.
constexpr uint8_t kGetStatus = 0, kClearFeature = 1, kSetFeature = 3, kGetDescriptor = 6,
                  kGetConfiguration = 8, kSetConfiguration = 9, kGetInterface = 10, kSetInterface = 11;
constexpr uint8_t kHidGetReport = 1, kHidGetIdle = 2, kHidGetProtocol = 3, kHidSetReport = 9,
                  kHidSetIdle = 10, kHidSetProtocol = 11;
constexpr uint8_t kInterruptIn = 0x81;

struct DelayedCompletion {
    UMockdevIoctlClient* client;
    int err;
};

gboolean completeDelayed(gpointer p) {
    auto* d = static_cast<DelayedCompletion*>(p);
    umockdev_ioctl_client_complete(d->client, -1, d->err);
    return G_SOURCE_REMOVE;
}

void freeDelayed(gpointer p) {
    auto* d = static_cast<DelayedCompletion*>(p);
    g_object_unref(d->client);
    delete d;
}

} // namespace

UsbdevfsDevice::UsbdevfsDevice(UsbdevfsDeviceModel model)
    : model_(std::move(model)), driver_(model_.kernelDriver) {}

UsbdevfsDevice::~UsbdevfsDevice() {
    if (handler_) {
        if (testbed_)
            umockdev_testbed_detach_ioctl(testbed_, devnode_.constData(), nullptr);
        g_signal_handlers_disconnect_by_data(handler_, this);
        g_object_unref(handler_);
    }
    std::lock_guard lock(mutex_);
    for (auto& [client, st] : clients_)
        g_object_unref(st.client);
    if (pipeFd_ >= 0)
        ::close(pipeFd_);
}

bool UsbdevfsDevice::makePollable(const QString& path, QString* error) {
    const QByteArray p = path.toLocal8Bit();
    if (::unlink(p.constData()) != 0 || ::mkfifo(p.constData(), 0666) != 0) {
        if (error)
            *error = QStringLiteral("cannot make %1 a FIFO: %2")
                         .arg(path, QString::fromLocal8Bit(strerror(errno)));
        return false;
    }
    // O_RDWR: opening a FIFO this way never blocks, and this fd both fills and drains it.
    const int fd = ::open(p.constData(), O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        if (error)
            *error = QStringLiteral("cannot open %1: %2").arg(path, QString::fromLocal8Bit(strerror(errno)));
        return false;
    }
    std::lock_guard lock(mutex_);
    pipeFd_ = fd;
    pipeFull_ = false;
    updateReadinessLocked();
    return true;
}

// POLLOUT on the node (pipe not full) exactly while a URB waits to be reaped or the device is
// gone; a full pipe leaves libusb's poll() asleep.
void UsbdevfsDevice::updateReadinessLocked() {
    if (pipeFd_ < 0)
        return;
    bool ready = gone_;
    for (const auto& [c, st] : clients_)
        ready = ready || !st.completed.empty();
    char page[4096];
    if (ready && pipeFull_) {
        while (::read(pipeFd_, page, sizeof(page)) > 0) {
        }
        pipeFull_ = false;
    } else if (!ready && !pipeFull_) {
        std::memset(page, 0, sizeof(page));
        while (::write(pipeFd_, page, sizeof(page)) > 0) {
        }
        pipeFull_ = true;
    }
}

QByteArray UsbdevfsDevice::deviceDescriptor() const {
    QByteArray d;
    d.append(char(18)).append(char(1));                // bLength, DEVICE
    put16(d, 0x0200);                                  // bcdUSB 2.0
    d.append(char(0)).append(char(0)).append(char(0)); // class per interface
    d.append(char(64));                                // bMaxPacketSize0
    put16(d, model_.vendorId);
    put16(d, model_.productId);
    put16(d, 0x0100);                                  // bcdDevice
    d.append(char(1)).append(char(2)).append(char(3)); // iManufacturer, iProduct, iSerial
    d.append(char(1));                                 // bNumConfigurations
    return d;
}

QByteArray UsbdevfsDevice::reportDescriptor() const {
    // A vendor-page HID device with one 8-byte input report: not a boot keyboard or mouse, so
    // the default policy lets it be redirected automatically (usb/core/README.md rule 4).
    static const uint8_t r[] = {0x06, 0x00, 0xff, 0x09, 0x01, 0xa1, 0x01, 0x15, 0x00, 0x26, 0xff,
                                0x00, 0x75, 0x08, 0x95, 0x08, 0x09, 0x01, 0x81, 0x02, 0xc0};
    return QByteArray(reinterpret_cast<const char*>(r), sizeof(r));
}

QByteArray UsbdevfsDevice::configDescriptor() const {
    QByteArray c;
    c.append(char(9)).append(char(2));
    put16(c, 9 + 9 + 9 + 7); // wTotalLength
    c.append(char(1)).append(char(1)).append(char(0)).append(char(0x80)).append(char(50));
    // Interface 0, alt 0, one endpoint, HID class without boot subclass/protocol.
    c.append(char(9)).append(char(4)).append(char(0)).append(char(0)).append(char(1));
    c.append(char(3)).append(char(0)).append(char(0)).append(char(0));
    // HID descriptor: HID 1.11, no country, one report descriptor.
    c.append(char(9)).append(char(0x21));
    put16(c, 0x0111);
    c.append(char(0)).append(char(1)).append(char(0x22));
    put16(c, uint16_t(reportDescriptor().size()));
    // Endpoint 0x81, interrupt, 8 bytes, every 10 ms.
    c.append(char(7)).append(char(5)).append(char(kInterruptIn)).append(char(3));
    put16(c, 8);
    c.append(char(10));
    return c;
}

QByteArray UsbdevfsDevice::sysfsDescriptors() const {
    return deviceDescriptor() + configDescriptor();
}

QByteArray UsbdevfsDevice::stringDescriptor(uint8_t index) const {
    QByteArray s;
    if (index == 0) {
        s.append(char(4)).append(char(3));
        put16(s, 0x0409); // US English
        return s;
    }
    const QString text = index == 1 ? model_.manufacturer : index == 2 ? model_.product : model_.serial;
    s.append(char(2 + 2 * text.size())).append(char(3));
    for (QChar ch : text)
        put16(s, ch.unicode());
    return s;
}

bool UsbdevfsDevice::controlRequest(const uint8_t setup[8], QByteArray* in) {
    const uint8_t type = setup[0];
    const uint8_t request = setup[1];
    const uint16_t value = uint16_t(setup[2] | setup[3] << 8);
    if (type == 0x80 && request == kGetDescriptor) {
        switch (value >> 8) {
        case 1:
            *in = deviceDescriptor();
            return true;
        case 2:
            *in = configDescriptor();
            return true;
        case 3:
            if ((value & 0xff) > 3)
                return false;
            *in = stringDescriptor(uint8_t(value & 0xff));
            return true;
        default:
            return false;
        }
    }
    if (type == 0x81 && request == kGetDescriptor) {
        if ((value >> 8) == 0x22) {
            *in = reportDescriptor();
            return true;
        }
        if ((value >> 8) == 0x21) {
            *in = configDescriptor().mid(18, 9);
            return true;
        }
        return false;
    }
    if ((type & 0x80) && request == kGetStatus && (type & 0x60) == 0) {
        *in = QByteArray(2, '\0');
        return true;
    }
    if (type == 0x80 && request == kGetConfiguration) {
        *in = QByteArray(1, '\1');
        return true;
    }
    if (type == 0x81 && request == kGetInterface) {
        *in = QByteArray(1, '\0');
        return true;
    }
    if ((type & 0x60) == 0 && !(type & 0x80) &&
        (request == kSetConfiguration || request == kSetInterface || request == kClearFeature ||
         request == kSetFeature))
        return true;
    if (type == 0x21 && (request == kHidSetIdle || request == kHidSetProtocol || request == kHidSetReport))
        return true;
    if (type == 0xa1 && request == kHidGetReport) {
        *in = QByteArray(8, '\0');
        return true;
    }
    if (type == 0xa1 && (request == kHidGetIdle || request == kHidGetProtocol)) {
        *in = QByteArray(1, request == kHidGetProtocol ? '\1' : '\0');
        return true;
    }
    return false;
}

bool UsbdevfsDevice::attachTo(UMockdevTestbed* testbed, const QString& devnode, QString* error) {
    handler_ = umockdev_ioctl_base_new();
    g_signal_connect(handler_, "handle-ioctl", G_CALLBACK(&UsbdevfsDevice::handleIoctlThunk), this);
    g_signal_connect(handler_, "client-connected", G_CALLBACK(&UsbdevfsDevice::clientConnectedThunk), this);
    GError* gerror = nullptr;
    devnode_ = devnode.toUtf8();
    if (!umockdev_testbed_attach_ioctl(testbed, devnode_.constData(), handler_, &gerror)) {
        if (error)
            *error = QString::fromUtf8(gerror ? gerror->message : "umockdev_testbed_attach_ioctl failed");
        g_clear_error(&gerror);
        return false;
    }
    testbed_ = testbed;
    return true;
}

void UsbdevfsDevice::clientConnectedThunk(UMockdevIoctlBase*, UMockdevIoctlClient* client, void* self) {
    auto* d = static_cast<UsbdevfsDevice*>(self);
    std::lock_guard lock(d->mutex_);
    ++d->log_.opens;
    d->stateFor(client);
}

int UsbdevfsDevice::handleIoctlThunk(UMockdevIoctlBase*, UMockdevIoctlClient* client, void* self) {
    return static_cast<UsbdevfsDevice*>(self)->handleIoctl(client);
}

UsbdevfsDevice::ClientState& UsbdevfsDevice::stateFor(UMockdevIoctlClient* client) {
    auto it = clients_.find(client);
    if (it == clients_.end()) {
        it = clients_.emplace(client, ClientState{}).first;
        it->second.client = static_cast<UMockdevIoctlClient*>(g_object_ref(client));
    }
    return it->second;
}

// Another open file claims the interface (the kernel answers EBUSY). A file whose client has
// gone (closed) lost its claim, as usbfs releases interfaces on close.
bool UsbdevfsDevice::claimedElsewhere(const ClientState& st) const {
    for (const auto& [c, other] : clients_)
        if (&other != &st && other.claimed && umockdev_ioctl_client_get_connected(other.client))
            return true;
    return false;
}

long UsbdevfsDevice::claim(ClientState& st, unsigned interface, int* err) {
    if (interface != 0) {
        *err = ENOENT;
        return -1;
    }
    if (st.claimed)
        return 0;
    if (claimedElsewhere(st)) {
        *err = EBUSY;
        return -1;
    }
    if (!driver_.isEmpty() && driver_ != QLatin1String("usbfs")) {
        *err = EBUSY; // a kernel driver holds it
        return -1;
    }
    st.claimed = true;
    driver_ = QStringLiteral("usbfs");
    ++log_.claims;
    return 0;
}

long UsbdevfsDevice::usbfsIoctl(UMockdevIoctlClient* client, ClientState& st, int* err) {
    DataRef io = resolve(umockdev_ioctl_client_get_arg(client), 0, sizeof(usbdevfs_ioctl));
    if (!io) {
        *err = EFAULT;
        return -1;
    }
    usbdevfs_ioctl req;
    std::memcpy(&req, io->data, sizeof(req));
    if (req.ifno != 0) {
        *err = EINVAL;
        return -1;
    }
    if (req.ioctl_code == int(USBDEVFS_DISCONNECT)) {
        if (driver_.isEmpty()) {
            *err = ENODATA;
            return -1;
        }
        if (driver_ == QLatin1String("usbfs")) {
            // devio.c: disconnecting usbfs itself is refused.
            *err = EINVAL;
            return -1;
        }
        driver_.clear();
        ++log_.kernelDetaches;
        return 0;
    }
    if (req.ioctl_code == int(USBDEVFS_CONNECT)) {
        if (driver_ == QLatin1String("usbfs") && (st.claimed || claimedElsewhere(st))) {
            *err = EBUSY;
            return -1;
        }
        driver_ = model_.kernelDriver;
        ++log_.kernelReattaches;
        return 0;
    }
    *err = ENOTTY;
    return -1;
}

long UsbdevfsDevice::submitUrb(UMockdevIoctlClient* client, ClientState& st, int* err) {
    DataRef urbData = resolve(umockdev_ioctl_client_get_arg(client), 0, sizeof(usbdevfs_urb));
    if (!urbData) {
        *err = EFAULT;
        return -1;
    }
    usbdevfs_urb u;
    std::memcpy(&u, urbData->data, sizeof(u));
    ++log_.urbsSubmitted;
    Urb urb;
    urb.clientAddr = urbData->client_addr;
    urb.type = u.type;
    urb.endpoint = u.endpoint;
    if (u.type == USBDEVFS_URB_TYPE_CONTROL) {
        if (u.buffer_length < 8) {
            *err = EINVAL;
            return -1;
        }
        DataRef buffer = resolve(urbData.get(), offsetof(usbdevfs_urb, buffer), size_t(u.buffer_length));
        if (!buffer) {
            *err = EFAULT;
            return -1;
        }
        uint8_t setup[8];
        std::memcpy(setup, buffer->data, 8);
        const uint16_t length = uint16_t(setup[6] | setup[7] << 8);
        ++log_.controlTransfers;
        QByteArray in;
        urb.dataOffset = 8;
        if (!controlRequest(setup, &in)) {
            urb.status = -EPIPE; // stall: request not supported
        } else if (setup[0] & 0x80) {
            in.truncate(std::min<int>(length, u.buffer_length - 8));
            urb.data = in;
            urb.actualLength = int(in.size());
        } else {
            urb.actualLength = length;
        }
        st.completed.push_back(urb);
        return 0;
    }
    if (u.type == USBDEVFS_URB_TYPE_INTERRUPT && u.endpoint == kInterruptIn) {
        if (!st.claimed) {
            *err = EINVAL;
            return -1;
        }
        urb.actualLength = u.buffer_length; // the most a report may fill
        st.pending.push_back(urb);
        return 0;
    }
    // Nothing else exists on this device (devio.c: no such endpoint).
    *err = ENOENT;
    return -1;
}

long UsbdevfsDevice::reapUrb(UMockdevIoctlClient* client, ClientState& st, int* err) {
    if (st.completed.empty()) {
        *err = gone_ ? ENODEV : EAGAIN;
        ++log_.idleReaps;
        return -1;
    }
    const Urb urb = st.completed.front();
    st.completed.pop_front();
    // The argument is the client's `struct usbdevfs_urb *`: point it at the reaped URB, then
    // fill in that URB's status, length and IN data.
    DataRef ptr = resolve(umockdev_ioctl_client_get_arg(client), 0, sizeof(void*));
    if (!ptr) {
        *err = EFAULT;
        return -1;
    }
    std::memcpy(ptr->data, &urb.clientAddr, sizeof(void*));
    DataRef urbData = resolve(ptr.get(), 0, sizeof(usbdevfs_urb));
    if (!urbData) {
        *err = EFAULT;
        return -1;
    }
    auto* u = reinterpret_cast<usbdevfs_urb*>(urbData->data);
    u->status = urb.status;
    u->actual_length = urb.status == 0 ? urb.actualLength : 0;
    if (!urb.data.isEmpty() && u->buffer_length >= urb.dataOffset) {
        const int n = std::min<int>(int(urb.data.size()), u->buffer_length - urb.dataOffset);
        DataRef buffer = resolve(urbData.get(), offsetof(usbdevfs_urb, buffer), size_t(u->buffer_length));
        if (buffer)
            std::memcpy(buffer->data + urb.dataOffset, urb.data.constData(), size_t(n));
        u->actual_length = n;
    }
    ++log_.urbsReaped;
    return 0;
}

long UsbdevfsDevice::discardUrb(UMockdevIoctlClient* client, ClientState& st, int* err) {
    const uint64_t addr = argValue(client);
    auto it = std::find_if(st.pending.begin(), st.pending.end(),
                           [addr](const Urb& u) { return u.clientAddr == addr; });
    if (it == st.pending.end()) {
        *err = EINVAL; // already completed: libusb then waits for the reap
        return -1;
    }
    Urb urb = *it;
    st.pending.erase(it);
    urb.status = -ENOENT;
    urb.actualLength = 0;
    st.completed.push_back(urb);
    ++log_.urbsDiscarded;
    return 0;
}

bool UsbdevfsDevice::handleIoctl(UMockdevIoctlClient* client) {
    const unsigned long request = umockdev_ioctl_client_get_request(client);
    std::unique_lock lock(mutex_);
    ClientState& st = stateFor(client);
    int err = 0;
    long result = 0;
    const bool isReap = request == USBDEVFS_REAPURBNDELAY || request == USBDEVFS_REAPURB;
    if (gone_ && !isReap && request != USBDEVFS_DISCARDURB) {
        err = ENODEV;
        result = -1;
    } else if (request == USBDEVFS_GET_CAPABILITIES) {
        DataRef caps = resolve(umockdev_ioctl_client_get_arg(client), 0, sizeof(uint32_t));
        const uint32_t v = USBDEVFS_CAP_ZERO_PACKET | USBDEVFS_CAP_BULK_CONTINUATION |
                           USBDEVFS_CAP_NO_PACKET_SIZE_LIM | USBDEVFS_CAP_REAP_AFTER_DISCONNECT;
        if (caps)
            std::memcpy(caps->data, &v, sizeof(v));
    } else if (request == USBDEVFS_GETDRIVER) {
        DataRef gd = resolve(umockdev_ioctl_client_get_arg(client), 0, sizeof(usbdevfs_getdriver));
        auto* g = gd ? reinterpret_cast<usbdevfs_getdriver*>(gd->data) : nullptr;
        if (!g || g->interface != 0 || driver_.isEmpty()) {
            err = ENODATA;
            result = -1;
        } else {
            const QByteArray name = driver_.toLatin1();
            std::memset(g->driver, 0, sizeof(g->driver));
            std::memcpy(g->driver, name.constData(),
                        size_t(std::min<qsizetype>(name.size(), USBDEVFS_MAXDRIVERNAME)));
        }
    } else if (request == USBDEVFS_IOCTL) {
        result = usbfsIoctl(client, st, &err);
    } else if (request == USBDEVFS_DISCONNECT_CLAIM) {
        DataRef dc = resolve(umockdev_ioctl_client_get_arg(client), 0, sizeof(usbdevfs_disconnect_claim));
        usbdevfs_disconnect_claim c{};
        if (dc)
            std::memcpy(&c, dc->data, sizeof(c));
        c.driver[USBDEVFS_MAXDRIVERNAME] = '\0';
        // libusb: flags EXCEPT_DRIVER with driver "usbfs": detach any other driver, then claim.
        const bool except = c.flags & USBDEVFS_DISCONNECT_CLAIM_EXCEPT_DRIVER;
        if (!driver_.isEmpty() && driver_ != QLatin1String("usbfs") &&
            (!except || driver_ != QLatin1String(c.driver))) {
            driver_.clear();
            ++log_.kernelDetaches;
        }
        result = claim(st, c.interface, &err);
    } else if (request == USBDEVFS_CLAIMINTERFACE) {
        DataRef n = resolve(umockdev_ioctl_client_get_arg(client), 0, sizeof(unsigned));
        unsigned interface = 0;
        if (n)
            std::memcpy(&interface, n->data, sizeof(interface));
        result = claim(st, interface, &err);
    } else if (request == USBDEVFS_RELEASEINTERFACE) {
        if (!st.claimed) {
            err = EINVAL;
            result = -1;
        } else {
            st.claimed = false;
            // usbfs lets go; no driver is bound until someone asks (IOCTL CONNECT).
            driver_.clear();
            ++log_.releases;
        }
    } else if (request == USBDEVFS_RESET) {
        ++log_.resets;
    } else if (request == USBDEVFS_SETCONFIGURATION || request == USBDEVFS_SETINTERFACE ||
               request == USBDEVFS_CLEAR_HALT || request == USBDEVFS_RESETEP) {
        // One configuration, one alternate setting, no halts: nothing to change.
    } else if (request == USBDEVFS_SUBMITURB) {
        result = submitUrb(client, st, &err);
    } else if (isReap) {
        result = reapUrb(client, st, &err);
        const int delayMs = idleReapDelayMs_.load();
        if (result < 0 && delayMs > 0 && (err == EAGAIN || err == ENODEV)) {
            updateReadinessLocked();
            lock.unlock();
            // See the header: stands in for poll() sleeping until a URB completes.
            GSource* source = g_timeout_source_new(guint(delayMs));
            g_source_set_callback(
                source, &completeDelayed,
                new DelayedCompletion{static_cast<UMockdevIoctlClient*>(g_object_ref(client)), err},
                &freeDelayed);
            g_source_attach(source, g_main_context_get_thread_default());
            g_source_unref(source);
            return true;
        }
    } else if (request == USBDEVFS_DISCARDURB) {
        result = discardUrb(client, st, &err);
    } else {
        log_.unknownIoctls << QStringLiteral("0x%1").arg(request, 0, 16);
        err = ENOTTY;
        result = -1;
    }
    updateReadinessLocked();
    lock.unlock();
    umockdev_ioctl_client_complete(client, result, result < 0 ? err : 0);
    return true;
}

void UsbdevfsDevice::unplug() {
    std::lock_guard lock(mutex_);
    gone_ = true;
    for (auto& [c, st] : clients_) {
        for (Urb& u : st.pending) {
            u.status = -ESHUTDOWN;
            u.actualLength = 0;
            st.completed.push_back(u);
        }
        st.pending.clear();
    }
    updateReadinessLocked();
}

bool UsbdevfsDevice::sendInterruptReport(const QByteArray& report) {
    std::lock_guard lock(mutex_);
    for (auto& [c, st] : clients_) {
        auto it = std::find_if(st.pending.begin(), st.pending.end(),
                               [](const Urb& u) { return u.endpoint == kInterruptIn; });
        if (it == st.pending.end())
            continue;
        Urb u = *it;
        st.pending.erase(it);
        u.data = report.left(u.actualLength);
        u.actualLength = int(u.data.size());
        u.dataOffset = 0;
        st.completed.push_back(u);
        updateReadinessLocked();
        return true;
    }
    return false;
}

UsbdevfsLog UsbdevfsDevice::log() const {
    std::lock_guard lock(mutex_);
    return log_;
}

QString UsbdevfsDevice::interfaceDriver() const {
    std::lock_guard lock(mutex_);
    return driver_;
}

int UsbdevfsDevice::pendingUrbs() const {
    std::lock_guard lock(mutex_);
    int n = 0;
    for (const auto& [c, st] : clients_)
        n += int(st.pending.size());
    return n;
}

} // namespace saffron::test
