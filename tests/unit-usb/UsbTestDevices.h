#pragma once

// Device models shared by the USB tests: what libusb reports for a SanDisk Cruzer Blade USB stick
// and a Logitech K120 keyboard (descriptors in test_usb_umockdev.cpp match these).
#include "core/UsbDeviceInfo.h"

namespace saffron::test {

inline UsbDeviceInfo usbStick(QString portPath = QStringLiteral("1-1.2")) {
    UsbDeviceInfo d;
    d.id = portPath;
    d.portPath = portPath;
    d.bus = 1;
    d.address = 3;
    d.vendorId = 0x0781;
    d.productId = 0x5567;
    d.bcdDevice = 0x0100;
    d.bcdUsb = 0x0200;
    d.deviceClass = 0;
    // Mass storage, SCSI transparent command set, bulk-only transport.
    d.interfaces = {UsbInterfaceClass{0, 0x08, 0x06, 0x50}};
    d.speed = UsbSpeed::High;
    return d;
}

inline UsbDeviceInfo hidKeyboard(QString portPath = QStringLiteral("1-2")) {
    UsbDeviceInfo d;
    d.id = portPath;
    d.portPath = portPath;
    d.bus = 1;
    d.address = 4;
    d.vendorId = 0x046d;
    d.productId = 0xc31c;
    d.bcdDevice = 0x6410;
    d.bcdUsb = 0x0110;
    d.deviceClass = 0;
    // Boot keyboard, plus a non-boot HID interface for the media keys.
    d.interfaces = {UsbInterfaceClass{0, 0x03, 0x01, 0x01}, UsbInterfaceClass{1, 0x03, 0x00, 0x00}};
    d.speed = UsbSpeed::Low;
    return d;
}

// A USB headset: audio control + streaming, and a non-boot HID interface for its volume buttons.
inline UsbDeviceInfo headset() {
    UsbDeviceInfo d;
    d.id = QStringLiteral("2-1");
    d.portPath = d.id;
    d.bus = 2;
    d.address = 2;
    d.vendorId = 0x046d;
    d.productId = 0x0a44;
    d.interfaces = {UsbInterfaceClass{0, 0x01, 0x01, 0x00}, UsbInterfaceClass{1, 0x01, 0x02, 0x00},
                    UsbInterfaceClass{2, 0x03, 0x00, 0x00}};
    return d;
}

} // namespace saffron::test
