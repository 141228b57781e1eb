// libFuzzer target for MessageFramer (session/channels/MessageFramer): splitting a linked
// channel's byte stream into messages, with mini (6-byte) or full (18-byte) headers.
//
// Input: byte 0 selects the header kind (bit 0: mini) and how often the stream repeats
// (bits 1-5: 1 to 32 copies, so that streams grow past the framer's 64 KiB compaction
// threshold); bytes 1-4 seed the chunking; the rest is the stream. The stream is appended in
// pseudo-random chunks (1 byte to 4 KiB), draining next() after each, and the messages must
// be exactly those that an independent whole-buffer parse finds, whatever the chunking.
#include "channels/MessageFramer.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace {

struct Parsed {
    uint16_t type;
    std::vector<uint8_t> body;
    bool operator==(const Parsed&) const = default;
};

uint32_t le32(std::span<const uint8_t> b, size_t at) {
    return uint32_t(b[at]) | uint32_t(b[at + 1]) << 8 | uint32_t(b[at + 2]) << 16 | uint32_t(b[at + 3]) << 24;
}

// Reference: spice_protocol.txt "Message header", read straight from the whole stream.
std::vector<Parsed> reference(std::span<const uint8_t> s, bool mini, bool& tooLarge) {
    std::vector<Parsed> out;
    const size_t hs = mini ? 6 : 18;
    const size_t typeAt = mini ? 0 : 8;
    size_t at = 0;
    tooLarge = false;
    while (s.size() - at >= hs) {
        const uint16_t type = uint16_t(s[at + typeAt] | s[at + typeAt + 1] << 8);
        const uint32_t size = le32(s, at + typeAt + 2);
        if (size > saffron::MessageFramer::kMaxMessageSize) {
            tooLarge = true;
            break;
        }
        if (s.size() - at - hs < size)
            break;
        out.push_back(
            {type, std::vector<uint8_t>(s.begin() + long(at + hs), s.begin() + long(at + hs + size))});
        at += hs + size;
    }
    return out;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 5)
        return 0;
    const bool mini = data[0] & 1;
    const unsigned copies = 1 + ((data[0] >> 1) & 31);
    uint32_t rng = le32({data, size}, 1) | 1;
    const std::span<const uint8_t> one(data + 5, size - 5);
    std::vector<uint8_t> stream;
    stream.reserve(one.size() * copies);
    for (unsigned i = 0; i < copies; ++i)
        stream.insert(stream.end(), one.begin(), one.end());

    bool refTooLarge = false;
    const std::vector<Parsed> expected = reference(stream, mini, refTooLarge);

    saffron::MessageFramer framer;
    framer.setMiniHeader(mini);
    std::vector<Parsed> got;
    bool tooLarge = false;
    size_t fed = 0;
    while (fed < stream.size() && !tooLarge) {
        rng ^= rng << 13;
        rng ^= rng >> 17;
        rng ^= rng << 5;
        const size_t chunk = std::min<size_t>(stream.size() - fed, 1 + rng % 4096);
        const auto piece = std::span<const uint8_t>(stream).subspan(fed, chunk);
        if (rng & 1) {
            framer.append(piece);
        } else {
            // The socket path: reserve more than arrives, commit only what did.
            const auto tail = framer.reserveTail(chunk + rng % 64);
            std::copy(piece.begin(), piece.end(), tail.begin());
            framer.commitTail(chunk);
        }
        fed += chunk;
        saffron::MessageFramer::Message m;
        for (;;) {
            const auto st = framer.next(m);
            if (st == saffron::MessageFramer::Status::NeedMore)
                break;
            if (st == saffron::MessageFramer::Status::TooLarge) {
                if (framer.pendingSize() <= saffron::MessageFramer::kMaxMessageSize)
                    __builtin_trap();
                tooLarge = true;
                break;
            }
            got.push_back({m.type, std::vector<uint8_t>(m.body.begin(), m.body.end())});
        }
    }
    if (got != expected || tooLarge != refTooLarge)
        __builtin_trap();
    // What is left buffered is exactly the incomplete tail.
    if (!tooLarge) {
        size_t consumed = 0;
        for (const Parsed& p : expected)
            consumed += (mini ? 6 : 18) + p.body.size();
        if (framer.buffered() != stream.size() - consumed)
            __builtin_trap();
    }
    return 0;
}
