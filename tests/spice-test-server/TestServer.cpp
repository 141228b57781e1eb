#include "TestServer.h"

#include "Console.h"
#include "EventLoop.h"
#include "Ppm.h"

#include <algorithm>
#include <arpa/inet.h>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <utility>

namespace saffron::testserver {

namespace {

// Queued-but-unfetched draw commands beyond which the next frame waits: without a client
// the worker still renders everything, but a stalled worker must not make us grow forever.
constexpr size_t kMaxPendingDraws = 64;
constexpr int kListenAttempts = 20;

// A port that was free a moment ago. spice-server binds the port itself and gives no way to
// read back an ephemeral one, so "--port 0" means: pick one, and retry if we lose the race.
int pickFreePort() {
    const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    socklen_t len = sizeof addr;
    int port = -1;
    if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
        getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0)
        port = ntohs(addr.sin_port);
    close(fd);
    return port;
}

SpiceImageCompression imageCompression(const std::string& name) {
    if (name == "off")
        return SPICE_IMAGE_COMPRESSION_OFF;
    if (name == "auto_lz")
        return SPICE_IMAGE_COMPRESSION_AUTO_LZ;
    if (name == "quic")
        return SPICE_IMAGE_COMPRESSION_QUIC;
    if (name == "glz")
        return SPICE_IMAGE_COMPRESSION_GLZ;
    if (name == "lz")
        return SPICE_IMAGE_COMPRESSION_LZ;
    if (name == "lz4")
        return SPICE_IMAGE_COMPRESSION_LZ4;
    return SPICE_IMAGE_COMPRESSION_AUTO_GLZ;
}

int streamingVideo(const std::string& name) {
    if (name == "all")
        return SPICE_STREAM_VIDEO_ALL;
    if (name == "filter")
        return SPICE_STREAM_VIDEO_FILTER;
    return SPICE_STREAM_VIDEO_OFF;
}

spice_wan_compression_t wanCompression(const std::string& name) {
    if (name == "always")
        return SPICE_WAN_COMPRESSION_ALWAYS;
    if (name == "auto")
        return SPICE_WAN_COMPRESSION_AUTO;
    return SPICE_WAN_COMPRESSION_NEVER;
}

std::optional<std::pair<int, int>> parseSize(std::string_view s) {
    const auto x = s.find('x');
    if (x == std::string_view::npos)
        return std::nullopt;
    int w = 0;
    int h = 0;
    const auto r1 = std::from_chars(s.data(), s.data() + x, w);
    const auto r2 = std::from_chars(s.data() + x + 1, s.data() + s.size(), h);
    if (r1.ec != std::errc() || r1.ptr != s.data() + x || r2.ec != std::errc() ||
        r2.ptr != s.data() + s.size())
        return std::nullopt;
    if (w < kMinSurfaceSize || h < kMinSurfaceSize || w > kMaxSurfaceSize || h > kMaxSurfaceSize)
        return std::nullopt;
    return std::pair{w, h};
}

const char* channelName(int type) {
    switch (type) {
    case SPICE_CHANNEL_MAIN:
        return "main";
    case SPICE_CHANNEL_DISPLAY:
        return "display";
    case SPICE_CHANNEL_INPUTS:
        return "inputs";
    case SPICE_CHANNEL_CURSOR:
        return "cursor";
    case SPICE_CHANNEL_PLAYBACK:
        return "playback";
    case SPICE_CHANNEL_RECORD:
        return "record";
    case SPICE_CHANNEL_USBREDIR:
        return "usbredir";
    case SPICE_CHANNEL_PORT:
        return "port";
    case SPICE_CHANNEL_WEBDAV:
        return "webdav";
    default:
        return "other";
    }
}

} // namespace

TestServer::TestServer(Options options, EventLoop& loop)
    : options_(std::move(options)), loop_(loop),
      workload_(makeWorkload(options_.workload, options_.videoArea)) {}

TestServer::~TestServer() {
    if (frameTimer_)
        loop_.removeTimer(frameTimer_);
    if (stdinWatch_)
        loop_.removeWatch(stdinWatch_);
    if (server_)
        spice_server_vm_stop(server_.get());
    // Stops the worker thread; it may release resources while doing so.
    server_.reset();
    agent_.reset();
    audio_.reset();
    extraDisplays_.clear();
    qxl_.reset();
    loop_.onChannelEvent = nullptr;
}

void TestServer::configure(SpiceServer* server, int port, int tlsPort) const {
    spice_server_set_addr(server, "127.0.0.1", SPICE_ADDR_FLAG_IPV4_ONLY);
    if (port >= 0)
        spice_server_set_port(server, port);
    if (tlsPort >= 0) {
        const std::string ca = options_.x509Dir + "/ca-cert.pem";
        const std::string cert = options_.x509Dir + "/server-cert.pem";
        const std::string key = options_.x509Dir + "/server-key.pem";
        spice_server_set_tls(server, tlsPort, ca.c_str(), cert.c_str(), key.c_str(), nullptr, nullptr,
                             nullptr);
    }
    if (options_.password.empty())
        spice_server_set_noauth(server);
    else
        spice_server_set_ticket(server, options_.password.c_str(), 0, 0, 0);
    spice_server_set_image_compression(server, imageCompression(options_.imageCompression));
    spice_server_set_streaming_video(server, streamingVideo(options_.streamingVideo));
    spice_server_set_jpeg_compression(server, wanCompression(options_.jpeg));
    spice_server_set_zlib_glz_compression(server, wanCompression(options_.zlibGlz));
    // spice-server drops the entries it cannot parse (unknown encoder or codec) with a
    // warning on stderr and fails only when none is left, keeping its previous list.
    if (!options_.videoCodecs.empty() &&
        spice_server_set_video_codecs(server, options_.videoCodecs.c_str()) != 0)
        printLine("WARNING no usable video codec in " + options_.videoCodecs +
                  ", the server keeps its default");
    spice_server_set_agent_mouse(server, 1);
    spice_server_set_agent_copypaste(server, 1);
    spice_server_set_agent_file_xfer(server, 0);
    spice_server_set_name(server, "saffron-test-server");
}

bool TestServer::listen() {
    const bool pickPort = options_.port && *options_.port == 0;
    const bool pickTls = options_.tlsPort && *options_.tlsPort == 0;
    for (int attempt = 0; attempt < kListenAttempts; ++attempt) {
        port_ = !options_.port ? -1 : pickPort ? pickFreePort() : *options_.port;
        tlsPort_ = !options_.tlsPort ? -1 : pickTls ? pickFreePort() : *options_.tlsPort;
        if ((options_.port && port_ < 0) || (options_.tlsPort && tlsPort_ < 0) ||
            (port_ >= 0 && port_ == tlsPort_))
            continue;
        std::unique_ptr<SpiceServer, ServerDeleter> server(spice_server_new());
        configure(server.get(), port_, tlsPort_);
        if (spice_server_init(server.get(), loop_.core()) == 0) {
            server_ = std::move(server);
            return true;
        }
        if (!pickPort && !pickTls)
            break; // a fixed port that is taken (or bad certificates) will not get better
    }
    std::fprintf(stderr, "saffron-test-server: spice_server_init failed\n");
    return false;
}

bool TestServer::start() {
    loop_.onChannelEvent = [](int event, const SpiceChannelEventInfo& info) {
        const char* what = event == SPICE_CHANNEL_EVENT_CONNECTED      ? "connected"
                           : event == SPICE_CHANNEL_EVENT_INITIALIZED  ? "initialized"
                           : event == SPICE_CHANNEL_EVENT_DISCONNECTED ? "disconnected"
                                                                       : "event";
        // CONNECTED comes before the link message, so the channel type is still 0 there.
        std::string line = std::string("CHANNEL ") + what;
        if (info.type != 0)
            line += std::string(" ") + channelName(info.type) + " " + std::to_string(info.id);
        if (info.flags & SPICE_CHANNEL_EVENT_FLAG_TLS)
            line += " tls";
        printLine(line);
    };
    if (!listen())
        return false;

    qxl_ = std::make_unique<QxlDevice>(server_.get(), 0);
    qxl_->setBottomUpBitmaps(options_.bottomUp);
    if (!qxl_->attach()) {
        std::fprintf(stderr, "saffron-test-server: the server refused the QXL interface\n");
        return false;
    }
    for (int id = 1; id < options_.displays; ++id) {
        extraDisplays_.push_back(std::make_unique<QxlDevice>(server_.get(), id));
        if (!extraDisplays_.back()->attach()) {
            std::fprintf(stderr, "saffron-test-server: the server refused QXL device %d\n", id);
            return false;
        }
    }
    agent_ = std::make_unique<VdAgent>(server_.get(), loop_);
    agent_->onMonitors = [this](const std::vector<VdAgent::MonitorSize>& monitors) {
        return applyMonitors(monitors);
    };
    if (!agent_->attach()) {
        std::fprintf(stderr, "saffron-test-server: the server refused the vdagent device\n");
        return false;
    }
    audio_ = std::make_unique<AudioDevices>(server_.get(), loop_, options_.audio);
    if (!audio_->attach()) {
        std::fprintf(stderr, "saffron-test-server: the server refused an audio interface\n");
        return false;
    }
    frameTimer_ = loop_.addTimer([this] { step(); });

    if (options_.heads > 1)
        showHeads(std::vector<VdAgent::MonitorSize>(static_cast<size_t>(options_.heads),
                                                    VdAgent::MonitorSize{options_.width, options_.height}));
    else
        qxl_->createPrimary(options_.width, options_.height);
    for (const auto& d : extraDisplays_)
        showExtraDisplay(*d, options_.width, options_.height);
    spice_server_vm_start(server_.get());

    if (options_.readStdin)
        stdinWatch_ = loop_.addWatch(0, SPICE_WATCH_EVENT_READ, [this](int fd, int) { readStdin(fd); });

    std::string ready = "READY";
    if (port_ >= 0)
        ready += " port=" + std::to_string(port_);
    if (tlsPort_ >= 0)
        ready += " tls-port=" + std::to_string(tlsPort_);
    printLine(ready);
    announceVideo();
    // After READY, so that a test waiting for READY then "FRAME n" sees every frame line.
    step();
    return true;
}

void TestServer::step() {
    if (options_.frames > 0 && frame_ >= options_.frames)
        return;
    if (frame_ > 0 && !workload_->animated())
        return;
    if (frame_ == 0)
        due_ = std::chrono::steady_clock::now();
    if (qxl_->pendingDraws() > kMaxPendingDraws) {
        armFrameTimer();
        return;
    }
    const auto frame = workload_->frame(frame_ + 1, qxl_->width(), qxl_->height());
    if (!frame)
        return;
    qxl_->submit(*frame);
    ++frame_;
    printLine("FRAME " + std::to_string(frame_));
    if (workload_->animated() && (options_.frames == 0 || frame_ < options_.frames))
        armFrameTimer();
}

void TestServer::armFrameTimer() {
    using namespace std::chrono;
    const auto now = steady_clock::now();
    due_ += nanoseconds(1'000'000'000 / options_.fps);
    // Running late (a slow frame, back-pressure): carry on from now rather than submit a
    // burst of frames to catch up, which the server would only coalesce.
    if (due_ < now)
        due_ = now;
    loop_.startTimer(frameTimer_, static_cast<uint32_t>(ceil<milliseconds>(due_ - now).count()));
}

void TestServer::announceVideo() {
    const Rect r = workload_->videoRect(qxl_->width(), qxl_->height());
    if (r.width() <= 0 || r.height() <= 0)
        return;
    printLine("VIDEO rect=" + std::to_string(r.left) + "," + std::to_string(r.top) + "," +
              std::to_string(r.width()) + "," + std::to_string(r.height()) +
              " fps=" + std::to_string(options_.fps));
}

void TestServer::restart(int width, int height) {
    if (width == qxl_->width() && height == qxl_->height()) {
        // A guest keeps its mode when asked for the one it has (clients often repeat a
        // monitors config); report it so a test waiting for RESIZED does not hang.
        printLine("RESIZED " + std::to_string(width) + "x" + std::to_string(height) + " unchanged");
        return;
    }
    loop_.cancelTimer(frameTimer_);
    // Like a guest mode switch: destroy the primary, create it at the new size, repaint.
    qxl_->destroyPrimary();
    qxl_->createPrimary(width, height);
    frame_ = 0;
    printLine("RESIZED " + std::to_string(width) + "x" + std::to_string(height));
    announceVideo();
    step();
}

bool TestServer::applyMonitors(const std::vector<VdAgent::MonitorSize>& monitors) {
    if (options_.heads > 1) {
        std::vector<VdAgent::MonitorSize> heads;
        for (const auto& m : monitors)
            if (m.enabled() && heads.size() < static_cast<size_t>(options_.heads))
                heads.push_back(m);
        int width = 0;
        for (const auto& h : heads)
            width += h.width;
        if (heads.empty() || width > kMaxSurfaceSize)
            return false;
        loop_.post([this, heads] { showHeads(heads); });
        return true;
    }
    std::vector<std::pair<QxlDevice*, VdAgent::MonitorSize>> changes;
    if (extraDisplays_.empty()) {
        const auto first = std::find_if(monitors.begin(), monitors.end(),
                                        [](const VdAgent::MonitorSize& m) { return m.enabled(); });
        if (first != monitors.end())
            changes.emplace_back(qxl_.get(), *first);
    } else {
        for (size_t i = 0; i < monitors.size(); ++i) {
            QxlDevice* d = display(static_cast<int>(i));
            if (d && monitors[i].enabled())
                changes.emplace_back(d, monitors[i]);
        }
    }
    // Not from inside the char device callback: resizing waits for the worker thread.
    loop_.post([this, changes] {
        for (const auto& [d, size] : changes) {
            if (d == qxl_.get())
                restart(size.width, size.height);
            else
                showExtraDisplay(*d, size.width, size.height);
        }
    });
    return !changes.empty();
}

void TestServer::showHeads(const std::vector<VdAgent::MonitorSize>& heads) {
    std::vector<Rect> rects;
    int x = 0;
    int height = 0;
    std::string line = "HEADS " + std::to_string(heads.size());
    for (const auto& h : heads) {
        rects.push_back({x, 0, x + h.width, h.height});
        line +=
            " " + std::to_string(h.width) + "x" + std::to_string(h.height) + "+" + std::to_string(x) + "+0";
        x += h.width;
        height = std::max(height, h.height);
    }
    if (qxl_->hasPrimary())
        restart(x, height);
    else
        qxl_->createPrimary(x, height);
    qxl_->setHeads(rects);
    printLine(line);
}

QxlDevice* TestServer::display(int id) const {
    if (id == 0)
        return qxl_.get();
    if (id < 0 || static_cast<size_t>(id) > extraDisplays_.size())
        return nullptr;
    return extraDisplays_[static_cast<size_t>(id) - 1].get();
}

void TestServer::showExtraDisplay(QxlDevice& d, int width, int height) {
    const std::string line = "DISPLAY " + std::to_string(d.id()) + " RESIZED " + std::to_string(width) + "x" +
                             std::to_string(height);
    if (d.hasPrimary() && d.width() == width && d.height() == height) {
        printLine(line + " unchanged");
        return;
    }
    const bool resized = d.hasPrimary();
    d.destroyPrimary();
    d.createPrimary(width, height);
    d.submit(displayFrame(d.id(), width, height));
    if (resized)
        printLine(line);
}

void TestServer::readStdin(int fd) {
    char buf[4096];
    const ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return;
    if (n <= 0) {
        // Our parent closed the pipe (or died): leave rather than linger as an orphan.
        loop_.removeWatch(stdinWatch_);
        stdinWatch_ = nullptr;
        loop_.quit(0);
        return;
    }
    stdinBuffer_.append(buf, static_cast<size_t>(n));
    size_t newline;
    while ((newline = stdinBuffer_.find('\n')) != std::string::npos) {
        std::string line = stdinBuffer_.substr(0, newline);
        stdinBuffer_.erase(0, newline + 1);
        if (!line.empty() && line.back() == '\r')
            line.pop_back();
        if (!line.empty())
            command(line);
    }
}

void TestServer::command(std::string_view line) {
    const auto space = line.find(' ');
    const std::string_view verb = line.substr(0, space);
    const std::string_view arg =
        space == std::string_view::npos ? std::string_view() : line.substr(space + 1);
    if (verb == "quit") {
        loop_.quit(0);
    } else if (verb == "clipboard") {
        agent_->grabClipboard(unescapeLine(arg));
    } else if (verb == "release-clipboard") {
        agent_->releaseClipboard();
    } else if (verb == "clipboard-file") {
        // clipboard-file png|bmp PATH: grab the clipboard with that file's bytes as an image.
        const auto sep = arg.find(' ');
        const std::string_view kind = arg.substr(0, sep);
        const uint32_t type = kind == "png"   ? VD_AGENT_CLIPBOARD_IMAGE_PNG
                              : kind == "bmp" ? VD_AGENT_CLIPBOARD_IMAGE_BMP
                                              : VD_AGENT_CLIPBOARD_NONE;
        std::ifstream file(std::string(sep == std::string_view::npos ? "" : arg.substr(sep + 1)),
                           std::ios::binary);
        if (type == VD_AGENT_CLIPBOARD_NONE || !file)
            printLine("ERROR clipboard-file: need png|bmp and a readable file");
        else
            agent_->grabClipboard(std::string(std::istreambuf_iterator<char>(file), {}), type);
    } else if (verb == "request-clipboard") {
        // request-clipboard [png]: ask for text, or for a PNG image.
        agent_->requestClipboard(arg == "png" ? VD_AGENT_CLIPBOARD_IMAGE_PNG : VD_AGENT_CLIPBOARD_UTF8_TEXT);
    } else if (verb == "dump-surface" && !arg.empty()) {
        // dump-surface PATH [DISPLAY]
        const auto sep = arg.find(' ');
        const std::string path(arg.substr(0, sep));
        int id = 0;
        if (sep != std::string_view::npos) {
            const std::string_view n = arg.substr(sep + 1);
            const auto r = std::from_chars(n.data(), n.data() + n.size(), id);
            if (r.ec != std::errc() || r.ptr != n.data() + n.size())
                id = -1;
        }
        QxlDevice* d = display(id);
        if (!d || !d->hasPrimary())
            printLine("ERROR no display " +
                      std::string(arg.substr(sep == std::string_view::npos ? arg.size() : sep + 1)));
        else if (writePpm(path, d->readSurface()))
            printLine("DUMPED " + path);
        else
            printLine("ERROR cannot write " + path);
    } else if (verb == "resize") {
        const auto size = parseSize(arg);
        if (size)
            restart(size->first, size->second);
        else
            printLine("ERROR bad size " + std::string(arg));
    } else if (verb == "status") {
        printLine("STATUS frame=" + std::to_string(frame_) + " size=" + std::to_string(qxl_->width()) + "x" +
                  std::to_string(qxl_->height()) + " resources=" + std::to_string(qxl_->liveResources()));
    } else if (audio_ && audio_->command(verb, arg)) {
        // handled: playback-volume, playback-mute, playback-status, record-reset, record-report
    } else {
        printLine("ERROR unknown command: " + std::string(line));
    }
}

} // namespace saffron::testserver
