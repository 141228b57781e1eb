#include "channels/MainChannel.h"

#include "Log.h"
#include "wire/Reader.h"
#include "wire/Writer.h"

#include <algorithm>
#include <spice/enums.h>
#include <spice/protocol.h>
#include <spice/vd_agent.h>

namespace saffron {

namespace {
// How many agent messages the server may queue towards us; we hand each token back as soon as
// a message is processed, so a small window is enough (spice-gtk uses 10 as well).
constexpr uint32_t kClientAgentTokens = 10;
constexpr qsizetype kMaxAgentQueue = 4096; // chunks; a stuck agent must not grow memory forever

std::span<const uint8_t> bytesOf(const QByteArray& a) {
    return {reinterpret_cast<const uint8_t*>(a.constData()), static_cast<size_t>(a.size())};
}
} // namespace

MainChannel::MainChannel(const SessionOptions& options, QObject* parent)
    : Channel(options, SPICE_CHANNEL_MAIN, 0, parent) {
    qRegisterMetaType<saffron::ChannelId>();
}

Capabilities MainChannel::channelCaps() const {
    Capabilities caps;
    caps.set(SPICE_MAIN_CAP_NAME_AND_UUID);
    caps.set(SPICE_MAIN_CAP_AGENT_CONNECTED_TOKENS);
    return caps;
}

bool MainChannel::agentHasCapability(unsigned cap) const {
    return cap / 32 < agentCaps_.size() && (agentCaps_[cap / 32] >> (cap % 32)) & 1u;
}

std::vector<uint32_t> MainChannel::ourAgentCaps() const {
    std::vector<uint32_t> caps((VD_AGENT_END_CAP + 31) / 32, 0);
    auto set = [&](unsigned c) { caps[c / 32] |= 1u << (c % 32); };
    set(VD_AGENT_CAP_MONITORS_CONFIG);
    set(VD_AGENT_CAP_REPLY);
    set(VD_AGENT_CAP_SPARSE_MONITORS_CONFIG);
    set(VD_AGENT_CAP_MONITORS_CONFIG_POSITION);
    if (options().shareClipboard) {
        set(VD_AGENT_CAP_CLIPBOARD_BY_DEMAND);
        set(VD_AGENT_CAP_CLIPBOARD_SELECTION);
    }
    return caps;
}

std::optional<uint8_t> MainChannel::selectionPrefix() const {
    if (options().shareClipboard && agentHasCapability(VD_AGENT_CAP_CLIPBOARD_SELECTION))
        return uint8_t(VD_AGENT_CLIPBOARD_SELECTION_CLIPBOARD);
    return std::nullopt;
}

void MainChannel::handleMessage(uint16_t type, std::span<const uint8_t> body) {
    Reader r(body);
    switch (type) {
    case SPICE_MSG_MAIN_INIT: {
        sessionId_ = r.u32();
        r.u32(); // display_channels_hint
        const uint32_t supported = r.u32();
        mouseMode_ = r.u32();
        const uint32_t agentConnected = r.u32();
        const uint32_t agentTokens = r.u32();
        mmTime_ = r.u32();
        emit multimediaTimeChanged(mmTime_);
        qCInfo(lcSession) << "session" << sessionId_ << "mouse modes" << supported << "current" << mouseMode_
                          << "agent" << (agentConnected ? "connected" : "absent");
        if (options().clientMouseMode && (supported & SPICE_MOUSE_MODE_CLIENT) &&
            mouseMode_ != SPICE_MOUSE_MODE_CLIENT)
            send(SPICE_MSGC_MAIN_MOUSE_MODE_REQUEST, Writer().u16(SPICE_MOUSE_MODE_CLIENT).take());
        emit mouseModeChanged(mouseMode_);
        if (agentConnected)
            onAgentConnected(agentTokens);
        send(SPICE_MSGC_MAIN_ATTACH_CHANNELS, std::span<const uint8_t>());
        emit initialized(sessionId_);
        break;
    }
    case SPICE_MSG_MAIN_CHANNELS_LIST: {
        const uint32_t n = r.u32();
        Reader list(r.array(n, 2));
        QList<ChannelId> channels;
        for (uint32_t i = 0; i < n; ++i) {
            ChannelId c;
            c.type = list.u8();
            c.id = list.u8();
            channels << c;
        }
        emit channelsListed(channels);
        break;
    }
    case SPICE_MSG_MAIN_MOUSE_MODE: {
        r.u16(); // supported
        mouseMode_ = r.u16();
        qCInfo(lcSession) << "mouse mode" << (mouseMode_ == SPICE_MOUSE_MODE_CLIENT ? "client" : "server");
        emit mouseModeChanged(mouseMode_);
        break;
    }
    case SPICE_MSG_MAIN_MULTI_MEDIA_TIME:
        mmTime_ = r.u32();
        emit multimediaTimeChanged(mmTime_);
        break;
    case SPICE_MSG_MAIN_AGENT_CONNECTED:
        onAgentConnected(0);
        break;
    case SPICE_MSG_MAIN_AGENT_CONNECTED_TOKENS:
        onAgentConnected(r.u32());
        break;
    case SPICE_MSG_MAIN_AGENT_DISCONNECTED:
        agentConnected_ = false;
        agentCapsKnown_ = false;
        agentCaps_.clear();
        agentQueue_.clear();
        assembler_ = agent::MessageAssembler();
        qCInfo(lcAgent) << "agent disconnected";
        emit agentConnectedChanged(false);
        break;
    case SPICE_MSG_MAIN_AGENT_TOKEN:
        serverTokens_ += r.u32();
        flushAgentQueue();
        break;
    case SPICE_MSG_MAIN_AGENT_DATA: {
        // Give the token back first: the message is consumed whether or not it parses.
        send(SPICE_MSGC_MAIN_AGENT_TOKEN, Writer().u32(1).take());
        for (const auto& m : assembler_.feed(body))
            handleAgentMessage(m);
        break;
    }
    case SPICE_MSG_MAIN_NAME: {
        const uint32_t len = r.u32();
        auto name = r.array(len, 1);
        serverName_ = QString::fromUtf8(reinterpret_cast<const char*>(name.data()), qsizetype(name.size()))
                          .left(256)
                          .remove(QChar(0));
        break;
    }
    case SPICE_MSG_MAIN_UUID: {
        auto u = r.bytes(16);
        uuid_ = QByteArray(reinterpret_cast<const char*>(u.data()), 16);
        break;
    }
    default:
        // Migration messages: seamless migration is not supported; the server falls back to
        // a reconnect, which the session handles.
        qCDebug(lcSession) << "ignoring main message" << type;
    }
}

void MainChannel::onAgentConnected(uint32_t tokens) {
    if (!options().enableAgent)
        return;
    serverTokens_ = tokens;
    agentConnected_ = true;
    send(SPICE_MSGC_MAIN_AGENT_START, Writer().u32(kClientAgentTokens).take());
    sendAgent(VD_AGENT_ANNOUNCE_CAPABILITIES, agent::announceCapabilities(true, ourAgentCaps()));
    qCInfo(lcAgent) << "agent connected, tokens" << tokens;
    emit agentConnectedChanged(true);
}

void MainChannel::sendAgent(uint32_t type, const QByteArray& data) {
    if (!agentConnected_)
        return;
    for (QByteArray& chunk : agent::encode(type, data)) {
        if (qsizetype(agentQueue_.size()) >= kMaxAgentQueue) {
            qCWarning(lcAgent) << "agent is not reading; dropping message" << type;
            return;
        }
        agentQueue_.push_back(std::move(chunk));
    }
    flushAgentQueue();
}

void MainChannel::flushAgentQueue() {
    while (serverTokens_ > 0 && !agentQueue_.empty()) {
        send(SPICE_MSGC_MAIN_AGENT_DATA, bytesOf(agentQueue_.front()));
        agentQueue_.pop_front();
        --serverTokens_;
    }
}

void MainChannel::handleAgentMessage(const agent::Message& m) {
    switch (m.type) {
    case VD_AGENT_ANNOUNCE_CAPABILITIES: {
        Reader r(bytesOf(m.data));
        const uint32_t request = r.u32();
        agentCaps_.clear();
        while (r.remaining() >= 4 && agentCaps_.size() < 64)
            agentCaps_.push_back(r.u32());
        agentCapsKnown_ = true;
        qCInfo(lcAgent) << "agent capabilities received";
        if (request)
            sendAgent(VD_AGENT_ANNOUNCE_CAPABILITIES, agent::announceCapabilities(false, ourAgentCaps()));
        sendMonitorsIfReady();
        // What was copied on the client before the agent could take it is offered now.
        offerClientClipboard();
        break;
    }
    case VD_AGENT_REPLY: {
        Reader r(bytesOf(m.data));
        const uint32_t of = r.u32();
        const uint32_t error = r.u32();
        if (error != VD_AGENT_SUCCESS)
            qCWarning(lcAgent) << "agent refused message type" << of;
        break;
    }
    case VD_AGENT_CLIPBOARD_GRAB:
    case VD_AGENT_CLIPBOARD_REQUEST:
    case VD_AGENT_CLIPBOARD:
    case VD_AGENT_CLIPBOARD_RELEASE: {
        if (!options().shareClipboard)
            break;
        const auto p = agent::parseClipboard(m.type, m.data, selectionPrefix().has_value());
        if (p.selection != VD_AGENT_CLIPBOARD_SELECTION_CLIPBOARD)
            break; // PRIMARY/SECONDARY selections are X11 niceties; the clipboard is what users share
        if (m.type == VD_AGENT_CLIPBOARD_GRAB) {
            guestTypes_ = p.types;
            QList<uint32_t> types(p.types.begin(), p.types.end());
            emit guestClipboardGrabbed(types);
        } else if (m.type == VD_AGENT_CLIPBOARD_REQUEST) {
            // A type we do not hold gets an empty answer of that type, so the guest's request
            // completes instead of waiting.
            QByteArray data;
            if (p.type == VD_AGENT_CLIPBOARD_UTF8_TEXT && clientPng_.isEmpty())
                data = clientText_.toUtf8();
            else if (p.type == VD_AGENT_CLIPBOARD_IMAGE_PNG)
                data = clientPng_;
            sendAgent(VD_AGENT_CLIPBOARD, agent::clipboardData(selectionPrefix(), p.type, data));
        } else if (m.type == VD_AGENT_CLIPBOARD) {
            if (p.type == VD_AGENT_CLIPBOARD_UTF8_TEXT)
                emit guestClipboardText(QString::fromUtf8(p.data));
            else if ((p.type == VD_AGENT_CLIPBOARD_IMAGE_PNG || p.type == VD_AGENT_CLIPBOARD_IMAGE_BMP) &&
                     !p.data.isEmpty())
                emit guestClipboardImage(p.data);
        } else {
            emit guestClipboardReleased();
        }
        break;
    }
    default:
        qCDebug(lcAgent) << "ignoring agent message" << m.type;
    }
}

void MainChannel::setMonitors(const std::vector<QRect>& monitors) {
    monitors_ = monitors;
    sendMonitorsIfReady();
}

void MainChannel::sendMonitorsIfReady() {
    if (!monitors_ || monitors_->empty() || !agentConnected_ || !agentCapsKnown_ ||
        !agentHasCapability(VD_AGENT_CAP_MONITORS_CONFIG))
        return;
    sendAgent(VD_AGENT_MONITORS_CONFIG, agent::monitorsConfig(*monitors_, true));
    qCInfo(lcAgent) << "sent monitors config" << monitors_->size() << "head(s), first" << monitors_->front();
}

void MainChannel::setClientClipboardText(const QString& text) {
    clientText_ = text;
    clientPng_.clear();
    offerClientClipboard();
}

void MainChannel::setClientClipboardImage(const QByteArray& png) {
    clientPng_ = png;
    clientText_.clear();
    offerClientClipboard();
}

void MainChannel::offerClientClipboard() {
    if (clientText_.isEmpty() && clientPng_.isEmpty())
        return;
    if (!options().shareClipboard || !agentHasCapability(VD_AGENT_CAP_CLIPBOARD_BY_DEMAND))
        return;
    const uint32_t type = clientPng_.isEmpty() ? VD_AGENT_CLIPBOARD_UTF8_TEXT : VD_AGENT_CLIPBOARD_IMAGE_PNG;
    sendAgent(VD_AGENT_CLIPBOARD_GRAB, agent::clipboardGrab(selectionPrefix(), {type}));
}

void MainChannel::requestGuestClipboard() {
    if (!options().shareClipboard || !agentHasCapability(VD_AGENT_CAP_CLIPBOARD_BY_DEMAND))
        return;
    const auto offered = [this](uint32_t t) {
        return std::find(guestTypes_.begin(), guestTypes_.end(), t) != guestTypes_.end();
    };
    // Text when the guest offers it (an image copied from a document often comes with a text
    // form too, and text is what most pastes want); TIFF and JPG are not taken.
    uint32_t type = VD_AGENT_CLIPBOARD_UTF8_TEXT;
    if (!offered(VD_AGENT_CLIPBOARD_UTF8_TEXT)) {
        if (offered(VD_AGENT_CLIPBOARD_IMAGE_PNG))
            type = VD_AGENT_CLIPBOARD_IMAGE_PNG;
        else if (offered(VD_AGENT_CLIPBOARD_IMAGE_BMP))
            type = VD_AGENT_CLIPBOARD_IMAGE_BMP;
        else if (!guestTypes_.empty())
            return; // nothing we can use
    }
    sendAgent(VD_AGENT_CLIPBOARD_REQUEST, agent::clipboardRequest(selectionPrefix(), type));
}

} // namespace saffron
