#pragma once

#include <QList>
#include <QMetaType>
#include <QString>
#include <cstdint>
#include <span>

struct libusb_device;

namespace saffron {

class UsbIds;

enum class UsbSpeed { Unknown, Low, Full, High, Super, SuperPlus };
QString usbSpeedName(UsbSpeed speed);

// USB class codes the policy and the display care about (USB-IF "Defined Class Codes").
namespace usbclass {
constexpr quint8 kPerInterface = 0x00;
constexpr quint8 kHid = 0x03;
constexpr quint8 kMassStorage = 0x08;
constexpr quint8 kHub = 0x09;
constexpr quint8 kMiscellaneous = 0xef;
} // namespace usbclass

struct UsbInterfaceClass {
    quint8 number = 0;
    quint8 cls = 0;
    quint8 subclass = 0;
    quint8 protocol = 0;
    bool operator==(const UsbInterfaceClass&) const = default;
};

// What we know about one plugged-in device: a plain value, safe to copy across threads.
struct UsbDeviceInfo {
    // Stable for the shell while the device stays in its port: the port path ("1-2.3") where libusb
    // knows the topology, else "bus:address" ("1:7").
    QString id;
    int bus = 0;
    int address = 0;
    // "<bus>-<port>[.<port>...]", the kernel's sysfs name for the device; empty if unknown.
    QString portPath;
    quint16 vendorId = 0;
    quint16 productId = 0;
    quint16 bcdDevice = 0;
    quint16 bcdUsb = 0;
    quint8 deviceClass = 0;
    quint8 deviceSubclass = 0;
    quint8 deviceProtocol = 0;
    // Interfaces of the active configuration (alternate setting 0). A device of class 0 is
    // classified by these: an HID keyboard reports device class 0 and interface class 3.
    QList<UsbInterfaceClass> interfaces;
    UsbSpeed speed = UsbSpeed::Unknown;
    // From the device's string descriptors when it could be opened, else from usb.ids.
    QString manufacturer;
    QString product;
    QString displayName;

    // Device class, or any interface class, equals `cls`.
    bool hasClass(quint8 cls) const;
    // An HID boot device (interface subclass 1) or an HID keyboard/mouse (protocol 1/2): local
    // input that must keep working, never redirected automatically.
    bool isHidInputDevice() const;
    QString vendorProductString() const; // "0781:5567"
    bool operator==(const UsbDeviceInfo&) const = default;
};

// How much of a device to read.
enum class UsbStringMode {
    // The strings the kernel read at enumeration (sysfs manufacturer/product attributes, readable
    // by anyone): no device is opened, so a device the policy denies is never touched. usb.ids
    // fills in what the device did not report.
    KernelCache,
    // Open the device and read its manufacturer/product strings (short timeouts); fall back to
    // usb.ids when it cannot be opened (no permission, busy) or does not answer.
    ReadFromDevice,
    // Never open the device: names come from usb.ids only.
    DatabaseOnly,
};

// Builds the info from libusb's cached descriptors (no I/O) plus, per `mode`, the device's strings.
// Returns false if libusb has no device descriptor for it. `ids` may be null.
bool readUsbDeviceInfo(libusb_device* device, const UsbIds* ids, UsbStringMode mode, UsbDeviceInfo& out);

// Decodes a USB string descriptor (USB 2.0 9.6.7: bLength, bDescriptorType 3, UTF-16LE text) as
// received from the device; an empty string for anything malformed.
QString decodeUsbStringDescriptor(std::span<const std::uint8_t> bytes);

} // namespace saffron

Q_DECLARE_METATYPE(saffron::UsbDeviceInfo)
