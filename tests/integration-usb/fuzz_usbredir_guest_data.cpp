// libFuzzer target: the guest->host USB path as a hostile server drives it. The first byte picks
// how the rest enters:
//   0: a raw usbredir stream, fed to UsbRedirector (the real usbredirhost, no device) in one go;
//   1: the same stream cut into SPICE spicevmc DATA messages through UsbRedirChannel;
//   2: records [u8 kind][u16 length][body] dispatched to UsbRedirChannel as DATA (kind even) or
//      COMPRESSED_DATA (kind odd), whose output feeds UsbRedirector.
// Seeds (corpus/fuzz_usbredir_guest_data) are what QEMU 7.2's usb-redir sent in
// test_usbredir_qemu, prefixed with modes 0 and 1.
#include "channels/UsbRedirChannel.h"
#include "redir/UsbRedirector.h"

#include <QCoreApplication>
#include <cstddef>
#include <cstdint>
#include <libusb.h>
#include <spice/enums.h>

using namespace saffron;

namespace {
libusb_context* context() {
    static libusb_context* ctx = [] {
        libusb_context* c = nullptr;
        return libusb_init(&c) == 0 ? c : nullptr;
    }();
    return ctx;
}
} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 1)
        return 0;
    const uint8_t mode = data[0] % 3;
    const std::span<const uint8_t> rest(data + 1, size - 1);

    usb::UsbRedirector host(context());
    QString error;
    if (!host.start(&error))
        return 0;
    SessionOptions options;
    UsbRedirChannel channel(options, 0);
    QObject::connect(&channel, &UsbRedirChannel::dataReceived, &host, &usb::UsbRedirector::feedFromGuest,
                     Qt::DirectConnection);

    if (mode == 0) {
        host.feedFromGuest(QByteArray(reinterpret_cast<const char*>(rest.data()), qsizetype(rest.size())));
    } else if (mode == 1) {
        for (size_t pos = 0; pos < rest.size(); pos += 1000)
            channel.dispatch(SPICE_MSG_SPICEVMC_DATA,
                             rest.subspan(pos, std::min<size_t>(1000, rest.size() - pos)));
    } else {
        size_t pos = 0;
        while (pos + 3 <= rest.size()) {
            const uint8_t kind = rest[pos];
            const size_t len =
                std::min<size_t>(size_t(rest[pos + 1]) | size_t(rest[pos + 2]) << 8, rest.size() - pos - 3);
            channel.dispatch(kind % 2 ? SPICE_MSG_SPICEVMC_COMPRESSED_DATA : SPICE_MSG_SPICEVMC_DATA,
                             rest.subspan(pos + 3, len));
            pos += 3 + len;
        }
    }
    return 0;
}
