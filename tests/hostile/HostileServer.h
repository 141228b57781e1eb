#pragma once

// A scriptable, deliberately hostile SPICE server for tests. It speaks just enough of the link
// stage (spice_protocol.txt "Link stage": SpiceLinkHeader + SpiceLinkReply with a real RSA-1024
// key, auth mechanism selection, the RSA-OAEP ticket, the link result) to get any channel of a
// real client to the message stage, then plays a per-channel-type script of messages that the
// test crafts byte by byte. Every field of the link reply can be made wrong on purpose.
//
// The server runs its own QThread, so the thread that owns the client's Session (the test's)
// only ever runs client code; the scripts are fixed before the client connects and what the
// client sent is recorded for the test to inspect.

#include "SpiceBuilders.h"

#include <QByteArray>
#include <QMutex>
#include <QStringList>
#include <cstdint>
#include <map>
#include <memory>
#include <utility>
#include <vector>

class QThread;

namespace saffron::hostile {

// How the server answers the link message of one channel.
struct LinkScript {
    enum class Mode {
        Normal,        // valid reply; ticket checked against the password; then `authResult`
        CloseOnAccept, // close as soon as the link message arrived, before any reply
        BadMagic,      // reply header with a wrong magic
        BadMajor,      // reply header with protocol major version 1
        ReplyError,    // a full-size reply whose error field is `error`, then close
        HeaderSize,    // a header announcing `headerSize` body bytes, then silence
        Truncated,     // a header and the first 40 bytes of the reply, then close
        CapsCount,     // num_common_caps = 0x40000000
        CapsOffset,    // caps_offset far past the end of the reply
        BadPublicKey,  // 162 bytes that are not a SubjectPublicKeyInfo
        Raw,           // `raw` instead of a reply, then close
    };
    Mode mode = Mode::Normal;
    uint32_t error = SPICE_LINK_ERR_OK;
    uint32_t headerSize = 0;
    uint32_t authResult = SPICE_LINK_ERR_OK;
    bool miniHeader = true;    // advertise SPICE_COMMON_CAP_MINI_HEADER
    bool authSelection = true; // advertise PROTOCOL_AUTH_SELECTION + AUTH_SPICE
    std::vector<uint32_t> channelCaps;
    Bytes raw;
};

// What the server does once a channel is linked, in order.
struct Step {
    enum class Kind { Send, Batch, Raw, WaitFor, Close };
    Kind kind = Kind::Send;
    uint16_t type = 0;                             // Send: message type; WaitFor: client message type
    Bytes bytes;                                   // Send: body; Raw: bytes as they go on the wire
    std::vector<std::pair<uint16_t, Bytes>> batch; // Batch: messages framed into one write
};

struct Script {
    LinkScript link;
    std::vector<Step> steps;

    Script& send(uint16_t type, Bytes body = {});
    Script& batch(std::vector<std::pair<uint16_t, Bytes>> messages);
    Script& raw(Bytes bytes);
    // Blocks the script until the client sent a message of this type (each one satisfies one wait).
    Script& waitFor(uint16_t clientType);
    // Orderly close (FIN) once everything written so far has gone out.
    Script& close();
    Script& then(const Script& more);
};

// The main channel as spice-server plays it: MAIN_INIT, then CHANNELS_LIST (display 0, cursor 0,
// inputs 0) when the client asks for it with ATTACH_CHANNELS.
Script mainScript(bool agentConnected = false, uint32_t agentTokens = 10);

struct ClientMessage {
    uint8_t channel = 0;
    uint16_t type = 0;
    Bytes body;
};

class HostileServer {
public:
    // `password` is what the decrypted ticket must hold (a wrong one gets PERMISSION_DENIED,
    // as spice-server answers).
    explicit HostileServer(QByteArray password = QByteArrayLiteral("hostile-ticket"));
    ~HostileServer();
    HostileServer(const HostileServer&) = delete;
    HostileServer& operator=(const HostileServer&) = delete;

    quint16 port() const { return port_; }

    // Scripts are looked up when a channel's link message arrives; set them before starting
    // the client. Channel types without a script get a normal link and no messages.
    void setScript(uint8_t channelType, Script script);

    // What the client sent on linked channels of `channel` (message stage only).
    std::vector<ClientMessage> received(uint8_t channel) const;
    int count(uint8_t channel, uint16_t type) const;
    // Channels of this type that completed the link with result OK.
    int linked(uint8_t channel) const;
    // Channels of this type whose script ran to its end (every step done).
    int scriptsDone(uint8_t channel) const;
    // Connections the client closed after linking, by channel type.
    int clientClosed(uint8_t channel) const;
    QStringList events() const;

    // The server-thread half; public so the implementation's helpers can name it.
    class Core;
    // Shared with the server thread.
    struct Shared {
        mutable QMutex mutex;
        QByteArray password;
        std::map<uint8_t, Script> scripts;
        std::vector<ClientMessage> received;
        std::map<uint8_t, int> linked;
        std::map<uint8_t, int> done;
        std::map<uint8_t, int> closed;
        QStringList events;
    };

private:
    std::shared_ptr<Shared> shared_;
    std::unique_ptr<QThread> thread_;
    Core* core_ = nullptr; // lives on thread_
    quint16 port_ = 0;
};

} // namespace saffron::hostile
