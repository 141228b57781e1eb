#include "link/LinkProtocol.h"

#include "wire/Reader.h"
#include "wire/Writer.h"

#include <spice/protocol.h>

namespace saffron::link {

std::vector<uint8_t> buildLinkMessage(uint32_t connectionId, uint8_t channelType, uint8_t channelId,
                                      const Capabilities& common, const Capabilities& channel) {
    constexpr uint32_t kLinkMessFixed = 18; // SpiceLinkMess without caps
    const auto& cw = common.words();
    const auto& chw = channel.words();
    Writer w;
    w.u32(SPICE_MAGIC).u32(SPICE_VERSION_MAJOR).u32(SPICE_VERSION_MINOR);
    w.u32(static_cast<uint32_t>(kLinkMessFixed + 4 * (cw.size() + chw.size())));
    w.u32(connectionId).u8(channelType).u8(channelId);
    w.u32(static_cast<uint32_t>(cw.size())).u32(static_cast<uint32_t>(chw.size()));
    w.u32(kLinkMessFixed); // caps follow the fixed part; the offset is relative to SpiceLinkMess
    for (uint32_t v : cw)
        w.u32(v);
    for (uint32_t v : chw)
        w.u32(v);
    return w.take();
}

Header parseHeader(std::span<const uint8_t> bytes) {
    Reader r(bytes);
    if (r.u32() != SPICE_MAGIC)
        throw ProtocolError("not a SPICE server (bad link magic)");
    Header h;
    h.major = r.u32();
    h.minor = r.u32();
    h.size = r.u32();
    if (h.major != SPICE_VERSION_MAJOR)
        throw ProtocolError("server speaks SPICE protocol " + std::to_string(h.major) +
                            ", this client speaks " + std::to_string(SPICE_VERSION_MAJOR));
    if (h.size > kMaxReplySize)
        throw ProtocolError("link reply of " + std::to_string(h.size) + " bytes is too large");
    return h;
}

Reply parseReply(std::span<const uint8_t> body) {
    Reader r(body);
    Reply reply;
    reply.error = r.u32();
    if (reply.error != SPICE_LINK_ERR_OK)
        return reply; // the rest of the body is meaningless on error
    auto key = r.bytes(kPublicKeySize);
    std::copy(key.begin(), key.end(), reply.publicKey.begin());
    const uint32_t numCommon = r.u32();
    const uint32_t numChannel = r.u32();
    const uint32_t capsOffset = r.u32();
    Reader caps = r.at(capsOffset);
    auto readWords = [&caps](uint32_t n) {
        auto raw = caps.array(n, 4);
        Reader words(raw);
        std::vector<uint32_t> out(n);
        for (auto& v : out)
            v = words.u32();
        return out;
    };
    reply.commonCaps = Capabilities(readWords(numCommon));
    reply.channelCaps = Capabilities(readWords(numChannel));
    return reply;
}

const char* errorText(uint32_t e) {
    switch (e) {
    case SPICE_LINK_ERR_OK:
        return "ok";
    case SPICE_LINK_ERR_ERROR:
        return "the server refused the connection";
    case SPICE_LINK_ERR_INVALID_MAGIC:
        return "invalid magic";
    case SPICE_LINK_ERR_INVALID_DATA:
        return "the server rejected the link data";
    case SPICE_LINK_ERR_VERSION_MISMATCH:
        return "protocol version mismatch";
    case SPICE_LINK_ERR_NEED_SECURED:
        return "the server requires TLS for this channel";
    case SPICE_LINK_ERR_NEED_UNSECURED:
        return "the server requires a plain connection for this channel";
    case SPICE_LINK_ERR_PERMISSION_DENIED:
        return "authentication failed";
    case SPICE_LINK_ERR_BAD_CONNECTION_ID:
        return "bad connection id";
    case SPICE_LINK_ERR_CHANNEL_NOT_AVAILABLE:
        return "channel not available";
    default:
        return "unknown link error";
    }
}

} // namespace saffron::link
