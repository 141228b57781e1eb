#include "VdAgent.h"

#include "Console.h"
#include "EventLoop.h"
#include "Workload.h"
#include "wire/Reader.h"
#include "wire/Writer.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <spice/vd_agent.h>
#include <string>

namespace saffron::testserver {

namespace {

constexpr size_t kChunkHeaderSize = 8;    // VDIChunkHeader: port, size
constexpr size_t kMessageHeaderSize = 20; // VDAgentMessage: protocol, type, opaque, size
// Bounds on what we buffer from the server: chunks are at most VD_AGENT_MAX_DATA_SIZE in
// practice (reds.cpp copies one SPICE_MSGC_MAIN_AGENT_DATA per chunk); a message can be a
// large clipboard.
constexpr uint32_t kMaxChunk = 64 * 1024;
constexpr uint32_t kMaxMessage = 64 * 1024 * 1024;

constexpr std::array<uint32_t, 6> kOurCaps = {
    VD_AGENT_CAP_MONITORS_CONFIG,        VD_AGENT_CAP_REPLY,
    VD_AGENT_CAP_CLIPBOARD_BY_DEMAND,    VD_AGENT_CAP_CLIPBOARD_SELECTION,
    VD_AGENT_CAP_SPARSE_MONITORS_CONFIG, VD_AGENT_CAP_FILE_XFER_DISABLED,
};

std::string capabilityName(uint32_t bit) {
    static constexpr std::array<const char*, VD_AGENT_END_CAP> names = {
        "mouse-state",
        "monitors-config",
        "reply",
        "clipboard",
        "display-config",
        "clipboard-by-demand",
        "clipboard-selection",
        "sparse-monitors-config",
        "guest-lineend-lf",
        "guest-lineend-crlf",
        "max-clipboard",
        "audio-volume-sync",
        "monitors-config-position",
        "file-xfer-disabled",
        "file-xfer-detailed-errors",
        "graphics-device-info",
        "clipboard-no-release-on-regrab",
        "clipboard-grab-serial",
    };
    if (bit < names.size())
        return names[bit];
    return "cap" + std::to_string(bit);
}

std::string clipboardTypeName(uint32_t type) {
    switch (type) {
    case VD_AGENT_CLIPBOARD_NONE:
        return "none";
    case VD_AGENT_CLIPBOARD_UTF8_TEXT:
        return "utf8";
    case VD_AGENT_CLIPBOARD_IMAGE_PNG:
        return "png";
    case VD_AGENT_CLIPBOARD_IMAGE_BMP:
        return "bmp";
    case VD_AGENT_CLIPBOARD_IMAGE_TIFF:
        return "tiff";
    case VD_AGENT_CLIPBOARD_IMAGE_JPG:
        return "jpg";
    case VD_AGENT_CLIPBOARD_FILE_LIST:
        return "file-list";
    default:
        return "type" + std::to_string(type);
    }
}

// Empty for the default CLIPBOARD selection so the common case reads "AGENT clipboard utf8 ...".
std::string selectionPrefix(uint8_t selection) {
    switch (selection) {
    case VD_AGENT_CLIPBOARD_SELECTION_CLIPBOARD:
        return "";
    case VD_AGENT_CLIPBOARD_SELECTION_PRIMARY:
        return "primary ";
    case VD_AGENT_CLIPBOARD_SELECTION_SECONDARY:
        return "secondary ";
    default:
        return "selection" + std::to_string(selection) + " ";
    }
}

} // namespace

const SpiceCharDeviceInterface VdAgent::interface_ = [] {
    SpiceCharDeviceInterface i{};
    i.base.type = SPICE_INTERFACE_CHAR_DEVICE;
    i.base.description = "saffron emulated vdagent";
    i.base.major_version = SPICE_INTERFACE_CHAR_DEVICE_MAJOR;
    i.base.minor_version = SPICE_INTERFACE_CHAR_DEVICE_MINOR;
    i.state = &VdAgent::cbState;
    i.write = &VdAgent::cbWrite;
    i.read = &VdAgent::cbRead;
    i.event = &VdAgent::cbEvent;
    // We always accept every byte written, so the server never waits for "writable".
    i.flags = static_cast<spice_char_device_flags>(0);
    return i;
}();

VdAgent::VdAgent(SpiceServer* server, EventLoop& loop) : server_(server), loop_(loop) {
    instance_.sin.base.sif = &interface_.base;
    instance_.sin.subtype = "vdagent";
    instance_.sin.portname = nullptr;
    instance_.owner = this;
}

VdAgent& VdAgent::self(SpiceCharDeviceInstance* sin) {
    return *reinterpret_cast<Instance*>(sin)->owner;
}

bool VdAgent::attach() {
    if (spice_server_add_interface(server_, &instance_.sin.base) != 0)
        return false;
    announce(true);
    return true;
}

// --- char device callbacks ------------------------------------------------------------

void VdAgent::cbState(SpiceCharDeviceInstance*, int) {}

void VdAgent::cbEvent(SpiceCharDeviceInstance*, uint8_t) {}

int VdAgent::cbWrite(SpiceCharDeviceInstance* sin, const uint8_t* buf, int len) {
    if (len <= 0)
        return 0;
    self(sin).receiveBytes({buf, static_cast<size_t>(len)});
    return len;
}

int VdAgent::cbRead(SpiceCharDeviceInstance* sin, uint8_t* buf, int len) {
    VdAgent& agent = self(sin);
    const size_t n = std::min(agent.outbound_.size(), static_cast<size_t>(std::max(len, 0)));
    std::copy_n(agent.outbound_.begin(), n, buf);
    agent.outbound_.erase(agent.outbound_.begin(), agent.outbound_.begin() + static_cast<std::ptrdiff_t>(n));
    return static_cast<int>(n);
}

// --- receiving ------------------------------------------------------------------------

void VdAgent::receiveBytes(std::span<const uint8_t> bytes) {
    inbound_.insert(inbound_.end(), bytes.begin(), bytes.end());
    size_t pos = 0;
    while (inbound_.size() - pos >= kChunkHeaderSize) {
        Reader header(std::span<const uint8_t>(inbound_).subspan(pos, kChunkHeaderSize));
        const uint32_t port = header.u32();
        const uint32_t size = header.u32();
        if (size > kMaxChunk || (port != VDP_CLIENT_PORT && port != VDP_SERVER_PORT)) {
            // The framing is lost; a real agent would reset its port. Start over.
            printLine("AGENT error bad-chunk port=" + std::to_string(port) + " size=" + std::to_string(size));
            inbound_.clear();
            streams_[0].clear();
            streams_[1].clear();
            return;
        }
        if (inbound_.size() - pos - kChunkHeaderSize < size)
            break;
        receiveChunk(port, std::span<const uint8_t>(inbound_).subspan(pos + kChunkHeaderSize, size));
        pos += kChunkHeaderSize + size;
    }
    inbound_.erase(inbound_.begin(), inbound_.begin() + static_cast<std::ptrdiff_t>(pos));
}

void VdAgent::receiveChunk(uint32_t port, std::span<const uint8_t> payload) {
    auto& stream = streams_[port == VDP_CLIENT_PORT ? 0 : 1];
    stream.insert(stream.end(), payload.begin(), payload.end());
    size_t pos = 0;
    while (stream.size() - pos >= kMessageHeaderSize) {
        Reader header(std::span<const uint8_t>(stream).subspan(pos, kMessageHeaderSize));
        const uint32_t protocol = header.u32();
        const uint32_t type = header.u32();
        header.u64(); // opaque: not used by any message we handle
        const uint32_t size = header.u32();
        if (protocol != VD_AGENT_PROTOCOL || size > kMaxMessage) {
            printLine("AGENT error bad-message protocol=" + std::to_string(protocol) +
                      " size=" + std::to_string(size));
            stream.clear();
            return;
        }
        if (stream.size() - pos - kMessageHeaderSize < size)
            break;
        const auto data = std::span<const uint8_t>(stream).subspan(pos + kMessageHeaderSize, size);
        try {
            handleMessage(type, data);
        } catch (const ProtocolError& e) {
            printLine("AGENT error type=" + std::to_string(type) + " " + e.what());
        }
        pos += kMessageHeaderSize + size;
    }
    stream.erase(stream.begin(), stream.begin() + static_cast<std::ptrdiff_t>(pos));
}

void VdAgent::handleMessage(uint32_t type, std::span<const uint8_t> data) {
    Reader r(data);
    switch (type) {
    case VD_AGENT_ANNOUNCE_CAPABILITIES:
        handleAnnounce(data);
        break;
    case VD_AGENT_MONITORS_CONFIG:
        handleMonitorsConfig(data);
        break;
    case VD_AGENT_DISPLAY_CONFIG: {
        const uint32_t flags = r.u32();
        const uint32_t depth = r.u32();
        printLine("AGENT display-config flags=" + std::to_string(flags) + " depth=" + std::to_string(depth));
        // vd_agent.h: "Acknowledged by Windows agent using VD_AGENT_REPLY".
        sendReply(VD_AGENT_DISPLAY_CONFIG, VD_AGENT_SUCCESS);
        break;
    }
    case VD_AGENT_MOUSE_STATE: {
        const uint32_t x = r.u32();
        const uint32_t y = r.u32();
        const uint32_t buttons = r.u32();
        const uint8_t display = r.u8();
        printLine("AGENT mouse-state " + std::to_string(x) + " " + std::to_string(y) + " " +
                  std::to_string(buttons) + " " + std::to_string(display));
        break;
    }
    case VD_AGENT_CLIPBOARD_GRAB:
        handleClipboardGrab(data);
        break;
    case VD_AGENT_CLIPBOARD_REQUEST:
        handleClipboardRequest(data);
        break;
    case VD_AGENT_CLIPBOARD:
        handleClipboard(data);
        break;
    case VD_AGENT_CLIPBOARD_RELEASE: {
        const std::string selection = selectionPrefix(useSelection() ? r.u8() : 0);
        // selectionPrefix ends with a space when not empty; here it is the last word.
        printLine("AGENT clipboard-release" +
                  (selection.empty() ? "" : " " + selection.substr(0, selection.size() - 1)));
        break;
    }
    case VD_AGENT_CLIENT_DISCONNECTED:
        printLine("AGENT client-disconnected");
        clientCaps_.clear();
        break;
    case VD_AGENT_MAX_CLIPBOARD:
        printLine("AGENT max-clipboard " + std::to_string(r.i32()));
        break;
    case VD_AGENT_AUDIO_VOLUME_SYNC: {
        const uint8_t playback = r.u8();
        const uint8_t mute = r.u8();
        const uint8_t channels = r.u8();
        std::string line =
            "AGENT audio-volume-sync playback=" + std::to_string(playback) + " mute=" + std::to_string(mute);
        for (uint8_t i = 0; i < channels; ++i)
            line += " " + std::to_string(r.u16());
        printLine(line);
        break;
    }
    case VD_AGENT_FILE_XFER_START: {
        // We announce VD_AGENT_CAP_FILE_XFER_DISABLED (and the server filters file transfer
        // out), but answer a stray start properly so a client never waits forever.
        const uint32_t id = r.u32();
        printLine("AGENT file-xfer-start id=" + std::to_string(id));
        Writer w;
        w.u32(id).u32(VD_AGENT_FILE_XFER_STATUS_DISABLED);
        send(VD_AGENT_FILE_XFER_STATUS, w.data());
        break;
    }
    case VD_AGENT_GRAPHICS_DEVICE_INFO:
        printLine("AGENT graphics-device-info count=" + std::to_string(r.u32()));
        break;
    default:
        printLine("AGENT unknown type=" + std::to_string(type) + " size=" + std::to_string(data.size()));
        break;
    }
}

void VdAgent::handleAnnounce(std::span<const uint8_t> data) {
    Reader r(data);
    const uint32_t request = r.u32();
    clientCaps_.clear();
    while (r.remaining() >= 4)
        clientCaps_.push_back(r.u32());
    std::string names;
    for (size_t word = 0; word < clientCaps_.size(); ++word)
        for (uint32_t bit = 0; bit < 32; ++bit)
            if (clientCaps_[word] & (1u << bit))
                names += (names.empty() ? "" : ",") + capabilityName(static_cast<uint32_t>(word * 32 + bit));
    printLine("AGENT announce-capabilities request=" + std::to_string(request) + " caps=" + names);
    if (request)
        announce(false);
}

void VdAgent::handleMonitorsConfig(std::span<const uint8_t> data) {
    Reader r(data);
    const uint32_t count = r.u32();
    const uint32_t flags = r.u32();
    // VDAgentMonConfig: height, width, depth, x, y (note: height first).
    auto monitors = Reader(r.array(count, 20));
    std::string line = "AGENT monitors-config " + std::to_string(count);
    std::vector<MonitorSize> sizes;
    bool ok = true;
    for (uint32_t i = 0; i < count; ++i) {
        const uint32_t h = monitors.u32();
        const uint32_t w = monitors.u32();
        monitors.u32(); // depth
        const int32_t x = monitors.i32();
        const int32_t y = monitors.i32();
        line += " " + std::to_string(w) + "x" + std::to_string(h) + (x < 0 ? "" : "+") + std::to_string(x) +
                (y < 0 ? "" : "+") + std::to_string(y);
        // 0x0 disables a monitor (sparse configs, VD_AGENT_CAP_SPARSE_MONITORS_CONFIG).
        const bool enabled = w != 0 && h != 0;
        if (enabled &&
            (w < kMinSurfaceSize || h < kMinSurfaceSize || w > kMaxSurfaceSize || h > kMaxSurfaceSize))
            ok = false;
        if (sizes.size() < kMaxMonitors)
            sizes.push_back(enabled ? MonitorSize{static_cast<int>(std::min<uint32_t>(w, kMaxSurfaceSize)),
                                                  static_cast<int>(std::min<uint32_t>(h, kMaxSurfaceSize))}
                                    : MonitorSize{});
    }
    if (flags & VD_AGENT_CONFIG_MONITORS_FLAG_USE_POS)
        line += " use-pos";
    printLine(line);

    if (ok && onMonitors)
        ok = onMonitors(sizes);
    // vd_agent.h: VD_AGENT_MONITORS_CONFIG is "acknowledged by the agent using VD_AGENT_REPLY".
    sendReply(VD_AGENT_MONITORS_CONFIG, ok ? VD_AGENT_SUCCESS : VD_AGENT_ERROR);
}

void VdAgent::handleClipboardGrab(std::span<const uint8_t> data) {
    Reader r(data);
    uint8_t selection = 0;
    if (useSelection()) {
        selection = r.u8();
        r.skip(3);
    }
    std::string line = "AGENT clipboard-grab " + selectionPrefix(selection);
    std::string types;
    while (r.remaining() >= 4)
        types += (types.empty() ? "" : " ") + clipboardTypeName(r.u32());
    printLine(line + types);
    // The client owns that selection now.
    if (selection == VD_AGENT_CLIPBOARD_SELECTION_CLIPBOARD)
        ownsClipboard_ = false;
}

void VdAgent::handleClipboardRequest(std::span<const uint8_t> data) {
    Reader r(data);
    uint8_t selection = 0;
    if (useSelection()) {
        selection = r.u8();
        r.skip(3);
    }
    const uint32_t type = r.u32();
    printLine("AGENT clipboard-request " + selectionPrefix(selection) + clipboardTypeName(type));

    Writer w;
    if (useSelection())
        w.u8(selection).u8(0).u8(0).u8(0);
    const bool have =
        ownsClipboard_ && selection == VD_AGENT_CLIPBOARD_SELECTION_CLIPBOARD && type == clipboardType_;
    if (have) {
        w.u32(clipboardType_);
        w.bytes({reinterpret_cast<const uint8_t*>(clipboard_.data()), clipboard_.size()});
    } else {
        // Nothing of that type: an empty VD_AGENT_CLIPBOARD_NONE answer, as spice-vdagent
        // does, so the client's pending request completes.
        w.u32(VD_AGENT_CLIPBOARD_NONE);
    }
    send(VD_AGENT_CLIPBOARD, w.data());
}

void VdAgent::handleClipboard(std::span<const uint8_t> data) {
    Reader r(data);
    uint8_t selection = 0;
    if (useSelection()) {
        selection = r.u8();
        r.skip(3);
    }
    const uint32_t type = r.u32();
    const auto payload = r.rest();
    std::string line = "AGENT clipboard " + selectionPrefix(selection) + clipboardTypeName(type);
    if (type == VD_AGENT_CLIPBOARD_UTF8_TEXT) {
        line += " " + escapeLine({reinterpret_cast<const char*>(payload.data()), payload.size()});
    } else if (type != VD_AGENT_CLIPBOARD_NONE) {
        // Binary payloads (images) are identified by size and FNV-1a hash, which tests compute
        // on their side too.
        uint64_t hash = 0xcbf29ce484222325ull;
        for (uint8_t b : payload)
            hash = (hash ^ b) * 0x100000001b3ull;
        char hex[17];
        std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(hash));
        line += " " + std::to_string(payload.size()) + " bytes fnv1a=" + hex;
    }
    printLine(line);
}

// --- sending --------------------------------------------------------------------------

bool VdAgent::useSelection() const {
    constexpr uint32_t bit = VD_AGENT_CAP_CLIPBOARD_SELECTION;
    return clientCaps_.size() > bit / 32 && (clientCaps_[bit / 32] & (1u << (bit % 32)));
}

void VdAgent::announce(bool request) {
    std::array<uint32_t, VD_AGENT_CAPS_SIZE> caps{};
    for (uint32_t bit : kOurCaps)
        caps[bit / 32] |= 1u << (bit % 32);
    Writer w;
    w.u32(request ? 1 : 0);
    for (uint32_t word : caps)
        w.u32(word);
    send(VD_AGENT_ANNOUNCE_CAPABILITIES, w.data());
}

void VdAgent::sendReply(uint32_t type, uint32_t error) {
    Writer w;
    w.u32(type).u32(error);
    send(VD_AGENT_REPLY, w.data());
}

void VdAgent::send(uint32_t type, const std::vector<uint8_t>& data) {
    Writer message;
    message.u32(VD_AGENT_PROTOCOL).u32(type).u64(0).u32(static_cast<uint32_t>(data.size()));
    message.bytes(data);
    // Each chunk carries at most VD_AGENT_MAX_DATA_SIZE bytes and never two messages:
    // spice-server's agent_msg_filter_process_data checks every chunk against that limit
    // and expects a chunk to either start a message or continue the current one.
    const auto& bytes = message.data();
    for (size_t pos = 0; pos < bytes.size(); pos += VD_AGENT_MAX_DATA_SIZE) {
        const size_t n = std::min<size_t>(VD_AGENT_MAX_DATA_SIZE, bytes.size() - pos);
        Writer chunk;
        chunk.u32(VDP_CLIENT_PORT).u32(static_cast<uint32_t>(n));
        outbound_.insert(outbound_.end(), chunk.data().begin(), chunk.data().end());
        outbound_.insert(outbound_.end(), bytes.begin() + static_cast<std::ptrdiff_t>(pos),
                         bytes.begin() + static_cast<std::ptrdiff_t>(pos + n));
    }
    scheduleWakeup();
}

void VdAgent::scheduleWakeup() {
    // Not called directly: we may be inside the server's write callback, and the wakeup
    // re-enters the char device's read/write loop.
    if (wakeupPending_)
        return;
    wakeupPending_ = true;
    loop_.post([this] {
        wakeupPending_ = false;
        spice_server_char_device_wakeup(&instance_.sin);
    });
}

// --- control --------------------------------------------------------------------------

void VdAgent::grabClipboard(std::string data, uint32_t type) {
    clipboard_ = std::move(data);
    clipboardType_ = type;
    ownsClipboard_ = true;
    Writer w;
    if (useSelection())
        w.u8(VD_AGENT_CLIPBOARD_SELECTION_CLIPBOARD).u8(0).u8(0).u8(0);
    w.u32(type);
    send(VD_AGENT_CLIPBOARD_GRAB, w.data());
}

void VdAgent::releaseClipboard() {
    ownsClipboard_ = false;
    Writer w;
    if (useSelection())
        w.u8(VD_AGENT_CLIPBOARD_SELECTION_CLIPBOARD).u8(0).u8(0).u8(0);
    send(VD_AGENT_CLIPBOARD_RELEASE, w.data());
}

void VdAgent::requestClipboard(uint32_t type) {
    Writer w;
    if (useSelection())
        w.u8(VD_AGENT_CLIPBOARD_SELECTION_CLIPBOARD).u8(0).u8(0).u8(0);
    w.u32(type);
    send(VD_AGENT_CLIPBOARD_REQUEST, w.data());
}

} // namespace saffron::testserver
