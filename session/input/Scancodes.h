#pragma once

#include <cstdint>
#include <optional>

namespace saffron {

// PC AT set-1 scan codes as the inputs channel sends them (spice-server inputs-channel.c feeds
// the bytes of KEY_DOWN/KEY_UP codes, low byte first, to the guest's i8042). Extended keys are
// written 0xE0xx; the 0x80 release bit is added when sending.
using AtScancode = uint16_t;

// Linux evdev key code (linux/input-event-codes.h) to AT set 1. Qt reports evdev + 8 as the
// native scan code on xcb and wayland, the evdev code itself on eglfs/linuxfb.
std::optional<AtScancode> scancodeFromEvdev(uint32_t evdevCode);

// Fallback when the platform gives no native scan code (offscreen, VNC, tests): a Qt::Key
// value mapped for a US layout. Letters and digits are layout-dependent by nature; this is only
// used where nothing better exists.
std::optional<AtScancode> scancodeFromQtKey(int qtKey);

// The Pause key has no make/break pair: it is the fixed sequence E1 1D 45 E1 9D C5, sent as raw
// bytes with KEY_SCANCODE.
inline constexpr uint8_t kPauseSequence[] = {0xe1, 0x1d, 0x45, 0xe1, 0x9d, 0xc5};
inline constexpr AtScancode kPauseMarker = 0xe11d;

} // namespace saffron
