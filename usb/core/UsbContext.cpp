#include "UsbContext.h"

#include <atomic>
#include <stdexcept>
#include <string>

namespace saffron {

UsbDevicePtr usbDeviceRef(libusb_device* device) {
    return UsbDevicePtr(device ? libusb_ref_device(device) : nullptr);
}

UsbContext::UsbContext() {
    libusb_context* raw = nullptr;
    const int rc = libusb_init(&raw);
    if (rc != LIBUSB_SUCCESS)
        throw std::runtime_error(std::string("libusb_init failed: ") + libusb_error_name(rc));
    context_.reset(raw);

    if (libusb_has_capability(LIBUSB_CAP_HAS_HOTPLUG)) {
        // No LIBUSB_HOTPLUG_ENUMERATE: devices present at start are enumerated by the monitor
        // itself, so arrival events only mean "plugged in now".
        const int events = LIBUSB_HOTPLUG_EVENT_DEVICE_ARRIVED | LIBUSB_HOTPLUG_EVENT_DEVICE_LEFT;
        libusb_hotplug_callback_handle handle = 0;
        if (libusb_hotplug_register_callback(raw, static_cast<libusb_hotplug_event>(events),
                                             static_cast<libusb_hotplug_flag>(0), LIBUSB_HOTPLUG_MATCH_ANY,
                                             LIBUSB_HOTPLUG_MATCH_ANY, LIBUSB_HOTPLUG_MATCH_ANY,
                                             &UsbContext::onHotplug, this, &handle) == LIBUSB_SUCCESS)
            hotplugHandle_ = handle;
    }
    eventThread_ = std::thread([this] { runEvents(); });
}

UsbContext::~UsbContext() {
    if (hotplugHandle_ != 0)
        libusb_hotplug_deregister_callback(context_.get(), hotplugHandle_);
    // libusb checks the completion flag under its event lock before it waits, and the interrupt
    // makes a call that is already waiting in poll() return at once; our loop then sees the flag.
    std::atomic_ref<int>(completed_).store(1);
    libusb_interrupt_event_handler(context_.get());
    if (eventThread_.joinable())
        eventThread_.join();
    // context_ is released last (libusb_exit), after the thread that used it is gone.
}

void UsbContext::runEvents() {
    while (std::atomic_ref<int>(completed_).load() == 0) {
        // A bounded wait keeps shutdown prompt even if an interrupt were lost.
        timeval timeout{1, 0};
        libusb_handle_events_timeout_completed(context_.get(), &timeout, &completed_);
    }
}

int UsbContext::addHotplugListener(HotplugListener listener) {
    std::lock_guard lock(listenersMutex_);
    const int token = nextToken_++;
    listeners_.emplace(token, std::move(listener));
    return token;
}

void UsbContext::removeHotplugListener(int token) {
    // Listeners run with the mutex held, so once we own it no call to this listener is running.
    std::lock_guard lock(listenersMutex_);
    listeners_.erase(token);
}

int LIBUSB_CALL UsbContext::onHotplug(libusb_context*, libusb_device* device, libusb_hotplug_event event,
                                      void* self) {
    auto* context = static_cast<UsbContext*>(self);
    const bool arrived = event == LIBUSB_HOTPLUG_EVENT_DEVICE_ARRIVED;
    std::lock_guard lock(context->listenersMutex_);
    for (const auto& [token, listener] : context->listeners_)
        listener(device, arrived);
    return 0; // stay registered
}

} // namespace saffron
