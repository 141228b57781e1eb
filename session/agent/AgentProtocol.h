#pragma once

#include <QByteArray>
#include <QRect>
#include <QString>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace saffron::agent {

// vdagent messages travel inside MAIN_AGENT_DATA messages: each carries part of a stream of
// VDAgentMessage records (20-byte header: protocol, type, opaque, size, then `size` bytes), and
// one record may be split over several AGENT_DATA messages of at most VD_AGENT_MAX_DATA_SIZE
// bytes (<spice/vd_agent.h>; spice-gtk channel-main.c agent_msg_queue).
struct Message {
    uint32_t type = 0;
    QByteArray data;
};

class MessageAssembler {
public:
    // Large clipboard images are the biggest legitimate messages.
    static constexpr uint32_t kMaxMessageSize = 32 * 1024 * 1024;
    // Throws ProtocolError on a bad protocol version or an oversized record.
    std::vector<Message> feed(std::span<const uint8_t> chunk);

private:
    QByteArray header_;
    std::optional<Message> current_;
    uint32_t expected_ = 0;
};

// Splits one agent message into AGENT_DATA bodies of at most VD_AGENT_MAX_DATA_SIZE bytes.
std::vector<QByteArray> encode(uint32_t type, const QByteArray& data);

QByteArray announceCapabilities(bool request, const std::vector<uint32_t>& caps);
// Monitors in desktop coordinates; with `usePosition` the agent places them as given.
QByteArray monitorsConfig(const std::vector<QRect>& monitors, bool usePosition);

// Clipboard messages carry a 4-byte selection prefix when both sides announced
// VD_AGENT_CAP_CLIPBOARD_SELECTION.
QByteArray clipboardGrab(std::optional<uint8_t> selection, const std::vector<uint32_t>& types);
QByteArray clipboardRequest(std::optional<uint8_t> selection, uint32_t type);
QByteArray clipboardData(std::optional<uint8_t> selection, uint32_t type, const QByteArray& data);
QByteArray clipboardRelease(std::optional<uint8_t> selection);

struct ClipboardPayload {
    uint8_t selection = 0;
    uint32_t type = 0; // CLIPBOARD, REQUEST: the type; GRAB: first of `types`
    std::vector<uint32_t> types;
    QByteArray data;
};
// Parses GRAB, REQUEST, CLIPBOARD and RELEASE bodies; throws ProtocolError when malformed.
ClipboardPayload parseClipboard(uint32_t messageType, const QByteArray& body, bool withSelection);

} // namespace saffron::agent
