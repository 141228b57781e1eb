// libFuzzer target for the vdagent layer (session/agent/AgentProtocol): MessageAssembler
// reassembling VDAgentMessage records from AGENT_DATA chunks, and parseClipboard on what comes
// out.
//
// Input: byte 0 bit 0: clipboard messages carry the selection prefix; then chunks, each a u8
// length and that many bytes, fed to one assembler (kept across errors, as MainChannel does).
// Then a round trip: the whole input is the payload of encode(type = byte 0), and feeding the
// resulting chunks to a fresh assembler must give back exactly that one message.
#include "agent/AgentProtocol.h"
#include "wire/ProtocolError.h"

#include <QByteArray>
#include <spice/vd_agent.h>

using namespace saffron;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 1)
        return 0;
    const bool withSelection = data[0] & 1;
    agent::MessageAssembler assembler;
    size_t at = 1;
    while (at < size) {
        const size_t len = std::min<size_t>(data[at], size - at - 1);
        const std::span<const uint8_t> chunk(data + at + 1, len);
        at += 1 + len;
        try {
            for (const agent::Message& m : assembler.feed(chunk)) {
                if (size_t(m.data.size()) > agent::MessageAssembler::kMaxMessageSize)
                    __builtin_trap();
                try {
                    const auto p = agent::parseClipboard(m.type, m.data, withSelection);
                    if (m.type == VD_AGENT_CLIPBOARD && p.data.size() > m.data.size())
                        __builtin_trap();
                } catch (const ProtocolError&) {
                }
            }
        } catch (const ProtocolError&) {
        }
    }

    const QByteArray payload(reinterpret_cast<const char*>(data), qsizetype(size));
    const uint32_t type = data[0];
    agent::MessageAssembler fresh;
    std::vector<agent::Message> out;
    for (const QByteArray& chunk : agent::encode(type, payload)) {
        if (chunk.size() > VD_AGENT_MAX_DATA_SIZE)
            __builtin_trap();
        auto got = fresh.feed({reinterpret_cast<const uint8_t*>(chunk.constData()), size_t(chunk.size())});
        out.insert(out.end(), got.begin(), got.end());
    }
    if (out.size() != 1 || out[0].type != type || out[0].data != payload)
        __builtin_trap();
    return 0;
}
