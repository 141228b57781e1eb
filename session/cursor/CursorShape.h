#pragma once

#include "display/Pixmap.h"

#include <QMetaType>
#include <cstdint>
#include <memory>
#include <span>

namespace saffron {

// A pointer image from the cursor channel, converted to premultiplied ARGB.
struct CursorShape {
    Pixmap image;
    int hotX = 0;
    int hotY = 0;
};
using CursorShapePtr = std::shared_ptr<const CursorShape>;

struct CursorHeader {
    uint64_t unique = 0;
    uint8_t type = 0; // SPICE_CURSOR_TYPE_*
    uint16_t width = 0;
    uint16_t height = 0;
    uint16_t hotX = 0;
    uint16_t hotY = 0;
};

// Decodes cursor data (spice.proto Cursor, layouts as the QXL drivers produce them: ALPHA is
// 32-bit premultiplied ARGB; MONO is an AND mask followed by an XOR mask, 1 bit per pixel, MSB
// first, rows padded to bytes; COLORn is the colour data followed by the AND mask, COLOR4 with a
// 16-entry palette between them). Throws ProtocolError when the data is short or the type unknown.
CursorShape decodeCursor(const CursorHeader& header, std::span<const uint8_t> data);

} // namespace saffron

Q_DECLARE_METATYPE(saffron::CursorShapePtr)
