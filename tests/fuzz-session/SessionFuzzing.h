#pragma once

// Shared by the session fuzzers and their corpus generator: the message types each channel
// fuzzer can pick, and the record format that turns one fuzz input into a sequence of
// messages.
//
// Record format (repeated until the input ends):
//   u8   selector  picks the type: types[selector % (N + 1)], and N means an unknown type (0x7fff)
//   u16  length    little-endian; a record whose length runs past the input takes what is left
//   u8   body[length]

#include <cstddef>
#include <cstdint>
#include <span>
#include <spice/enums.h>
#include <stdexcept>
#include <vector>

namespace saffron::fuzz {

inline constexpr uint16_t kUnknownType = 0x7fff;

// Messages every channel handles (spice.proto "channel BaseChannel").
inline constexpr uint16_t kBaseTypes[] = {
    SPICE_MSG_MIGRATE,           SPICE_MSG_MIGRATE_DATA,  SPICE_MSG_SET_ACK, SPICE_MSG_PING,
    SPICE_MSG_WAIT_FOR_CHANNELS, SPICE_MSG_DISCONNECTING, SPICE_MSG_NOTIFY,  SPICE_MSG_LIST,
};

// Every display message type of spice.proto (DisplayChannel), plus the base ones.
inline std::vector<uint16_t> displayTypes() {
    std::vector<uint16_t> out(std::begin(kBaseTypes), std::end(kBaseTypes));
    for (uint16_t t = SPICE_MSG_DISPLAY_MODE; t <= SPICE_MSG_DISPLAY_INVAL_ALL_PALETTES; ++t)
        out.push_back(t);
    for (uint16_t t = SPICE_MSG_DISPLAY_STREAM_CREATE; t <= SPICE_MSG_DISPLAY_STREAM_DESTROY_ALL; ++t)
        out.push_back(t);
    for (uint16_t t = SPICE_MSG_DISPLAY_DRAW_FILL; t < SPICE_MSG_END_DISPLAY; ++t)
        out.push_back(t);
    return out;
}

inline std::vector<uint16_t> mainTypes() {
    std::vector<uint16_t> out(std::begin(kBaseTypes), std::end(kBaseTypes));
    for (uint16_t t = SPICE_MSG_MAIN_MIGRATE_BEGIN; t < SPICE_MSG_END_MAIN; ++t)
        out.push_back(t);
    return out;
}

inline std::vector<uint16_t> cursorTypes() {
    std::vector<uint16_t> out(std::begin(kBaseTypes), std::end(kBaseTypes));
    for (uint16_t t = SPICE_MSG_CURSOR_INIT; t < SPICE_MSG_END_CURSOR; ++t)
        out.push_back(t);
    return out;
}

struct Record {
    uint16_t type = 0;
    std::span<const uint8_t> body;
};

template <typename Fn>
void forEachRecord(std::span<const uint8_t> in, const std::vector<uint16_t>& types, Fn&& fn) {
    while (in.size() >= 3) {
        const size_t pick = in[0] % (types.size() + 1);
        const size_t length = size_t(in[1]) | size_t(in[2]) << 8;
        in = in.subspan(3);
        const size_t take = length < in.size() ? length : in.size();
        fn(Record{pick < types.size() ? types[pick] : kUnknownType, in.first(take)});
        in = in.subspan(take);
    }
}

// The inverse, for building seeds: appends one record for `type` (which must be in `types`).
inline void appendRecord(std::vector<uint8_t>& out, const std::vector<uint16_t>& types, uint16_t type,
                         const std::vector<uint8_t>& body) {
    if (body.size() > 0xffff)
        throw std::length_error("record body too long for a seed");
    size_t pick = types.size();
    for (size_t i = 0; i < types.size(); ++i)
        if (types[i] == type)
            pick = i;
    out.push_back(uint8_t(pick));
    out.push_back(uint8_t(body.size()));
    out.push_back(uint8_t(body.size() >> 8));
    out.insert(out.end(), body.begin(), body.end());
}

} // namespace saffron::fuzz
