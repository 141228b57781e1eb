#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <span>
#include <spice.h>
#include <spice/vd_agent.h>
#include <string>
#include <vector>

namespace saffron::testserver {

class EventLoop;

// An emulated guest agent behind the "vdagent" char device (spice-char.h), speaking the
// agent protocol of spice/vd_agent.h: the byte stream is a sequence of VDIChunkHeader
// {port, size} + payload; the payloads of one port concatenate into VDAgentMessage
// {protocol, type, opaque, size} + data. It reports every message as one stdout line
// ("AGENT ..."), acknowledges monitors/display configuration with VD_AGENT_REPLY, resizes
// the screen on VD_AGENT_MONITORS_CONFIG and plays the guest side of the clipboard.
//
// All callbacks run on the main thread: spice-server drives char devices from its main
// loop (reds.cpp / char-device.cpp), which is our EventLoop.
class VdAgent {
public:
    VdAgent(SpiceServer* server, EventLoop& loop);
    VdAgent(const VdAgent&) = delete;
    VdAgent& operator=(const VdAgent&) = delete;

    // spice_server_add_interface; announces our capabilities (request=1) right away, as a
    // starting agent does. False if the server refused the device.
    bool attach();

    // A monitors config: one size per monitor in the client's order (0x0 for a disabled one),
    // each enabled size within kMinSurfaceSize..kMaxSurfaceSize (else the agent refuses the
    // config without calling this). Return false to make the agent reply VD_AGENT_ERROR.
    struct MonitorSize {
        int width = 0;
        int height = 0;
        bool enabled() const { return width > 0 && height > 0; }
    };
    static constexpr size_t kMaxMonitors = 16;
    std::function<bool(const std::vector<MonitorSize>& monitors)> onMonitors;

    // Control commands (stdin): grab the clipboard with data of one type (UTF-8 text, or a PNG
    // file's bytes), release it, or ask the client for its clipboard in one type (printed as
    // "AGENT clipboard utf8 <text>", or "AGENT clipboard png <N> bytes fnv1a=<hex>").
    void grabClipboard(std::string data, uint32_t type = VD_AGENT_CLIPBOARD_UTF8_TEXT);
    void releaseClipboard();
    void requestClipboard(uint32_t type = VD_AGENT_CLIPBOARD_UTF8_TEXT);

private:
    struct Instance {
        SpiceCharDeviceInstance sin;
        VdAgent* owner;
    };
    static VdAgent& self(SpiceCharDeviceInstance* sin);
    static void cbState(SpiceCharDeviceInstance* sin, int connected);
    static int cbWrite(SpiceCharDeviceInstance* sin, const uint8_t* buf, int len);
    static int cbRead(SpiceCharDeviceInstance* sin, uint8_t* buf, int len);
    static void cbEvent(SpiceCharDeviceInstance* sin, uint8_t event);

    void receiveBytes(std::span<const uint8_t> bytes);
    void receiveChunk(uint32_t port, std::span<const uint8_t> payload);
    void handleMessage(uint32_t type, std::span<const uint8_t> data);
    void handleAnnounce(std::span<const uint8_t> data);
    void handleMonitorsConfig(std::span<const uint8_t> data);
    void handleClipboardGrab(std::span<const uint8_t> data);
    void handleClipboardRequest(std::span<const uint8_t> data);
    void handleClipboard(std::span<const uint8_t> data);

    void send(uint32_t type, const std::vector<uint8_t>& data);
    void sendReply(uint32_t type, uint32_t error);
    void announce(bool request);
    // True when both sides announced VD_AGENT_CAP_CLIPBOARD_SELECTION: clipboard messages
    // then start with a selection byte and three reserved bytes.
    bool useSelection() const;
    void scheduleWakeup();

    SpiceServer* server_;
    EventLoop& loop_;
    static const SpiceCharDeviceInterface interface_;
    Instance instance_{};

    std::vector<uint8_t> inbound_;    // bytes not yet forming a whole chunk
    std::vector<uint8_t> streams_[2]; // message stream per port (client, server)
    std::deque<uint8_t> outbound_;    // chunks waiting for the server's read()
    std::vector<uint32_t> clientCaps_;
    std::string clipboard_;
    uint32_t clipboardType_ = VD_AGENT_CLIPBOARD_UTF8_TEXT;
    bool ownsClipboard_ = false;
    bool wakeupPending_ = false;
};

} // namespace saffron::testserver
