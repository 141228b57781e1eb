// libFuzzer target for the cursor channel (session/channels/CursorChannel and
// cursor/CursorShape): INIT/SET with every cursor type, the shape cache, moves and resets.
// The channel never connects; Channel::dispatch() feeds it.
//
// Input: records of SessionFuzzing.h over every cursor message type.
#include "SessionFuzzing.h"
#include "channels/CursorChannel.h"

#include <QLoggingCategory>

using namespace saffron;

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    QLoggingCategory::setFilterRules(QStringLiteral("*=false"));
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static const std::vector<uint16_t> types = fuzz::cursorTypes();
    const SessionOptions options;
    CursorChannel channel(options, 0);
    fuzz::forEachRecord({data, size}, types,
                        [&](const fuzz::Record& r) { channel.dispatch(r.type, r.body); });
    if (CursorShapePtr s = channel.shape()) {
        const Pixmap& p = s->image;
        if (p.width <= 0 || p.height <= 0 || p.width > 512 || p.height > 512 ||
            p.pixels.size() != size_t(p.width) * size_t(p.height) || s->hotX < 0 || s->hotX >= p.width ||
            s->hotY < 0 || s->hotY >= p.height)
            __builtin_trap();
    }
    return 0;
}
