#pragma once

#include <functional>
#include <libusb.h>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

namespace saffron {

struct UsbDeviceUnref {
    void operator()(libusb_device* device) const { libusb_unref_device(device); }
};
// One counted reference to a libusb_device: keeps the device's descriptors and topology valid
// after it has been unplugged.
using UsbDevicePtr = std::unique_ptr<libusb_device, UsbDeviceUnref>;

// Takes a new reference on `device` (nullptr stays nullptr).
UsbDevicePtr usbDeviceRef(libusb_device* device);

// A libusb context and the one thread that runs its event loop. Monitor and redirection share it:
// libusb allows one event handler per context at a time, and hotplug callbacks as well as
// asynchronous transfer completions run on this thread.
//
// Hotplug: the context registers a single libusb hotplug callback and fans it out to listeners.
// Listeners run on the event thread and must not block (post work elsewhere). Removing a listener
// waits until it is not running, so an object may remove its listener in its destructor and know
// it is never called afterwards.
class UsbContext {
public:
    // Throws std::runtime_error when libusb cannot be initialised.
    UsbContext();
    ~UsbContext();
    UsbContext(const UsbContext&) = delete;
    UsbContext& operator=(const UsbContext&) = delete;

    libusb_context* raw() const { return context_.get(); }
    // False where libusb has no hotplug support (then only enumeration works).
    bool hasHotplug() const { return hotplugHandle_ != 0; }

    using HotplugListener = std::function<void(libusb_device* device, bool arrived)>;
    // Returns a token for removeHotplugListener. `device` is only borrowed for the call: take a
    // reference (usbDeviceRef) to keep it.
    int addHotplugListener(HotplugListener listener);
    // Must not be called from inside a listener.
    void removeHotplugListener(int token);

private:
    struct ContextDeleter {
        void operator()(libusb_context* context) const { libusb_exit(context); }
    };
    static int LIBUSB_CALL onHotplug(libusb_context*, libusb_device* device, libusb_hotplug_event event,
                                     void* self);
    void runEvents();

    std::unique_ptr<libusb_context, ContextDeleter> context_;
    libusb_hotplug_callback_handle hotplugHandle_ = 0;
    std::mutex listenersMutex_;
    std::map<int, HotplugListener> listeners_;
    int nextToken_ = 1;
    // libusb's completion flag: set (atomically) to 1 to make the event thread leave its loop.
    int completed_ = 0;
    std::thread eventThread_;
};

} // namespace saffron
