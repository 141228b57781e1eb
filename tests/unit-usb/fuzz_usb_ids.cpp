// libFuzzer target for the usb.ids parser (UsbIds::parse): any bytes, never a crash, and names
// within the length limit.
#include "core/UsbIds.h"

#include <cstddef>
#include <cstdint>
#include <cstdlib>

using namespace saffron;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto db = UsbIds::parse(QByteArrayView(reinterpret_cast<const char*>(data), qsizetype(size)));
    for (const auto& vendor : db.vendors) {
        if (vendor.name.isEmpty() || vendor.name.size() > 256)
            std::abort();
        for (const auto& product : vendor.products) {
            if (product.isEmpty() || product.size() > 256)
                std::abort();
        }
    }
    return 0;
}
