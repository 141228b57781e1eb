// libFuzzer target for the link stage's reply parsing (session/link/LinkProtocol): the input is
// what a server sends after the client's link message, SpiceLinkHeader then the SpiceLinkReply
// body, handled the way Channel::processLink does. A reply that parses is also given to
// encryptTicket(), since its 162-byte public key is server data fed to OpenSSL's DER parser.
#include "link/LinkProtocol.h"
#include "link/TicketCipher.h"
#include "wire/ProtocolError.h"

#include <QByteArray>
#include <cstddef>
#include <cstdint>
#include <span>
#include <spice/protocol.h>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace saffron;
    const std::span<const uint8_t> in(data, size);
    if (in.size() < link::kHeaderSize)
        return 0;
    try {
        const link::Header h = link::parseHeader(in.first(link::kHeaderSize));
        if (h.size > link::kMaxReplySize)
            __builtin_trap(); // parseHeader promises to reject these
        const auto rest = in.subspan(link::kHeaderSize);
        if (rest.size() < h.size)
            return 0; // the client would wait for more
        const link::Reply reply = link::parseReply(rest.first(h.size));
        if (reply.error != SPICE_LINK_ERR_OK)
            return 0;
        // Capability words can only come from the body: 4 bytes each.
        if ((reply.commonCaps.words().size() + reply.channelCaps.words().size()) * 4 > h.size)
            __builtin_trap();
        const auto ticket = encryptTicket(reply.publicKey, QByteArrayLiteral("fuzz"));
        if (ticket.empty() || ticket.size() > 512)
            __builtin_trap();
    } catch (const ProtocolError&) {
    }
    return 0;
}
