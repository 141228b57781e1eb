#pragma once

#include "SessionEnd.h"
#include "SessionOptions.h"
#include "channels/MessageFramer.h"
#include "link/Capabilities.h"

#include <QAbstractSocket>
#include <QElapsedTimer>
#include <QObject>
#include <QPointer>
#include <QSslError>
#include <QTimer>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

class QIODevice;
class QSslSocket;
class QLocalSocket;

namespace saffron {

struct ChannelStats {
    quint64 bytesIn = 0;
    quint64 bytesOut = 0;
    quint64 messagesIn = 0;
    quint64 messagesOut = 0;
    quint64 badMessages = 0;
};

// One SPICE channel: its own TCP/TLS/unix connection, the link handshake and ticket, message
// framing, and the messages every channel shares (SET_ACK, PING, NOTIFY, DISCONNECTING).
// Lives in the session's network thread; subclasses implement one channel type each.
class Channel : public QObject {
    Q_OBJECT
public:
    enum class State { Idle, Connecting, Linking, Authenticating, Ready, Closed };
    Q_ENUM(State)

    Channel(const SessionOptions& options, uint8_t type, uint8_t id, QObject* parent = nullptr);
    ~Channel() override;

    void open(uint32_t connectionId);
    void close();

    uint8_t type() const { return type_; }
    uint8_t id() const { return id_; }
    State state() const { return state_; }
    bool isTls() const { return tls_; }
    QString name() const;
    // Why the channel closed (valid once closed() was emitted), and details for the user.
    EndReason endReason() const { return endReason_; }
    const QString& endDetails() const { return endDetails_; }
    const Capabilities& serverCommonCaps() const { return serverCommon_; }
    const Capabilities& serverChannelCaps() const { return serverChannel_; }
    const ChannelStats& stats() const { return stats_; }

    static QString typeName(uint8_t type);

    // Handles one framed message as if it had arrived on the socket: base messages, then the
    // channel's own. Malformed bodies are counted and dropped. Public so fuzzers and the hostile
    // server tests can drive the parsers without a network.
    void dispatch(uint16_t type, std::span<const uint8_t> body);

signals:
    void ready();
    // `error` is empty on an orderly close (server said goodbye or we closed).
    void closed(const QString& error);
    // Connection progress before ready(): resolving, TCP, TLS, link, auth.
    void phaseChanged(saffron::ConnectPhase phase);

protected:
    virtual Capabilities channelCaps() const { return {}; }
    virtual void onReady() {}
    // Called after each batch of messages read from the socket, e.g. to publish coalesced updates.
    virtual void onBatchDone() {}
    // Channel-specific messages (types >= 101). Throw ProtocolError for malformed bodies: the
    // message is dropped and counted, the channel continues.
    virtual void handleMessage(uint16_t type, std::span<const uint8_t> body) = 0;

    void send(uint16_t type, std::span<const uint8_t> body);
    void send(uint16_t type, const std::vector<uint8_t>& body) { send(type, std::span<const uint8_t>(body)); }
    // Bytes written to the socket that it has not handed to the kernel yet.
    qint64 unsentBytes() const { return socket_ ? socket_->bytesToWrite() : 0; }
    // The socket handed some of them to the kernel.
    virtual void onBytesWritten() {}
    void fail(const QString& error, EndReason reason = EndReason::Protocol, const QString& details = {});
    const SessionOptions& options() const { return options_; }

private:
    void connectTransport(bool useTls);
    void onConnected();
    void onReadyRead();
    void onSocketError();
    void onSslErrors(const QList<QSslError>& errors);
    void onEncrypted();
    void processLink();
    void processMessages();
    void handleBaseMessage(uint16_t type, std::span<const uint8_t> body);
    void writeRaw(std::span<const uint8_t> bytes);
    std::span<const uint8_t> pending() const;
    void consume(size_t n);

    const SessionOptions& options_;
    const uint8_t type_;
    const uint8_t id_;
    uint32_t connectionId_ = 0;
    State state_ = State::Idle;
    EndReason endReason_ = EndReason::None;
    QString endDetails_;
    bool serverSaidGoodbye_ = false;
    void setPhase(ConnectPhase phase);
    void onLinkDeadline();
    QTimer linkDeadline_;
    bool transportConnected_ = false;
    bool tls_ = false;
    bool retriedWithTls_ = false;
    bool peerVerified_ = false;
    std::unique_ptr<QIODevice> socket_;
    std::vector<uint8_t> linkBuf_;
    uint32_t replySize_ = 0;
    Capabilities serverCommon_;
    Capabilities serverChannel_;
    MessageFramer framer_;
    uint64_t sendSerial_ = 0;
    uint32_t ackWindow_ = 0;
    uint32_t ackCount_ = 0;
    ChannelStats stats_;
};

} // namespace saffron
