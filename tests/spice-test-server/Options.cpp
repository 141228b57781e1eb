#include "Options.h"

#include "Workload.h"

#include <algorithm>
#include <charconv>
#include <initializer_list>
#include <string>
#include <string_view>

namespace saffron::testserver {

namespace {

std::optional<int> parseInt(std::string_view s, int min, int max) {
    int value = 0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
    if (ec != std::errc() || end != s.data() + s.size() || value < min || value > max)
        return std::nullopt;
    return value;
}

// "x,y,w,h" with x, y >= 0 and w, h >= 1, within the largest surface.
std::optional<Rect> parseRect(std::string_view s) {
    int v[4] = {};
    for (int i = 0; i < 4; ++i) {
        const auto comma = i < 3 ? s.find(',') : s.size();
        if (comma == std::string_view::npos)
            return std::nullopt;
        const auto n = parseInt(s.substr(0, comma), i < 2 ? 0 : 1, kMaxSurfaceSize);
        if (!n)
            return std::nullopt;
        v[i] = *n;
        s.remove_prefix(std::min(comma + 1, s.size()));
    }
    return Rect{v[0], v[1], v[0] + v[2], v[1] + v[3]};
}

bool oneOf(const std::string& value, std::initializer_list<std::string_view> allowed) {
    return std::find(allowed.begin(), allowed.end(), value) != allowed.end();
}

} // namespace

const char* usageText() {
    return "usage: saffron-test-server [options]\n"
           "  --port N                 plain port on 127.0.0.1 (0 picks a free one)\n"
           "  --tls-port N             TLS port (0 picks a free one), needs --x509-dir\n"
           "  --x509-dir DIR           ca-cert.pem, server-cert.pem, server-key.pem\n"
           "  --password PW            require this ticket (default: no authentication)\n"
           "  --size WxH               primary surface size (default 1024x768)\n"
           "  --displays N             QXL devices (display channels), 1..4 (default 1); the\n"
           "                           extra ones show a still picture naming them\n"
           "  --heads N                heads on display 0, 1..4 (default 1): its surface is N\n"
           "                           times --size wide, cut into heads by a QXL monitors config\n"
           "  --workload NAME          static|scroll|cursor|photo|video|video-moving|video-noise\n"
           "                           (default static)\n"
           "  --video-rect X,Y,W,H     where the video workloads play (default: centre quarter)\n"
           "  --video-fullscreen       the video workloads play on the whole surface\n"
           "  --bottom-up              the QXL device's bitmaps are stored bottom-up (streams too)\n"
           "  --fps N                  frames per second of animated workloads, 1..60 (default 25)\n"
           "  --image-compression C    off|auto_glz|auto_lz|quic|glz|lz|lz4 (default auto_glz)\n"
           "  --streaming-video S      off|all|filter (default off)\n"
           "  --jpeg W                 auto|always|never: JPEG on WAN links (default never)\n"
           "  --zlib-glz W             auto|always|never: zlib over GLZ (default never)\n"
           "  --video-codecs LIST      passed to spice_server_set_video_codecs\n"
           "  --frames N               stop the workload after N frames (default: never)\n"
           "  --dump-expected FILE     write the surface after frame N (or 1) as PPM and exit\n"
           "  --no-stdin               do not read control commands (nor quit on stdin "
           "EOF)\n" SAFFRON_TESTSERVER_AUDIO_USAGE
           "stdin commands: quit | clipboard TEXT | clipboard-file png|bmp FILE | release-clipboard |\n"
           "                request-clipboard [png] |\n"
           "                dump-surface FILE [DISPLAY] | resize WxH | status |\n"
           "                playback-volume V (0..65535) | playback-mute 0|1 | record-reset | "
           "record-report\n";
}

std::optional<Options> parseOptions(const std::vector<std::string>& args, std::string& error) {
    Options o;
    bool explicitRect = false;
    bool fullscreen = false;
    for (size_t i = 0; i < args.size(); ++i) {
        const std::string& a = args[i];
        if (a == "--no-stdin") {
            o.readStdin = false;
            continue;
        }
        if (a == "--video-fullscreen") {
            fullscreen = true;
            continue;
        }
        if (a == "--bottom-up") {
            o.bottomUp = true;
            continue;
        }
        if (parseAudioOption(args, i, o.audio, error)) {
            if (!error.empty())
                return std::nullopt;
            continue;
        }
        if (a == "--help" || a == "-h") {
            error = "help";
            return std::nullopt;
        }
        if (!oneOf(a, {"--port", "--tls-port", "--x509-dir", "--password", "--size", "--workload",
                       "--image-compression", "--streaming-video", "--jpeg", "--zlib-glz", "--video-codecs",
                       "--frames", "--dump-expected", "--video-rect", "--fps", "--displays", "--heads"})) {
            error = "unknown option: " + a;
            return std::nullopt;
        }
        if (i + 1 >= args.size()) {
            error = "missing value for " + a;
            return std::nullopt;
        }
        const std::string& v = args[++i];
        if (a == "--port" || a == "--tls-port") {
            const auto port = parseInt(v, 0, 65535);
            if (!port) {
                error = "bad port: " + v;
                return std::nullopt;
            }
            (a == "--port" ? o.port : o.tlsPort) = *port;
        } else if (a == "--x509-dir") {
            o.x509Dir = v;
        } else if (a == "--password") {
            o.password = v;
        } else if (a == "--size") {
            const auto x = v.find('x');
            const auto w = x == std::string::npos
                               ? std::nullopt
                               : parseInt(std::string_view(v).substr(0, x), kMinSurfaceSize, kMaxSurfaceSize);
            const auto h = x == std::string::npos ? std::nullopt
                                                  : parseInt(std::string_view(v).substr(x + 1),
                                                             kMinSurfaceSize, kMaxSurfaceSize);
            if (!w || !h) {
                error = "bad size (WxH, each 64..4096): " + v;
                return std::nullopt;
            }
            o.width = *w;
            o.height = *h;
        } else if (a == "--workload") {
            if (!makeWorkload(v)) {
                error = "unknown workload: " + v;
                return std::nullopt;
            }
            o.workload = v;
        } else if (a == "--image-compression") {
            if (!oneOf(v, {"off", "auto_glz", "auto_lz", "quic", "glz", "lz", "lz4"})) {
                error = "bad image compression: " + v;
                return std::nullopt;
            }
            o.imageCompression = v;
        } else if (a == "--streaming-video") {
            if (!oneOf(v, {"off", "all", "filter"})) {
                error = "bad streaming video mode: " + v;
                return std::nullopt;
            }
            o.streamingVideo = v;
        } else if (a == "--jpeg" || a == "--zlib-glz") {
            if (!oneOf(v, {"auto", "always", "never"})) {
                error = "bad value for " + a + ": " + v;
                return std::nullopt;
            }
            (a == "--jpeg" ? o.jpeg : o.zlibGlz) = v;
        } else if (a == "--video-codecs") {
            // libspice-server 0.15 accepts "spice:vp8" and the like, then aborts when the first
            // stream starts (mjpeg_encoder_new: its built-in encoder only does MJPEG).
            for (size_t start = 0; start <= v.size();) {
                const size_t end = std::min(v.find(';', start), v.size());
                const std::string entry = v.substr(start, end - start);
                if (entry.rfind("spice:", 0) == 0 && entry != "spice:mjpeg") {
                    error = "the built-in encoder only does spice:mjpeg, " + entry +
                            " would make libspice-server abort when a stream starts";
                    return std::nullopt;
                }
                start = end + 1;
            }
            o.videoCodecs = v;
        } else if (a == "--frames") {
            const auto n = parseInt(v, 0, 1 << 30);
            if (!n) {
                error = "bad frame count: " + v;
                return std::nullopt;
            }
            o.frames = *n;
        } else if (a == "--video-rect") {
            const auto rect = parseRect(v);
            if (!rect) {
                error = "bad video rectangle (X,Y,W,H): " + v;
                return std::nullopt;
            }
            o.videoArea.rect = *rect;
            o.videoArea.mode = VideoArea::Mode::Rect;
            explicitRect = true;
        } else if (a == "--fps") {
            const auto fps = parseInt(v, 1, kMaxFps);
            if (!fps) {
                error = "bad frame rate (1.." + std::to_string(kMaxFps) + "): " + v;
                return std::nullopt;
            }
            o.fps = *fps;
        } else if (a == "--displays") {
            const auto n = parseInt(v, 1, kMaxDisplays);
            if (!n) {
                error = "bad display count (1.." + std::to_string(kMaxDisplays) + "): " + v;
                return std::nullopt;
            }
            o.displays = *n;
        } else if (a == "--heads") {
            const auto n = parseInt(v, 1, kMaxDisplays);
            if (!n) {
                error = "bad head count (1.." + std::to_string(kMaxDisplays) + "): " + v;
                return std::nullopt;
            }
            o.heads = *n;
        } else if (a == "--dump-expected") {
            o.dumpExpected = v;
        } else {
            error = "unknown option: " + a;
            return std::nullopt;
        }
    }
    if (o.dumpExpected.empty() && !o.port && !o.tlsPort) {
        error = "need --port and/or --tls-port";
        return std::nullopt;
    }
    if (explicitRect && fullscreen) {
        error = "--video-rect and --video-fullscreen exclude each other";
        return std::nullopt;
    }
    if (fullscreen)
        o.videoArea.mode = VideoArea::Mode::Fullscreen;
    if (explicitRect && (o.videoArea.rect.right > o.width || o.videoArea.rect.bottom > o.height)) {
        error = "--video-rect is not inside the " + std::to_string(o.width) + "x" + std::to_string(o.height) +
                " surface";
        return std::nullopt;
    }
    if (o.heads > 1 && o.displays > 1) {
        error = "--heads and --displays exclude each other (one QXL device with several heads, or several "
                "devices)";
        return std::nullopt;
    }
    if (o.heads > 1 && o.width * o.heads > kMaxSurfaceSize) {
        error = "--heads " + std::to_string(o.heads) + " of --size " + std::to_string(o.width) +
                " wide do not fit a surface of " + std::to_string(kMaxSurfaceSize);
        return std::nullopt;
    }
    if (o.tlsPort && o.x509Dir.empty()) {
        error = "--tls-port needs --x509-dir";
        return std::nullopt;
    }
    return o;
}

} // namespace saffron::testserver
