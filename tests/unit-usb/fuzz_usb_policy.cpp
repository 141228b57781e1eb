// libFuzzer target for the USB policy parsers: the first byte picks the spice-gtk filter string
// parser (UsbFilter, wrapping usbredirfilter) or our readable policy form (UsbPolicy); whatever
// parses is then used for decisions on fixed devices, and a parsed filter must survive a round
// trip through its canonical string.
#include "UsbTestDevices.h"
#include "core/UsbFilter.h"
#include "core/UsbPolicy.h"

#include <cstddef>
#include <cstdint>
#include <cstdlib>

using namespace saffron;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 1 || size > 64 * 1024)
        return 0;
    const QString text = QString::fromUtf8(reinterpret_cast<const char*>(data) + 1, qsizetype(size - 1));
    const UsbDeviceInfo devices[] = {test::usbStick(), test::hidKeyboard(), test::headset()};
    if (data[0] & 1) {
        const auto filter = UsbFilter::parse(text);
        if (!filter)
            return 0;
        for (const auto& device : devices)
            filter->check(device);
        const auto again = UsbFilter::parse(filter->toString());
        if (!again || again->rules() != filter->rules())
            std::abort();
    } else {
        const auto policy = UsbPolicy::parse(text);
        if (!policy)
            return 0;
        for (const auto& device : devices) {
            const auto decision = policy->decide(device);
            // Invariants: a reason always; automatic only if allowed; never the keyboard.
            if (decision.reason.isEmpty())
                std::abort();
            if ((decision.autoRedirect || decision.redirectOnConnect) && !decision.mayRedirect)
                std::abort();
            if (device.isHidInputDevice() && (decision.autoRedirect || decision.redirectOnConnect))
                std::abort();
        }
    }
    return 0;
}
