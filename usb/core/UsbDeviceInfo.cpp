#include "UsbDeviceInfo.h"

#include "UsbIds.h"

#include <QFile>
#include <array>
#include <libusb.h>
#include <memory>

namespace saffron {

namespace {

// A device that answers at all answers a GET_DESCRIPTOR within a few ms; a short timeout keeps a
// wedged device from stalling the monitor for long.
constexpr unsigned kStringTimeoutMs = 200;
// Strings are cut to this many characters; the descriptor cannot hold more than 126 anyway.
constexpr qsizetype kMaxStringLength = 126;
// bmRequestType of GET_DESCRIPTOR (USB 2.0 9.4.3): device-to-host, standard, recipient device.
constexpr std::uint8_t kGetDescriptorRequestType = 0x80;

struct ConfigDeleter {
    void operator()(libusb_config_descriptor* config) const { libusb_free_config_descriptor(config); }
};
struct HandleDeleter {
    void operator()(libusb_device_handle* handle) const { libusb_close(handle); }
};

UsbSpeed speedOf(int speed) {
    switch (speed) {
    case LIBUSB_SPEED_LOW:
        return UsbSpeed::Low;
    case LIBUSB_SPEED_FULL:
        return UsbSpeed::Full;
    case LIBUSB_SPEED_HIGH:
        return UsbSpeed::High;
    case LIBUSB_SPEED_SUPER:
        return UsbSpeed::Super;
    case LIBUSB_SPEED_SUPER_PLUS:
        return UsbSpeed::SuperPlus;
    default:
        return UsbSpeed::Unknown;
    }
}

// Reads string descriptor `index` in language `langId`; empty on any failure.
QString readString(libusb_device_handle* handle, quint8 index, quint16 langId) {
    if (index == 0)
        return {};
    std::array<std::uint8_t, 255> buffer{};
    const int got = libusb_control_transfer(handle, kGetDescriptorRequestType, LIBUSB_REQUEST_GET_DESCRIPTOR,
                                            quint16((LIBUSB_DT_STRING << 8) | index), langId, buffer.data(),
                                            quint16(buffer.size()), kStringTimeoutMs);
    if (got <= 0)
        return {};
    return decodeUsbStringDescriptor(std::span(buffer).first(std::size_t(got)));
}

// The first language the device offers (string descriptor 0 lists LANGIDs), or 0.
quint16 firstLanguage(libusb_device_handle* handle) {
    std::array<std::uint8_t, 255> buffer{};
    const int got = libusb_control_transfer(handle, kGetDescriptorRequestType, LIBUSB_REQUEST_GET_DESCRIPTOR,
                                            quint16(LIBUSB_DT_STRING << 8), 0, buffer.data(),
                                            quint16(buffer.size()), kStringTimeoutMs);
    if (got < 4 || buffer[1] != LIBUSB_DT_STRING || buffer[0] < 4 || buffer[0] > got)
        return 0;
    return quint16(buffer[2] | (buffer[3] << 8));
}

void readStrings(libusb_device* device, const libusb_device_descriptor& descriptor, UsbDeviceInfo& info) {
    if (descriptor.iManufacturer == 0 && descriptor.iProduct == 0)
        return;
    libusb_device_handle* raw = nullptr;
    // Opening fails at once without permission on the device node, which is the common case for
    // devices nobody set up for redirection; then usb.ids names the device.
    if (libusb_open(device, &raw) != LIBUSB_SUCCESS)
        return;
    std::unique_ptr<libusb_device_handle, HandleDeleter> handle(raw);
    const quint16 langId = firstLanguage(handle.get());
    if (langId == 0)
        return;
    info.manufacturer = readString(handle.get(), descriptor.iManufacturer, langId);
    info.product = readString(handle.get(), descriptor.iProduct, langId);
}

// One sysfs string attribute of a device ("manufacturer", "product"). The kernel copies them
// from the device at enumeration; they are still device-supplied text, so they are bounded and
// stripped of control characters like the strings read from the device itself.
QString readSysfsString(const QString& portPath, const char* attribute) {
    QFile file(QStringLiteral("/sys/bus/usb/devices/%1/%2").arg(portPath, QLatin1String(attribute)));
    if (!file.open(QIODevice::ReadOnly))
        return {};
    QString text = QString::fromUtf8(file.read(4 * kMaxStringLength));
    text.removeIf([](QChar c) { return c.category() == QChar::Other_Control; });
    return text.left(kMaxStringLength).trimmed();
}

} // namespace

QString usbSpeedName(UsbSpeed speed) {
    switch (speed) {
    case UsbSpeed::Low:
        return QStringLiteral("1.5 Mbit/s");
    case UsbSpeed::Full:
        return QStringLiteral("12 Mbit/s");
    case UsbSpeed::High:
        return QStringLiteral("480 Mbit/s");
    case UsbSpeed::Super:
        return QStringLiteral("5 Gbit/s");
    case UsbSpeed::SuperPlus:
        return QStringLiteral("10 Gbit/s");
    case UsbSpeed::Unknown:
        break;
    }
    return QStringLiteral("unknown speed");
}

bool UsbDeviceInfo::hasClass(quint8 cls) const {
    if (deviceClass == cls)
        return true;
    for (const auto& interface : interfaces) {
        if (interface.cls == cls)
            return true;
    }
    return false;
}

bool UsbDeviceInfo::isHidInputDevice() const {
    // HID 1.11 4.2/4.3: subclass 1 = boot interface, protocol 1 = keyboard, 2 = mouse.
    auto isInput = [](quint8 subclass, quint8 protocol) {
        return subclass == 1 || protocol == 1 || protocol == 2;
    };
    if (deviceClass == usbclass::kHid && isInput(deviceSubclass, deviceProtocol))
        return true;
    for (const auto& interface : interfaces) {
        if (interface.cls == usbclass::kHid && isInput(interface.subclass, interface.protocol))
            return true;
    }
    return false;
}

QString UsbDeviceInfo::vendorProductString() const {
    return QStringLiteral("%1:%2")
        .arg(vendorId, 4, 16, QLatin1Char('0'))
        .arg(productId, 4, 16, QLatin1Char('0'));
}

QString decodeUsbStringDescriptor(std::span<const std::uint8_t> bytes) {
    if (bytes.size() < 2 || bytes[1] != LIBUSB_DT_STRING)
        return {};
    // bLength covers the header; a device may send more bytes than it declares, or fewer.
    const std::size_t length = std::min<std::size_t>(bytes[0], bytes.size());
    if (length < 2)
        return {};
    const auto text = bytes.subspan(2, (length - 2) & ~std::size_t(1));
    QString out;
    out.reserve(qsizetype(text.size() / 2));
    for (std::size_t i = 0; i + 1 < text.size(); i += 2) {
        const char16_t unit = char16_t(text[i] | (text[i + 1] << 8));
        if (unit == 0)
            break;
        out.append(QChar(unit));
    }
    // Unpaired surrogates and control characters are not for display.
    for (qsizetype i = 0; i < out.size(); ++i) {
        if (out[i].isHighSurrogate() && i + 1 < out.size() && out[i + 1].isLowSurrogate()) {
            ++i;
            continue;
        }
        if (out[i].isSurrogate() || out[i].category() == QChar::Other_Control)
            out[i] = QChar(u'?');
    }
    return out.left(kMaxStringLength).trimmed();
}

bool readUsbDeviceInfo(libusb_device* device, const UsbIds* ids, UsbStringMode mode, UsbDeviceInfo& out) {
    libusb_device_descriptor descriptor{};
    if (libusb_get_device_descriptor(device, &descriptor) != LIBUSB_SUCCESS)
        return false;

    UsbDeviceInfo info;
    info.bus = libusb_get_bus_number(device);
    info.address = libusb_get_device_address(device);
    // USB 3 allows a depth of 7 tiers below the root hub.
    std::array<std::uint8_t, 7> ports{};
    const int depth = libusb_get_port_numbers(device, ports.data(), int(ports.size()));
    if (depth > 0) {
        info.portPath = QString::number(info.bus) + u'-';
        for (int i = 0; i < depth; ++i) {
            if (i > 0)
                info.portPath += u'.';
            info.portPath += QString::number(ports[std::size_t(i)]);
        }
        info.id = info.portPath;
    } else {
        info.id = QStringLiteral("%1:%2").arg(info.bus).arg(info.address);
    }
    info.vendorId = descriptor.idVendor;
    info.productId = descriptor.idProduct;
    info.bcdDevice = descriptor.bcdDevice;
    info.bcdUsb = descriptor.bcdUSB;
    info.deviceClass = descriptor.bDeviceClass;
    info.deviceSubclass = descriptor.bDeviceSubClass;
    info.deviceProtocol = descriptor.bDeviceProtocol;
    info.speed = speedOf(libusb_get_device_speed(device));

    // The active configuration comes from the kernel's cached descriptors (sysfs on Linux): no I/O
    // to the device. An unconfigured device has no interfaces to classify it by.
    libusb_config_descriptor* rawConfig = nullptr;
    if (libusb_get_active_config_descriptor(device, &rawConfig) == LIBUSB_SUCCESS && rawConfig) {
        std::unique_ptr<libusb_config_descriptor, ConfigDeleter> config(rawConfig);
        for (int i = 0; i < config->bNumInterfaces; ++i) {
            const libusb_interface& interface = config->interface[i];
            if (interface.num_altsetting < 1)
                continue;
            const libusb_interface_descriptor& alt = interface.altsetting[0];
            info.interfaces.append(UsbInterfaceClass{alt.bInterfaceNumber, alt.bInterfaceClass,
                                                     alt.bInterfaceSubClass, alt.bInterfaceProtocol});
        }
    }

    if (mode == UsbStringMode::ReadFromDevice) {
        readStrings(device, descriptor, info);
    } else if (mode == UsbStringMode::KernelCache && !info.portPath.isEmpty()) {
        info.manufacturer = readSysfsString(info.portPath, "manufacturer");
        info.product = readSysfsString(info.portPath, "product");
    }
    if (ids) {
        if (info.manufacturer.isEmpty())
            info.manufacturer = ids->vendorName(info.vendorId);
        if (info.product.isEmpty())
            info.product = ids->productName(info.vendorId, info.productId);
    }

    if (!info.product.isEmpty())
        info.displayName =
            info.manufacturer.isEmpty() ? info.product : info.manufacturer + u' ' + info.product;
    else if (!info.manufacturer.isEmpty())
        info.displayName = info.manufacturer + u' ' + info.vendorProductString();
    else
        info.displayName = QStringLiteral("USB device %1").arg(info.vendorProductString());
    out = std::move(info);
    return true;
}

} // namespace saffron
