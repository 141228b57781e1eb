#pragma once

#include "input/Scancodes.h"

#include <QKeyEvent>
#include <optional>

namespace saffron {

// Maps a Qt key event to the AT scan code the guest should see. Native scan codes are used
// where the platform reports them (they follow the physical key, whatever the local layout);
// the Qt key is only a fallback.
std::optional<AtScancode> scancodeForKeyEvent(const QKeyEvent& event);

// SPICE_MOUSE_BUTTON_MASK_* for Qt buttons, and the SPICE_MOUSE_BUTTON_* of one button.
uint16_t spiceButtonMask(Qt::MouseButtons buttons);
uint8_t spiceButton(Qt::MouseButton button);

} // namespace saffron
