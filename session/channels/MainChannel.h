#pragma once

#include "agent/AgentProtocol.h"
#include "channels/Channel.h"

#include <QByteArray>
#include <QList>
#include <QPair>
#include <QRect>
#include <deque>
#include <optional>
#include <vector>

namespace saffron {

struct ChannelId {
    uint8_t type = 0;
    uint8_t id = 0;
};

// The main channel (spice.proto MainChannel): session id, the list of other channels, mouse
// mode, multimedia time, and the vdagent link (monitor configuration, clipboard) with its
// token flow control.
class MainChannel : public Channel {
    Q_OBJECT
public:
    explicit MainChannel(const SessionOptions& options, QObject* parent = nullptr);

    uint32_t sessionId() const { return sessionId_; }
    uint32_t mouseMode() const { return mouseMode_; }
    uint32_t multimediaTime() const { return mmTime_; }
    bool agentConnected() const { return agentConnected_; }
    bool agentHasCapability(unsigned cap) const;
    QString serverName() const { return serverName_; }
    QByteArray serverUuid() const { return uuid_; }

    // Desired guest monitor layout; sent now, or as soon as an agent is there.
    void setMonitors(const std::vector<QRect>& monitors);
    // Local clipboard changed: offer it to the guest (by demand: data goes when the guest asks).
    // Text and image replace each other: the clipboard holds one of them.
    void setClientClipboardText(const QString& text);
    // An image, already PNG-encoded by the caller (the shell encodes off its GUI thread).
    void setClientClipboardImage(const QByteArray& png);
    // Ask the guest for the clipboard it grabbed, in the best type it offered: text first, then
    // PNG, then BMP. The answer arrives as guestClipboardText() or guestClipboardImage().
    void requestGuestClipboard();

signals:
    void initialized(uint32_t sessionId);
    void channelsListed(const QList<saffron::ChannelId>& channels);
    void mouseModeChanged(uint32_t mode);
    void multimediaTimeChanged(uint32_t mmTime); // MAIN_INIT and MAIN_MULTI_MEDIA_TIME
    void agentConnectedChanged(bool connected);
    void guestClipboardGrabbed(const QList<uint32_t>& types);
    void guestClipboardText(const QString& text);
    // Encoded image bytes exactly as the guest sent them (PNG or BMP; never decoded here): the
    // receiver decodes with its own size limits.
    void guestClipboardImage(const QByteArray& encoded);
    void guestClipboardReleased();

protected:
    Capabilities channelCaps() const override;
    void handleMessage(uint16_t type, std::span<const uint8_t> body) override;

private:
    void handleAgentMessage(const agent::Message& m);
    void onAgentConnected(uint32_t tokens);
    void sendAgent(uint32_t type, const QByteArray& data);
    void flushAgentQueue();
    void sendMonitorsIfReady();
    std::optional<uint8_t> selectionPrefix() const;
    std::vector<uint32_t> ourAgentCaps() const;
    void offerClientClipboard();

    uint32_t sessionId_ = 0;
    uint32_t mouseMode_ = 0;
    uint32_t mmTime_ = 0;
    QString serverName_;
    QByteArray uuid_;

    bool agentConnected_ = false;
    bool agentCapsKnown_ = false;
    std::vector<uint32_t> agentCaps_;
    uint32_t serverTokens_ = 0; // AGENT_DATA messages we may still send
    std::deque<QByteArray> agentQueue_;
    agent::MessageAssembler assembler_;
    std::optional<std::vector<QRect>> monitors_;
    // What the client clipboard holds: text, or an image as PNG (never both).
    QString clientText_;
    QByteArray clientPng_;
    std::vector<uint32_t> guestTypes_; // of the guest's last grab
};

} // namespace saffron

Q_DECLARE_METATYPE(saffron::ChannelId)
