#pragma once

// A USB device emulated at the Linux usbdevfs level, for the real libusb -> usbredirhost path.
//
// umockdev (0.17) fakes sysfs and /dev; a process running under umockdev-wrapper that opens the
// device node gets a plain file, and every ioctl() on it is forwarded over a Unix socket to the
// UMockdevIoctlBase attached to that node in the test process (umockdev_testbed_attach_ioctl). This
// class is such a handler: it answers the ioctls libusb 1.0.26's Linux backend and usbredirhost
// 0.13 issue (see the .cpp) the way the kernel's usbfs driver (drivers/usb/core/devio.c) would for
// a small full-speed HID device, and records what was asked (opens, claims, kernel-driver
// detach/reattach, control requests) so tests can check that a device was or was not touched.
//
// How URB completion reaches libusb: libusb polls the device fd for POLLOUT and, when it is set,
// reaps with USBDEVFS_REAPURBNDELAY until EAGAIN. umockdev's node is a regular file, for which
// poll() always reports POLLOUT, so libusb's event loop would never sleep while a device is open
// (it reaps in a loop: a test artefact, not product CPU). makePollable() replaces the node by a
// FIFO whose pipe this class keeps full while no URB is waiting to be reaped (poll() then blocks,
// as on a real usbfs fd) and empties when one is (POLLOUT). A reap that still finds nothing (a
// race, or the device is gone: libusb keeps polling until it closes the fd, where the kernel
// would raise POLLERR) is answered after `idleReapDelayMs`, so that loop cannot burn a core.
#include <QByteArray>
#include <QList>
#include <QString>
#include <atomic>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <vector>

typedef struct _UMockdevIoctlBase UMockdevIoctlBase;
typedef struct _UMockdevIoctlClient UMockdevIoctlClient;
typedef struct _UMockdevTestbed UMockdevTestbed;

namespace saffron::test {

struct UsbdevfsDeviceModel {
    uint16_t vendorId = 0x1209; // pid.codes test VID
    uint16_t productId = 0x5350;
    QString manufacturer = QStringLiteral("Saffron");
    QString product = QStringLiteral("Saffron Test Pad");
    QString serial = QStringLiteral("0002");
    // The kernel driver bound to interface 0 before anyone claims it (what GETDRIVER reports).
    QString kernelDriver = QStringLiteral("usbhid");
};

// What the emulated device saw, for assertions. Counters only grow.
struct UsbdevfsLog {
    int opens = 0;            // device node opened (an ioctl client connected)
    int claims = 0;           // CLAIMINTERFACE or DISCONNECT_CLAIM that succeeded
    int kernelDetaches = 0;   // the kernel driver was unbound (IOCTL DISCONNECT or DISCONNECT_CLAIM)
    int kernelReattaches = 0; // IOCTL CONNECT: the kernel driver bound again
    int releases = 0;         // RELEASEINTERFACE
    int resets = 0;           // RESET
    int controlTransfers = 0; // control URBs answered
    int urbsSubmitted = 0;
    int urbsReaped = 0;
    int urbsDiscarded = 0;
    int idleReaps = 0; // reaps that found nothing (EAGAIN / ENODEV)
    QList<QString> unknownIoctls;
};

class UsbdevfsDevice {
public:
    explicit UsbdevfsDevice(UsbdevfsDeviceModel model = {});
    ~UsbdevfsDevice();
    UsbdevfsDevice(const UsbdevfsDevice&) = delete;
    UsbdevfsDevice& operator=(const UsbdevfsDevice&) = delete;

    // The bytes of the sysfs `descriptors` attribute: device descriptor, then the configuration
    // descriptor with its interface, HID and endpoint descriptors (USB 2.0 9.6, HID 1.11 6.2.1).
    QByteArray sysfsDescriptors() const;
    const UsbdevfsDeviceModel& model() const { return model_; }

    // Handles ioctls on `devnode` (e.g. "/dev/bus/usb/001/005"). Call before the device is
    // plugged (before anything can open the node).
    bool attachTo(UMockdevTestbed* testbed, const QString& devnode, QString* error);
    // Turns the node file umockdev created (`path`: under the testbed's root) into a FIFO this
    // object controls, see above. Call after the device is added, before anything opens it.
    // Without it the device works, but libusb's event thread spins while it is open.
    bool makePollable(const QString& path, QString* error);
    // Any thread. 0 answers at once: libusb's event loop then spins (see above).
    void setIdleReapDelayMs(int ms) { idleReapDelayMs_.store(ms); }

    // The device was pulled out: pending URBs complete with -ESHUTDOWN, as the kernel's
    // usbfs does on disconnect; later ioctls fail with ENODEV (reaping still returns the
    // completed URBs, USBDEVFS_CAP_REAP_AFTER_DISCONNECT).
    void unplug();
    // Completes one pending interrupt IN URB on 0x81 with `report` (a "key press"). False if
    // the host has none queued.
    bool sendInterruptReport(const QByteArray& report);

    UsbdevfsLog log() const;
    // Which driver interface 0 is bound to now: the kernel driver's name, "usbfs" (claimed by a
    // program), or empty (none).
    QString interfaceDriver() const;
    int pendingUrbs() const;

private:
    struct Urb {
        uint64_t clientAddr = 0;
        uint8_t type = 0;
        uint8_t endpoint = 0;
        int status = 0;
        QByteArray data; // IN data to copy into the client's buffer on reap
        int actualLength = 0;
        int dataOffset = 0; // 8 for control transfers (after the setup packet)
    };
    struct ClientState {
        UMockdevIoctlClient* client = nullptr; // a counted reference
        bool claimed = false;
        std::vector<Urb> pending;
        std::deque<Urb> completed;
    };

    static int handleIoctlThunk(UMockdevIoctlBase* base, UMockdevIoctlClient* client, void* self);
    static void clientConnectedThunk(UMockdevIoctlBase* base, UMockdevIoctlClient* client, void* self);
    bool handleIoctl(UMockdevIoctlClient* client);
    ClientState& stateFor(UMockdevIoctlClient* client);
    // Each returns the ioctl result; *err is the errno for a -1 result.
    long submitUrb(UMockdevIoctlClient* client, ClientState& st, int* err);
    long reapUrb(UMockdevIoctlClient* client, ClientState& st, int* err);
    long discardUrb(UMockdevIoctlClient* client, ClientState& st, int* err);
    long usbfsIoctl(UMockdevIoctlClient* client, ClientState& st, int* err);
    long claim(ClientState& st, unsigned interface, int* err);
    bool claimedElsewhere(const ClientState& st) const;
    // Answers a control request: the IN data, or nullopt-like false to stall (-EPIPE).
    bool controlRequest(const uint8_t setup[8], QByteArray* in);
    void updateReadinessLocked();
    QByteArray stringDescriptor(uint8_t index) const;
    QByteArray reportDescriptor() const;
    QByteArray configDescriptor() const;
    QByteArray deviceDescriptor() const;

    const UsbdevfsDeviceModel model_;
    UMockdevIoctlBase* handler_ = nullptr;
    UMockdevTestbed* testbed_ = nullptr; // the testbed outlives this object (UsbdevfsTestbed)
    QByteArray devnode_;
    mutable std::mutex mutex_;
    std::map<UMockdevIoctlClient*, ClientState> clients_;
    QString driver_; // interface 0's driver, see interfaceDriver()
    bool gone_ = false;
    std::atomic<int> idleReapDelayMs_{1};
    int pipeFd_ = -1; // both ends of the node's FIFO (O_RDWR), -1 before makePollable()
    bool pipeFull_ = false;
    UsbdevfsLog log_;
};

} // namespace saffron::test
