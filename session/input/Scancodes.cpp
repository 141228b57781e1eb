#include "input/Scancodes.h"

#include <Qt>

namespace saffron {

std::optional<AtScancode> scancodeFromEvdev(uint32_t code) {
    // Codes 1..88 (Esc .. F12, keypad, 102nd key) are numerically identical in evdev and set 1:
    // the kernel's evdev numbering was taken from the AT keyboard.
    if (code >= 1 && code <= 88 && code != 84 && code != 85)
        return AtScancode(code);
    switch (code) {
    case 89:
        return 0x73; // KEY_RO
    case 92:
        return 0x79; // KEY_HENKAN
    case 93:
        return 0x70; // KEY_KATAKANAHIRAGANA
    case 94:
        return 0x7b; // KEY_MUHENKAN
    case 96:
        return 0xe01c; // KEY_KPENTER
    case 97:
        return 0xe01d; // KEY_RIGHTCTRL
    case 98:
        return 0xe035; // KEY_KPSLASH
    case 99:
        return 0xe037; // KEY_SYSRQ (Print Screen)
    case 100:
        return 0xe038; // KEY_RIGHTALT (AltGr)
    case 102:
        return 0xe047; // KEY_HOME
    case 103:
        return 0xe048; // KEY_UP
    case 104:
        return 0xe049; // KEY_PAGEUP
    case 105:
        return 0xe04b; // KEY_LEFT
    case 106:
        return 0xe04d; // KEY_RIGHT
    case 107:
        return 0xe04f; // KEY_END
    case 108:
        return 0xe050; // KEY_DOWN
    case 109:
        return 0xe051; // KEY_PAGEDOWN
    case 110:
        return 0xe052; // KEY_INSERT
    case 111:
        return 0xe053; // KEY_DELETE
    case 113:
        return 0xe020; // KEY_MUTE
    case 114:
        return 0xe02e; // KEY_VOLUMEDOWN
    case 115:
        return 0xe030; // KEY_VOLUMEUP
    case 116:
        return 0xe05e; // KEY_POWER
    case 117:
        return 0x59; // KEY_KPEQUAL
    case 119:
        return kPauseMarker; // KEY_PAUSE
    case 121:
        return 0x7e; // KEY_KPCOMMA
    case 124:
        return 0x7d; // KEY_YEN
    case 125:
        return 0xe05b; // KEY_LEFTMETA
    case 126:
        return 0xe05c; // KEY_RIGHTMETA
    case 127:
        return 0xe05d; // KEY_COMPOSE (Menu)
    case 142:
        return 0xe05f; // KEY_SLEEP
    case 143:
        return 0xe063; // KEY_WAKEUP
    case 163:
        return 0xe019; // KEY_NEXTSONG
    case 164:
        return 0xe022; // KEY_PLAYPAUSE
    case 165:
        return 0xe010; // KEY_PREVIOUSSONG
    case 166:
        return 0xe024; // KEY_STOPCD
    default:
        return std::nullopt;
    }
}

std::optional<AtScancode> scancodeFromQtKey(int key) {
    static constexpr struct {
        int key;
        AtScancode code;
    } table[] = {
        {Qt::Key_Escape, 0x01},
        {Qt::Key_1, 0x02},
        {Qt::Key_Exclam, 0x02},
        {Qt::Key_2, 0x03},
        {Qt::Key_At, 0x03},
        {Qt::Key_3, 0x04},
        {Qt::Key_NumberSign, 0x04},
        {Qt::Key_4, 0x05},
        {Qt::Key_Dollar, 0x05},
        {Qt::Key_5, 0x06},
        {Qt::Key_Percent, 0x06},
        {Qt::Key_6, 0x07},
        {Qt::Key_AsciiCircum, 0x07},
        {Qt::Key_7, 0x08},
        {Qt::Key_Ampersand, 0x08},
        {Qt::Key_8, 0x09},
        {Qt::Key_Asterisk, 0x09},
        {Qt::Key_9, 0x0a},
        {Qt::Key_ParenLeft, 0x0a},
        {Qt::Key_0, 0x0b},
        {Qt::Key_ParenRight, 0x0b},
        {Qt::Key_Minus, 0x0c},
        {Qt::Key_Underscore, 0x0c},
        {Qt::Key_Equal, 0x0d},
        {Qt::Key_Plus, 0x0d},
        {Qt::Key_Backspace, 0x0e},
        {Qt::Key_Tab, 0x0f},
        {Qt::Key_Backtab, 0x0f},
        {Qt::Key_Q, 0x10},
        {Qt::Key_W, 0x11},
        {Qt::Key_E, 0x12},
        {Qt::Key_R, 0x13},
        {Qt::Key_T, 0x14},
        {Qt::Key_Y, 0x15},
        {Qt::Key_U, 0x16},
        {Qt::Key_I, 0x17},
        {Qt::Key_O, 0x18},
        {Qt::Key_P, 0x19},
        {Qt::Key_BracketLeft, 0x1a},
        {Qt::Key_BraceLeft, 0x1a},
        {Qt::Key_BracketRight, 0x1b},
        {Qt::Key_BraceRight, 0x1b},
        {Qt::Key_Return, 0x1c},
        {Qt::Key_Control, 0x1d},
        {Qt::Key_A, 0x1e},
        {Qt::Key_S, 0x1f},
        {Qt::Key_D, 0x20},
        {Qt::Key_F, 0x21},
        {Qt::Key_G, 0x22},
        {Qt::Key_H, 0x23},
        {Qt::Key_J, 0x24},
        {Qt::Key_K, 0x25},
        {Qt::Key_L, 0x26},
        {Qt::Key_Semicolon, 0x27},
        {Qt::Key_Colon, 0x27},
        {Qt::Key_Apostrophe, 0x28},
        {Qt::Key_QuoteDbl, 0x28},
        {Qt::Key_QuoteLeft, 0x29},
        {Qt::Key_AsciiTilde, 0x29},
        {Qt::Key_Shift, 0x2a},
        {Qt::Key_Backslash, 0x2b},
        {Qt::Key_Bar, 0x2b},
        {Qt::Key_Z, 0x2c},
        {Qt::Key_X, 0x2d},
        {Qt::Key_C, 0x2e},
        {Qt::Key_V, 0x2f},
        {Qt::Key_B, 0x30},
        {Qt::Key_N, 0x31},
        {Qt::Key_M, 0x32},
        {Qt::Key_Comma, 0x33},
        {Qt::Key_Less, 0x33},
        {Qt::Key_Period, 0x34},
        {Qt::Key_Greater, 0x34},
        {Qt::Key_Slash, 0x35},
        {Qt::Key_Question, 0x35},
        {Qt::Key_Alt, 0x38},
        {Qt::Key_Space, 0x39},
        {Qt::Key_CapsLock, 0x3a},
        {Qt::Key_F1, 0x3b},
        {Qt::Key_F2, 0x3c},
        {Qt::Key_F3, 0x3d},
        {Qt::Key_F4, 0x3e},
        {Qt::Key_F5, 0x3f},
        {Qt::Key_F6, 0x40},
        {Qt::Key_F7, 0x41},
        {Qt::Key_F8, 0x42},
        {Qt::Key_F9, 0x43},
        {Qt::Key_F10, 0x44},
        {Qt::Key_NumLock, 0x45},
        {Qt::Key_ScrollLock, 0x46},
        {Qt::Key_F11, 0x57},
        {Qt::Key_F12, 0x58},
        {Qt::Key_Enter, 0xe01c},
        {Qt::Key_AltGr, 0xe038},
        {Qt::Key_Print, 0xe037},
        {Qt::Key_Home, 0xe047},
        {Qt::Key_Up, 0xe048},
        {Qt::Key_PageUp, 0xe049},
        {Qt::Key_Left, 0xe04b},
        {Qt::Key_Right, 0xe04d},
        {Qt::Key_End, 0xe04f},
        {Qt::Key_Down, 0xe050},
        {Qt::Key_PageDown, 0xe051},
        {Qt::Key_Insert, 0xe052},
        {Qt::Key_Delete, 0xe053},
        {Qt::Key_Meta, 0xe05b},
        {Qt::Key_Super_L, 0xe05b},
        {Qt::Key_Super_R, 0xe05c},
        {Qt::Key_Menu, 0xe05d},
        {Qt::Key_Pause, kPauseMarker},
    };
    for (const auto& e : table)
        if (e.key == key)
            return e.code;
    return std::nullopt;
}

} // namespace saffron
