#include "agent/AgentProtocol.h"

#include "wire/Reader.h"
#include "wire/Writer.h"

#include <spice/vd_agent.h>

namespace saffron::agent {

namespace {
constexpr size_t kHeaderSize = 20;

std::span<const uint8_t> bytesOf(const QByteArray& a) {
    return {reinterpret_cast<const uint8_t*>(a.constData()), static_cast<size_t>(a.size())};
}
QByteArray toBytes(const std::vector<uint8_t>& v) {
    return QByteArray(reinterpret_cast<const char*>(v.data()), static_cast<qsizetype>(v.size()));
}
void selectionPrefix(Writer& w, std::optional<uint8_t> selection) {
    if (selection)
        w.u8(*selection).u8(0).u8(0).u8(0);
}
} // namespace

std::vector<Message> MessageAssembler::feed(std::span<const uint8_t> chunk) {
    std::vector<Message> out;
    while (!chunk.empty()) {
        if (!current_) {
            const size_t take = std::min(kHeaderSize - size_t(header_.size()), chunk.size());
            header_.append(reinterpret_cast<const char*>(chunk.data()), qsizetype(take));
            chunk = chunk.subspan(take);
            if (size_t(header_.size()) < kHeaderSize)
                break;
            Reader r(bytesOf(header_));
            const uint32_t protocol = r.u32();
            Message m;
            m.type = r.u32();
            r.u64(); // opaque
            expected_ = r.u32();
            header_.clear();
            if (protocol != VD_AGENT_PROTOCOL)
                throw ProtocolError("agent message with protocol " + std::to_string(protocol));
            if (expected_ > kMaxMessageSize)
                throw ProtocolError("agent message of " + std::to_string(expected_) + " bytes is too large");
            m.data.reserve(qsizetype(std::min<uint32_t>(expected_, 1 << 20)));
            current_ = std::move(m);
        }
        const size_t take = std::min(size_t(expected_) - size_t(current_->data.size()), chunk.size());
        current_->data.append(reinterpret_cast<const char*>(chunk.data()), qsizetype(take));
        chunk = chunk.subspan(take);
        if (size_t(current_->data.size()) == expected_) {
            out.push_back(std::move(*current_));
            current_.reset();
        }
    }
    return out;
}

std::vector<QByteArray> encode(uint32_t type, const QByteArray& data) {
    Writer w;
    w.u32(VD_AGENT_PROTOCOL).u32(type).u64(0).u32(uint32_t(data.size()));
    QByteArray all = toBytes(w.data()) + data;
    std::vector<QByteArray> chunks;
    for (qsizetype at = 0; at < all.size(); at += VD_AGENT_MAX_DATA_SIZE)
        chunks.push_back(all.mid(at, VD_AGENT_MAX_DATA_SIZE));
    return chunks;
}

QByteArray announceCapabilities(bool request, const std::vector<uint32_t>& caps) {
    Writer w;
    w.u32(request ? 1 : 0);
    for (uint32_t c : caps)
        w.u32(c);
    return toBytes(w.data());
}

QByteArray monitorsConfig(const std::vector<QRect>& monitors, bool usePosition) {
    Writer w;
    w.u32(uint32_t(monitors.size())).u32(usePosition ? VD_AGENT_CONFIG_MONITORS_FLAG_USE_POS : 0);
    for (const QRect& m : monitors)
        w.u32(uint32_t(m.height())).u32(uint32_t(m.width())).u32(32).i32(m.x()).i32(m.y());
    return toBytes(w.data());
}

QByteArray clipboardGrab(std::optional<uint8_t> selection, const std::vector<uint32_t>& types) {
    Writer w;
    selectionPrefix(w, selection);
    for (uint32_t t : types)
        w.u32(t);
    return toBytes(w.data());
}

QByteArray clipboardRequest(std::optional<uint8_t> selection, uint32_t type) {
    Writer w;
    selectionPrefix(w, selection);
    w.u32(type);
    return toBytes(w.data());
}

QByteArray clipboardData(std::optional<uint8_t> selection, uint32_t type, const QByteArray& data) {
    Writer w;
    selectionPrefix(w, selection);
    w.u32(type);
    return toBytes(w.data()) + data;
}

QByteArray clipboardRelease(std::optional<uint8_t> selection) {
    Writer w;
    selectionPrefix(w, selection);
    return toBytes(w.data());
}

ClipboardPayload parseClipboard(uint32_t messageType, const QByteArray& body, bool withSelection) {
    Reader r(bytesOf(body));
    ClipboardPayload p;
    if (withSelection) {
        p.selection = r.u8();
        r.skip(3);
    }
    switch (messageType) {
    case VD_AGENT_CLIPBOARD_GRAB:
        while (r.remaining() >= 4)
            p.types.push_back(r.u32());
        if (!p.types.empty())
            p.type = p.types.front();
        break;
    case VD_AGENT_CLIPBOARD_REQUEST:
        p.type = r.u32();
        break;
    case VD_AGENT_CLIPBOARD: {
        p.type = r.u32();
        auto rest = r.rest();
        p.data = QByteArray(reinterpret_cast<const char*>(rest.data()), qsizetype(rest.size()));
        break;
    }
    case VD_AGENT_CLIPBOARD_RELEASE:
        break;
    default:
        throw ProtocolError("not a clipboard message");
    }
    return p;
}

} // namespace saffron::agent
