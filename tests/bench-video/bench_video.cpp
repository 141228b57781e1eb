// Video decode throughput: saffron's VideoDecoder against the bare GStreamer decoder on the same
// 1080p60 H.264 clips, plus the CPU conversion fallback, and (--codecs) the software decode cost
// of every codec. Prints figures and ratios; never asserts a time. Exit 77 when x264enc (or
// gst-launch-1.0) is missing.
//
//   bench_video [--seconds S] [--reps N] [--out DIR] [--codecs] [--decoder ELEMENT] [--clips DIR]
//               [--selection]
//
// --decoder runs both sides with another H.264 element (nvh264dec, vah264dec...): the ratio is
// then that of our pipeline against the same hardware decoder bare. --clips takes moving.h264 and
// snow.h264 made earlier (a machine without x264enc, such as a GPU box reached without packages).
// --selection prints what the hardware-first selection picks on this machine and decodes the
// 4:4:4 streams spice-server sends (h264-444.h264, vp9-444/ in --clips when present) and an
// H.265 4:4:4 one (h265-444/) with it.
//
// Clips are made at run time with gst-launch-1.0 + x264enc, with spice-server's encoder settings
// (server/gstreamer-encoder.c: byte-stream, AUD, zerolatency (no B-frames, sliced threads),
// ultrafast, intra-refresh) at 10 Mbit/s: "moving" = SMPTE bars scrolling sideways, "snow" =
// random noise in every frame, the worst case for any decoder.
//
// Repetitions are interleaved (every configuration for each clip in turn) so that load from other
// processes on a shared machine spreads over all of them. The paced runs feed 60 frames a second,
// like a server, and show the latency of one picture when the decoder keeps up.

#include "video/DecoderOverrides.h"
#include "video/DecoderSelector.h"
#include "video/FrameConverter.h"
#include "video/GstHandles.h"
#include "video/VideoDecoder.h"

#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QLoggingCategory>
#include <QProcess>
#include <QStandardPaths>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <map>
#include <sys/resource.h>
#include <thread>
#include <vector>

using namespace saffron;
using Clock = std::chrono::steady_clock;
using Bytes = std::vector<uint8_t>;

namespace {

constexpr int kSkip = 77;

struct Options {
    double seconds = 4.0;
    int reps = 3;
    QString out;
    bool codecs = false;
    QString decoder = "avdec_h264";
    QString clips;
    bool selection = false;
};

double cpuSeconds() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
           static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

bool haveElement(const char* name) {
    GstObjectPtr<GstElementFactory> f(gst_element_factory_find(name));
    return f != nullptr;
}

bool run(const QString& program, const QStringList& args, int timeoutMs = 600000) {
    QProcess p;
    p.setProcessChannelMode(QProcess::ForwardedErrorChannel);
    p.start(program, args);
    if (!p.waitForFinished(timeoutMs)) {
        p.kill();
        p.waitForFinished();
        return false;
    }
    return p.exitStatus() == QProcess::NormalExit && p.exitCode() == 0;
}

// gst-launch-1.0 with a description given as one string (split on spaces, as a shell would).
bool gstLaunch(const QString& description) {
    QStringList args{"-q"};
    args += description.split(' ', Qt::SkipEmptyParts);
    return run("gst-launch-1.0", args);
}

Bytes readFile(const QString& path) {
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly)) {
        return {};
    }
    const QByteArray data = f.readAll();
    return Bytes(data.begin(), data.end());
}

// Splits an Annex-B stream written with aud=true into access units at each access unit
// delimiter (NAL type 9), the way a SPICE server sends them: one AU per STREAM_DATA.
std::vector<Bytes> splitAccessUnits(const Bytes& stream) {
    std::vector<size_t> starts;
    for (size_t i = 0; i + 4 < stream.size(); ++i) {
        if (stream[i] == 0 && stream[i + 1] == 0 && stream[i + 2] == 1 && (stream[i + 3] & 0x1f) == 9) {
            starts.push_back(i > 0 && stream[i - 1] == 0 ? i - 1 : i);
        }
    }
    std::vector<Bytes> units;
    for (size_t k = 0; k < starts.size(); ++k) {
        const size_t end = k + 1 < starts.size() ? starts[k + 1] : stream.size();
        units.emplace_back(stream.begin() + static_cast<std::ptrdiff_t>(starts[k]),
                           stream.begin() + static_cast<std::ptrdiff_t>(end));
    }
    return units;
}

// Output-side timing shared by both decoders: throughput is measured between the first and the
// last picture out, so neither side's start-up (state changes, decoder init, first caps, buffer
// pool) counts; what is left is the steady decode rate of the clip.
struct OutputClock {
    std::atomic<uint64_t> frames{0};
    std::atomic<int64_t> firstNs{0};
    std::atomic<int64_t> lastNs{0};
    void tick() {
        const int64_t now =
            std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count();
        if (frames.fetch_add(1, std::memory_order_relaxed) == 0) {
            firstNs.store(now);
        }
        lastNs.store(now);
    }
};

struct Result {
    double seconds = 0; // first to last picture out
    double cpu = 0;     // process CPU time over the whole run
    uint64_t frames = 0;
    double avgDecodeMs = 0;
    double maxDecodeMs = 0;
    DecoderStats stats;
    double fps() const { return seconds > 0 && frames > 1 ? static_cast<double>(frames - 1) / seconds : 0; }
    double cpuMsPerFrame() const { return frames ? cpu * 1000.0 / static_cast<double>(frames) : 0; }
};

void finish(Result& r, const OutputClock& clock) {
    r.frames = clock.frames.load();
    r.seconds = static_cast<double>(clock.lastNs.load() - clock.firstNs.load()) / 1e9;
}

// The bare decoder, in-process: the very pipeline gst-launch-1.0 would build, timed from PLAYING
// to EOS (so process start-up and registry loading are not counted against it).
Result runBare(const QString& file, const QString& decoder, const QString& parser) {
    const QString description =
        QString("filesrc location=%1 ! %2 ! %3 ! fakesink name=sink signal-handoffs=true")
            .arg(file, parser, decoder);
    GError* raw = nullptr;
    ElementPtr pipeline = adoptElement(gst_parse_launch(description.toUtf8().constData(), &raw));
    GErrorPtr error(raw);
    Result r;
    if (!pipeline || error) {
        std::fprintf(stderr, "bench_video: cannot build '%s'\n", qPrintable(description));
        return r;
    }
    ElementPtr sink(gst_bin_get_by_name(GST_BIN(pipeline.get()), "sink"));
    OutputClock clock;
    g_signal_connect(sink.get(), "handoff", G_CALLBACK(+[](GstElement*, GstBuffer*, GstPad*, gpointer data) {
                         static_cast<OutputClock*>(data)->tick();
                     }),
                     &clock);
    BusPtr bus(gst_element_get_bus(pipeline.get()));
    const double cpu0 = cpuSeconds();
    gst_element_set_state(pipeline.get(), GST_STATE_PLAYING);
    MessagePtr message(gst_bus_timed_pop_filtered(
        bus.get(), 600 * GST_SECOND, static_cast<GstMessageType>(GST_MESSAGE_EOS | GST_MESSAGE_ERROR)));
    r.cpu = cpuSeconds() - cpu0;
    if (message && GST_MESSAGE_TYPE(message.get()) == GST_MESSAGE_ERROR) {
        std::fprintf(stderr, "bench_video: %s\n", describeGstMessage(message.get()).c_str());
    }
    gst_element_set_state(pipeline.get(), GST_STATE_NULL);
    finish(r, clock);
    return r;
}

// gst-launch-1.0 itself, wall time including its start-up: printed for reference only.
double runGstLaunch(const QString& file, const QString& decoder) {
    const auto t0 = Clock::now();
    const bool ok = gstLaunch(QString("filesrc location=%1 ! h264parse ! %2 ! fakesink").arg(file, decoder));
    return ok ? std::chrono::duration<double>(Clock::now() - t0).count() : 0.0;
}

// Our VideoDecoder: every access unit submitted as soon as the bounded queue has room, frames
// counted in the frame callback (optionally converted to ARGB there, the CPU fallback path).
Result runOurs(VideoCodec codec, const std::vector<Bytes>& units,
               const std::shared_ptr<DecoderSelector>& selector, bool lowLatency, FrameConverter* converter,
               bool paced = false) {
    VideoDecoderOptions options;
    options.lowLatency = lowLatency;
    VideoDecoder decoder(codec, selector, options);
    OutputClock clock;
    bool timing = false; // the warm-up frame is not counted
    std::vector<uint32_t> argb;
    VideoDecoderCallbacks callbacks;
    callbacks.frame = [&](std::shared_ptr<const DecodedFrame> frame) {
        if (converter) {
            const size_t need = static_cast<size_t>(frame->width()) * static_cast<size_t>(frame->height());
            if (argb.size() < need) {
                argb.resize(need);
            }
            converter->convert(*frame, argb, frame->width());
        }
        if (timing) {
            clock.tick();
        }
    };
    callbacks.error = [](const VideoDecoderError& e) {
        std::fprintf(stderr, "bench_video: %s\n", e.message.c_str());
    };
    decoder.setCallbacks(callbacks);
    // Build the pipeline outside the timed part, as the bare run's pipeline is built before it.
    decoder.submit(units.front(), 0);
    decoder.drain(std::chrono::seconds(60));

    Result r;
    timing = true; // the drain above joined the streaming thread: no race on this flag
    const double cpu0 = cpuSeconds();
    uint64_t tag = 1;
    const auto start = Clock::now();
    for (const auto& unit : units) {
        if (paced) {
            // A 60 fps server: what the latency of one picture is when the decoder keeps up.
            std::this_thread::sleep_until(start + std::chrono::microseconds(16667) * (tag - 1));
        }
        decoder.waitForSpace(std::chrono::seconds(60));
        decoder.submit(unit, tag++);
    }
    decoder.drain(std::chrono::seconds(600));
    r.cpu = cpuSeconds() - cpu0;
    finish(r, clock);
    r.stats = decoder.stats();
    r.avgDecodeMs = r.stats.decodeMsAverage();
    r.maxDecodeMs = r.stats.decodeMsMax();
    return r;
}

double median(std::vector<double> v) {
    if (v.empty()) {
        return 0;
    }
    std::sort(v.begin(), v.end());
    return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

// spice-server's x264enc settings, except its qp-min/qp-max (with qp-max=35 a noise clip needs
// 400 Mbit/s; the server instead lowers the frame rate) and with a fixed 10 Mbit/s.
const char* kX264 = "x264enc bitrate=10000 byte-stream=true aud=true tune=zerolatency sliced-threads=true "
                    "speed-preset=ultrafast intra-refresh=true";

bool makeH264Clip(const QString& path, const QString& source, int frames) {
    return gstLaunch(
        QString("videotestsrc num-buffers=%1 %2 ! video/x-raw,format=I420,width=1920,height=1080,"
                "framerate=60/1 ! %3 ! video/x-h264,stream-format=byte-stream,alignment=au ! "
                "filesink location=%4")
            .arg(frames)
            .arg(source, kX264, path));
}

int pipelineBench(const Options& o) {
    int frames = std::max(10, static_cast<int>(o.seconds * 60));
    struct Clip {
        const char* name;
        QString source;
        QString path;
        std::vector<Bytes> units;
        double bytes = 0;
    };
    std::vector<Clip> clips = {
        {"moving", "pattern=smpte horizontal-speed=8", {}, {}, 0},
        {"snow", "pattern=snow", {}, {}, 0},
    };
    for (auto& c : clips) {
        if (!o.clips.isEmpty()) {
            c.path = QDir(o.clips).filePath(QString("%1.h264").arg(c.name));
            std::printf("%s: %s ... ", c.name, qPrintable(c.path));
        } else {
            c.path = QDir(o.out).filePath(QString("%1.h264").arg(c.name));
            std::printf("making %s: %d frames 1920x1080@60 H.264 10 Mbit/s ... ", c.name, frames);
            std::fflush(stdout);
            if (!makeH264Clip(c.path, c.source, frames)) {
                std::printf("failed\n");
                return 1;
            }
        }
        const Bytes stream = readFile(c.path);
        c.units = splitAccessUnits(stream);
        c.bytes = static_cast<double>(stream.size());
        std::printf("%zu access units, %.1f Mbit/s\n", c.units.size(),
                    c.bytes * 8 / 1e6 / (static_cast<double>(c.units.size()) / 60.0));
        if (c.units.empty()) {
            return 1;
        }
        if (!o.clips.isEmpty()) {
            frames = static_cast<int>(c.units.size());
        }
    }

    // The same element as the bare pipeline, whatever hardware this machine has.
    DecoderSelector::Options selectorOptions;
    selectorOptions.overrides = DecoderOverrides::parse(("h264=" + o.decoder).toStdString());
    auto selector =
        std::make_shared<DecoderSelector>(std::make_shared<GstElementFactoryRegistry>(), selectorOptions);
    FrameConverter converter;

    const std::string bareName = QString("bare filesrc!h264parse!%1!fakesink").arg(o.decoder).toStdString();
    struct Config {
        const char* name;
        bool ours;
        bool lowLatency;
        bool convert;
        bool paced;
    };
    const Config configs[] = {
        {bareName.c_str(), false, false, false, false},
        {"VideoDecoder, throughput mode", true, false, false, false},
        {"VideoDecoder, low latency (default)", true, true, false, false},
        {"VideoDecoder, low latency + ARGB conversion", true, true, true, false},
        {"VideoDecoder, throughput mode, paced 60 fps", true, false, false, true},
        {"VideoDecoder, low latency, paced 60 fps", true, true, false, true},
    };
    const size_t kConfigs = std::size(configs);
    std::map<std::pair<size_t, size_t>, std::vector<Result>> results;
    for (int rep = 0; rep < o.reps; ++rep) {
        for (size_t ci = 0; ci < clips.size(); ++ci) {
            const Clip& c = clips[ci];
            std::printf("rep %d/%d %s:", rep + 1, o.reps, c.name);
            for (size_t k = 0; k < kConfigs; ++k) {
                const Config& cfg = configs[k];
                const Result r = cfg.ours ? runOurs(VideoCodec::H264, c.units, selector, cfg.lowLatency,
                                                    cfg.convert ? &converter : nullptr, cfg.paced)
                                          : runBare(c.path, o.decoder, "h264parse");
                results[{ci, k}].push_back(r);
                std::printf(" %.1f", r.fps());
            }
            std::printf(" fps\n");
            std::fflush(stdout);
        }
    }

    std::printf("\nmedians over %d interleaved repetitions (%d frames a clip):\n", o.reps, frames);
    std::printf("%-7s %-44s %8s %8s %10s %12s %12s\n", "clip", "decoder", "fps", "ratio", "cpu ms/fr",
                "decode avg", "decode max");
    for (size_t ci = 0; ci < clips.size(); ++ci) {
        std::vector<double> bareFps;
        for (const auto& r : results[{ci, 0}]) {
            bareFps.push_back(r.fps());
        }
        const double bare = median(bareFps);
        for (size_t k = 0; k < kConfigs; ++k) {
            std::vector<double> fps, cpu, avg, max;
            for (const auto& r : results[{ci, k}]) {
                fps.push_back(r.fps());
                cpu.push_back(r.cpuMsPerFrame());
                avg.push_back(r.avgDecodeMs);
                max.push_back(r.maxDecodeMs);
            }
            const double f = median(fps);
            if (!configs[k].ours) {
                std::printf("%-7s %-44s %8.1f %8s %10.2f %12s %12s\n", clips[ci].name, configs[k].name, f,
                            "1.00x", median(cpu), "-", "-");
            } else if (configs[k].paced) {
                std::printf("%-7s %-44s %8.1f %8s %10.2f %9.2f ms %9.2f ms\n", clips[ci].name,
                            configs[k].name, f, "paced", median(cpu), median(avg), median(max));
            } else {
                std::printf("%-7s %-44s %8.1f %7.2fx %10.2f %9.2f ms %9.2f ms\n", clips[ci].name,
                            configs[k].name, f, bare > 0 ? f / bare : 0, median(cpu), median(avg),
                            median(max));
            }
        }
    }
    if (!QStandardPaths::findExecutable("gst-launch-1.0").isEmpty()) {
        const double launch = runGstLaunch(clips[0].path, o.decoder);
        std::printf(
            "\nfor reference, `gst-launch-1.0 -q filesrc ! h264parse ! %s ! fakesink` on %s: %.2f s wall "
            "including its start-up (%.1f fps)\n",
            qPrintable(o.decoder), clips[0].name, launch,
            launch > 0 ? static_cast<double>(clips[0].units.size()) / launch : 0);
    }
    std::printf(
        "fps: (pictures - 1) / time from the first to the last picture out, start-up excluded on both "
        "sides;\n"
        "cpu: whole process per picture; decode avg/max: submit() to frame callback, queueing included\n"
        "(the feeder keeps the queue full). Goal: VideoDecoder >= 0.90x the bare decoder.\n");
    return 0;
}

// Software decode cost of each codec on the same content at the same bitrate: CPU time per
// decoded 1080p frame (all threads), the basis of DecoderSelector::kSoftwareCostOrder.
int codecCostBench(const Options& o) {
    const int frames = std::max(30, static_cast<int>(o.seconds * 30));
    struct Entry {
        VideoCodec codec;
        const char* encoder;
        const char* element;
        const char* forced;
    };
    const Entry entries[] = {
        {VideoCodec::Mjpeg, "jpegenc quality=85", "jpegenc", "mjpeg=jpegdec"},
        {VideoCodec::Vp8,
         "vp8enc deadline=1 lag-in-frames=0 end-usage=cbr target-bitrate=10000000 cpu-used=8", "vp8enc",
         "vp8=vp8dec"},
        {VideoCodec::Vp9,
         "vp9enc deadline=1 lag-in-frames=0 end-usage=cbr target-bitrate=10000000 cpu-used=8", "vp9enc",
         "vp9=vp9dec"},
        {VideoCodec::H264,
         "x264enc bitrate=10000 byte-stream=true aud=true tune=zerolatency speed-preset=ultrafast "
         "intra-refresh=true ! video/x-h264,stream-format=byte-stream,alignment=au",
         "x264enc", "h264=avdec_h264"},
        {VideoCodec::H265,
         "x265enc bitrate=10000 tune=zerolatency speed-preset=ultrafast option-string=info=0 ! "
         "h265parse ! video/x-h265,stream-format=byte-stream,alignment=au",
         "x265enc", "h265=avdec_h265"},
    };
    struct Clip {
        const Entry* entry;
        std::vector<Bytes> units;
        double mbps = 0;
    };
    std::vector<Clip> clips;
    for (const Entry& e : entries) {
        if (!haveElement(e.element)) {
            std::printf("%s: %s missing, skipped\n", videoCodecName(e.codec).data(), e.element);
            continue;
        }
        const QString dir = QDir(o.out).filePath(QString("codec-%1").arg(videoCodecName(e.codec).data()));
        QDir(dir).removeRecursively();
        QDir().mkpath(dir);
        std::printf("making %s clip (%d frames 1920x1080@30, moving bars) ... ",
                    videoCodecName(e.codec).data(), frames);
        std::fflush(stdout);
        const bool ok =
            gstLaunch(QString("videotestsrc num-buffers=%1 pattern=smpte horizontal-speed=8 ! "
                              "video/x-raw,format=I420,width=1920,height=1080,framerate=30/1 ! %2 ! "
                              "multifilesink location=%3/f-%05d.bin")
                          .arg(frames)
                          .arg(e.encoder, dir));
        Clip c{&e, {}, 0};
        double bytes = 0;
        for (const QString& name : QDir(dir).entryList({"f-*.bin"}, QDir::Files, QDir::Name)) {
            c.units.push_back(readFile(QDir(dir).filePath(name)));
            bytes += static_cast<double>(c.units.back().size());
        }
        c.mbps = c.units.empty() ? 0 : bytes * 8 / 1e6 / (static_cast<double>(c.units.size()) / 30.0);
        std::printf("%s, %.1f Mbit/s\n", ok ? "ok" : "failed", c.mbps);
        if (ok && !c.units.empty()) {
            clips.push_back(std::move(c));
        }
    }
    std::map<VideoCodec, std::vector<double>> cpu, fps;
    for (int rep = 0; rep < o.reps; ++rep) {
        for (const Clip& c : clips) {
            DecoderSelector::Options so;
            so.overrides = DecoderOverrides::parse(c.entry->forced);
            auto selector =
                std::make_shared<DecoderSelector>(std::make_shared<GstElementFactoryRegistry>(), so);
            const Result r = runOurs(c.entry->codec, c.units, selector, false, nullptr);
            cpu[c.entry->codec].push_back(r.cpuMsPerFrame());
            fps[c.entry->codec].push_back(r.fps());
        }
    }
    std::printf("\nsoftware decode cost, medians over %d interleaved repetitions:\n", o.reps);
    std::printf("%-6s %-12s %10s %12s %8s\n", "codec", "decoder", "Mbit/s", "cpu ms/frame", "fps");
    std::vector<std::pair<double, VideoCodec>> order;
    for (const Clip& c : clips) {
        const double m = median(cpu[c.entry->codec]);
        order.push_back({m, c.entry->codec});
        std::printf("%-6s %-12s %10.1f %12.2f %8.1f\n", videoCodecName(c.entry->codec).data(),
                    QString(c.entry->forced).section('=', 1).toUtf8().constData(), c.mbps, m,
                    median(fps[c.entry->codec]));
    }
    std::sort(order.begin(), order.end());
    std::printf("cheapest first:");
    for (const auto& [m, codec] : order) {
        std::printf(" %s", videoCodecName(codec).data());
    }
    std::printf("   (DecoderSelector::kSoftwareCostOrder:");
    for (VideoCodec codec : DecoderSelector::kSoftwareCostOrder) {
        std::printf(" %s", videoCodecName(codec).data());
    }
    std::printf(")\n");
    return 0;
}

// What the hardware-first selection (the session's) picks on this machine, and how it copes with
// the 4:4:4 streams spice-server makes from its BGRx surfaces (videoconvert hands x264enc and
// vp9enc 4:4:4 when they take it): NVDEC and most VA drivers decode 4:2:0 only, so such a stream
// must end on the next candidate after the hardware one refused it, not on a frozen region.
int selectionReport(const Options& o) {
    auto selector = std::make_shared<DecoderSelector>(std::make_shared<GstElementFactoryRegistry>(),
                                                      DecoderSelector::Options{});
    const auto support = selector->probeAll();
    std::printf("hardware-first selection on this machine:\n");
    for (const auto& s : support) {
        std::printf("  %-5s %-14s %-8s %-9s %s\n", videoCodecName(s.codec).data(),
                    s.decodable ? s.element.c_str() : "-",
                    s.decodable ? (s.hardware ? "hardware" : "software") : "none",
                    s.decodable ? (s.decodes444 ? "4:4:4 too" : "4:2:0") : "", s.summary.c_str());
    }
    std::printf("  codec order, 4:2:0 streams:");
    for (VideoCodec c : DecoderSelector::preferenceOrder(support)) {
        std::printf(" %s", videoCodecName(c).data());
    }
    // What the session sends spice-server, whose H.264 and VP9 streams are 4:4:4.
    const VideoCodec sentAs444[] = {VideoCodec::H264, VideoCodec::Vp9};
    std::printf("\n  codec order sent to spice-server (H.264, VP9 sent as 4:4:4):");
    for (VideoCodec c : DecoderSelector::preferenceOrder(support, sentAs444)) {
        std::printf(" %s", videoCodecName(c).data());
    }
    std::printf("\n");
    if (o.clips.isEmpty()) {
        return 0;
    }
    struct Extra {
        VideoCodec codec;
        const char* what;
        QString path;
        bool directory;
    };
    const Extra extras[] = {
        {VideoCodec::H264, "H.264 High 4:4:4", QDir(o.clips).filePath("h264-444.h264"), false},
        {VideoCodec::Vp9, "VP9 profile 1 (4:4:4)", QDir(o.clips).filePath("vp9-444"), true},
        {VideoCodec::H265, "H.265 Main 4:4:4", QDir(o.clips).filePath("h265-444"), true},
        {VideoCodec::H264, "H.264 4:2:0 (moving)", QDir(o.clips).filePath("moving.h264"), false},
    };
    for (const Extra& e : extras) {
        std::vector<Bytes> units;
        if (e.directory) {
            for (const QString& name : QDir(e.path).entryList({"*.bin"}, QDir::Files, QDir::Name)) {
                units.push_back(readFile(QDir(e.path).filePath(name)));
            }
        } else {
            units = splitAccessUnits(readFile(e.path));
        }
        if (units.empty()) {
            std::printf("  %s: no clip at %s\n", e.what, qPrintable(e.path));
            continue;
        }
        const Result r = runOurs(e.codec, units, selector, true, nullptr);
        std::printf("  %s, %zu frames: %llu decoded (+1 warm-up), decoder now %s (%s), %llu errors, %llu "
                    "fallbacks, %.2f ms/frame decode avg\n",
                    e.what, units.size(), static_cast<unsigned long long>(r.frames),
                    r.stats.decoder.empty() ? "none" : r.stats.decoder.c_str(),
                    r.stats.hardware ? "hardware" : "software",
                    static_cast<unsigned long long>(r.stats.errors),
                    static_cast<unsigned long long>(r.stats.fallbacks), r.avgDecodeMs);
    }
    return 0;
}

} // namespace

int main(int argc, char** argv) {
    // Line-buffered even into a file, so our figures and Qt's log lines (stderr) stay in order.
    std::setvbuf(stdout, nullptr, _IOLBF, 0);
    QCoreApplication app(argc, argv);
    Options o;
    const QStringList args = app.arguments();
    for (int i = 1; i < args.size(); ++i) {
        const QString& a = args[i];
        if (a == "--seconds" && i + 1 < args.size()) {
            o.seconds = args[++i].toDouble();
        } else if (a == "--reps" && i + 1 < args.size()) {
            o.reps = std::max(1, args[++i].toInt());
        } else if (a == "--out" && i + 1 < args.size()) {
            o.out = args[++i];
        } else if (a == "--codecs") {
            o.codecs = true;
        } else if (a == "--decoder" && i + 1 < args.size()) {
            o.decoder = args[++i];
        } else if (a == "--clips" && i + 1 < args.size()) {
            o.clips = args[++i];
        } else if (a == "--selection") {
            o.selection = true;
        } else {
            std::fprintf(stderr, "usage: bench_video [--seconds S] [--reps N] [--out DIR] [--codecs] "
                                 "[--decoder ELEMENT] [--clips DIR] [--selection]\n");
            return 2;
        }
    }
    // Keep the figures readable: the selection lines are interesting, per-frame warnings are not.
    QLoggingCategory::setFilterRules("saffron.media.warning=false");
    if (o.out.isEmpty()) {
        o.out = QDir::temp().filePath("saffron-bench-video");
    }
    QDir().mkpath(o.out);
    if (!ensureGstInitialized()) {
        std::printf("SKIP: GStreamer missing\n");
        return kSkip;
    }
    if (o.selection) {
        selectionReport(o);
        std::printf("\n");
    }
    const bool makeClips = o.clips.isEmpty();
    if (makeClips && QStandardPaths::findExecutable("gst-launch-1.0").isEmpty()) {
        std::printf("SKIP: gst-launch-1.0 missing\n");
        return kSkip;
    }
    const QByteArray decoder = o.decoder.toUtf8();
    if ((makeClips && !haveElement("x264enc")) || !haveElement(decoder.constData()) ||
        !haveElement("h264parse")) {
        std::printf("SKIP: x264enc, h264parse or %s missing (gstreamer1.0-plugins-ugly, -bad, -libav)\n",
                    decoder.constData());
        return kSkip;
    }
    std::printf("bench_video: %d CPU(s), %.1f s clips, %d repetitions, clips in %s\n",
                static_cast<int>(std::thread::hardware_concurrency()), o.seconds, o.reps,
                qPrintable(makeClips ? o.out : o.clips));
    int rc = pipelineBench(o);
    if (rc == 0 && o.codecs) {
        std::printf("\n");
        rc = codecCostBench(o);
    }
    return rc;
}
