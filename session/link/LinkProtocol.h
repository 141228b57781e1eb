#pragma once

#include "link/Capabilities.h"

#include <array>
#include <cstdint>
#include <span>
#include <vector>

namespace saffron {

// The link stage of a SPICE channel (spice_protocol.txt, "Link stage"): the client sends
// SpiceLinkHeader + SpiceLinkMess + caps, the server answers SpiceLinkHeader + SpiceLinkReply
// + caps, then the client authenticates and the server sends a 32-bit link result.
namespace link {

inline constexpr size_t kHeaderSize = 16;           // magic, major, minor, size
inline constexpr size_t kPublicKeySize = 162;       // SPICE_TICKET_PUBKEY_BYTES: DER SubjectPublicKeyInfo
inline constexpr size_t kEncryptedTicketSize = 128; // RSA-1024 block
// A link reply is 178 bytes plus caps; a few KiB of caps is already absurd.
inline constexpr uint32_t kMaxReplySize = 64 * 1024;

struct Header {
    uint32_t major = 0;
    uint32_t minor = 0;
    uint32_t size = 0;
};

struct Reply {
    uint32_t error = 0;
    std::array<uint8_t, kPublicKeySize> publicKey{};
    Capabilities commonCaps;
    Capabilities channelCaps;
};

std::vector<uint8_t> buildLinkMessage(uint32_t connectionId, uint8_t channelType, uint8_t channelId,
                                      const Capabilities& common, const Capabilities& channel);

// Throws ProtocolError on a bad magic, an unsupported major version or an oversized body.
Header parseHeader(std::span<const uint8_t> bytes);
// Parses the reply body (after the header). Throws ProtocolError when malformed.
Reply parseReply(std::span<const uint8_t> body);

// Human-readable text for a SpiceLinkErr value.
const char* errorText(uint32_t linkError);

} // namespace link
} // namespace saffron
