// libFuzzer target for the main channel (session/channels/MainChannel): init, channel lists,
// mouse modes, names, and the agent path (AGENT_DATA reassembly, capabilities, clipboard) with
// its token accounting. The channel never connects; Channel::dispatch() feeds it.
//
// Input: records of SessionFuzzing.h over every main message type.
#include "SessionFuzzing.h"
#include "channels/MainChannel.h"

#include <QLoggingCategory>

using namespace saffron;

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    QLoggingCategory::setFilterRules(QStringLiteral("*=false"));
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static const std::vector<uint16_t> types = fuzz::mainTypes();
    const SessionOptions options;
    MainChannel channel(options);
    fuzz::forEachRecord({data, size}, types,
                        [&](const fuzz::Record& r) { channel.dispatch(r.type, r.body); });
    // Exercise the client-side senders on whatever state the server left (they queue for the
    // agent; nothing is written since the channel is not linked).
    channel.setMonitors({QRect(0, 0, 1024, 768)});
    channel.setClientClipboardText(QStringLiteral("fuzz"));
    channel.requestGuestClipboard();
    if (channel.serverName().size() > 256)
        __builtin_trap();
    return 0;
}
