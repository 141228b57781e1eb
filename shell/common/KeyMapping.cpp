#include "common/KeyMapping.h"

#include <QGuiApplication>
#include <spice/enums.h>

namespace saffron {

std::optional<AtScancode> scancodeForKeyEvent(const QKeyEvent& event) {
    const quint32 native = event.nativeScanCode();
    static const QString platform = QGuiApplication::platformName();
    if (native != 0) {
        // xcb and wayland report X keycodes, which are evdev codes + 8; eglfs and linuxfb read
        // evdev directly.
        if (platform == QLatin1String("xcb") || platform.startsWith(QLatin1String("wayland"))) {
            if (native >= 8)
                if (auto c = scancodeFromEvdev(native - 8))
                    return c;
        } else if (platform == QLatin1String("eglfs") || platform == QLatin1String("linuxfb")) {
            if (auto c = scancodeFromEvdev(native))
                return c;
        }
    }
    return scancodeFromQtKey(event.key());
}

uint16_t spiceButtonMask(Qt::MouseButtons b) {
    uint16_t m = 0;
    if (b & Qt::LeftButton)
        m |= SPICE_MOUSE_BUTTON_MASK_LEFT;
    if (b & Qt::MiddleButton)
        m |= SPICE_MOUSE_BUTTON_MASK_MIDDLE;
    if (b & Qt::RightButton)
        m |= SPICE_MOUSE_BUTTON_MASK_RIGHT;
    if (b & Qt::BackButton)
        m |= SPICE_MOUSE_BUTTON_MASK_SIDE;
    if (b & Qt::ForwardButton)
        m |= SPICE_MOUSE_BUTTON_MASK_EXTRA;
    return m;
}

uint8_t spiceButton(Qt::MouseButton b) {
    switch (b) {
    case Qt::LeftButton:
        return SPICE_MOUSE_BUTTON_LEFT;
    case Qt::MiddleButton:
        return SPICE_MOUSE_BUTTON_MIDDLE;
    case Qt::RightButton:
        return SPICE_MOUSE_BUTTON_RIGHT;
    case Qt::BackButton:
        return SPICE_MOUSE_BUTTON_SIDE;
    case Qt::ForwardButton:
        return SPICE_MOUSE_BUTTON_EXTRA;
    default:
        return SPICE_MOUSE_BUTTON_INVALID;
    }
}

} // namespace saffron
