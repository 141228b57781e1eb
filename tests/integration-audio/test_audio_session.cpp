// A real saffron::Session against libspice-server (saffron-test-server's audio devices) with a
// private PipeWire (PipeWireDaemon from tests/unit-audio): what the server plays comes out of the
// null sink at the right pitch without gaps, what the virtual source hears reaches the server,
// the server's volume and mute act, and a server clock running 0.5 % fast does not make the
// client's playback buffer drift (issue 5, "Must show").

#include "AudioAnalysis.h"
#include "PipeWireDaemon.h"
#include "Session.h"
#include "SessionRates.h"
#include "SinkMonitorTap.h"
#include "TestServerProcess.h"
#include "TestUtil.h"
#include "audio/AudioCapture.h"
#include "audio/AudioPlayback.h"
#include "audio/DriftController.h"

#include <QDeadlineTimer>
#include <QMutex>
#include <QProcess>
#include <QRegularExpression>
#include <QSignalSpy>
#include <QTest>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <ctime>
#include <mutex>
#include <optional>
#include <thread>

using namespace saffron;
using namespace saffron::test;
using namespace std::chrono_literals;

namespace {

constexpr unsigned kRate = 48000;
constexpr unsigned kChannels = 2;
constexpr double kAmplitude = 0.5 * 32767; // the test server's default --audio-amplitude

// A sanitizer build runs the client two to three times slower, and CI runs it on two cores: one
// PipeWire cycle in 30 s may then find the buffer empty before the client's jitter adaption
// (AudioPlayback raises its target after an underrun) has caught up. Seen once in CI: a single
// 21.3 ms gap, "playback target 50 ms (underruns 1)". Such a build may lose one quantum; a
// normal build none.
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SAFFRON_SANITIZED_BUILD 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define SAFFRON_SANITIZED_BUILD 1
#endif
#ifdef SAFFRON_SANITIZED_BUILD
constexpr double kTolerableGapMs = 1024 * 1000.0 / kRate + 0.1;
#else
constexpr double kTolerableGapMs = 20;
#endif

int envSeconds(const char* name, int fallback) {
    bool ok = false;
    const int v = qEnvironmentVariableIntValue(name, &ok);
    return ok && v > 0 ? v : fallback;
}

int64_t monotonicNs() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return int64_t(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

// One saffron-test-server process; stdout lines are collected, commands go to stdin.
using ServerProcess = TestServerProcess;

double field(const QString& line, const QString& name) {
    const auto m = QRegularExpression("\\b" + name + "=([-0-9.]+)").match(line);
    return m.hasMatch() ? m.captured(1).toDouble() : std::nan("");
}

// What the null sink's monitor hears, with the CLOCK_MONOTONIC time of each delivery, so that a
// sample index can be turned into the time it reached the sink (see sampleTimeNs).
class Recorder {
public:
    // Room for this many seconds is reserved up front and after every take(): the callback runs
    // on PipeWire's data thread, and growing a vector of minutes of audio there (a 64 MiB copy
    // at 175 s) overruns the capture quantum, so the monitor loses frames and every click in the
    // two seconds after maps too early (the 981 ms "latency" seen once in CI).
    explicit Recorder(double keepSeconds = 30) : reserve_(size_t(keepSeconds * kRate) * kChannels) {
        samples_.reserve(reserve_);
        deliveries_.reserve(size_t(keepSeconds * 200)); // quanta of 5 ms at the least
    }
    AudioCapture::DataCallback callback() {
        return [this](std::span<const int16_t> s) {
            const int64_t now = monotonicNs();
            std::lock_guard lock(mutex_);
            samples_.insert(samples_.end(), s.begin(), s.end());
            deliveries_.push_back({samples_.size() / kChannels, now});
        };
    }
    std::vector<int16_t> take() {
        std::lock_guard lock(mutex_);
        deliveries_.clear();
        auto taken = std::exchange(samples_, {});
        samples_.reserve(reserve_);
        return taken;
    }
    size_t frames() {
        std::lock_guard lock(mutex_);
        return samples_.size() / kChannels;
    }
    // Frames-to-time mapping of what is recorded now (not taken). The slope is the graph clock's
    // rate against CLOCK_MONOTONIC over the whole recording (robustNsPerFrame). The offset is
    // local: the lower envelope of the residuals of the deliveries in the kWindowFrames after the
    // frame asked about, i.e. the nearby delivery with the least scheduling delay. A single offset
    // for minutes of audio does not hold on a VM, where the graph clock lags while the machine is
    // busy and catches up after; that skews the far end by tens of ms. Only deliveries after the
    // frame count because a loss of capture frames (the monitor overruns while the host stalls
    // the data thread) raises every later residual by the frames lost: an envelope reaching back
    // across such a loss mapped the clicks after it that much too early, onto the previous
    // click's marker (the ~975 ms "latency" CI saw for two clicks in a row, the next marker
    // ~20 ms after the arrival; a 150 ms stall of this callback reproduces it).
    class Mapping {
    public:
        static constexpr double kWindowFrames = 2.0 * kRate;
        static constexpr int kMinDeliveries = 20; // below this the envelope is mostly jitter
        double nsPerFrame = 0;
        double timeOf(double frame) const {
            if (auto offset = envelope(frame, frame + kWindowFrames))
                return *offset + frame * nsPerFrame;
            // Near the end of the recording: look back as well.
            if (auto offset = envelope(frame - kWindowFrames, frame + kWindowFrames))
                return *offset + frame * nsPerFrame;
            return *envelope(-1e300, 1e300, 1) + frame * nsPerFrame;
        }

    private:
        // The least residual (ns - frame * nsPerFrame) of the deliveries in [from, to].
        std::optional<double> envelope(double from, double to, int minCount = kMinDeliveries) const {
            const auto first = std::lower_bound(points_.begin(), points_.end(), from,
                                                [](const Point& p, double f) { return p.frame < f; });
            double lowest = 1e300;
            int count = 0;
            for (auto it = first; it != points_.end() && it->frame <= to; ++it, ++count)
                lowest = std::min(lowest, it->ns - it->frame * nsPerFrame);
            if (count < minCount)
                return std::nullopt;
            return lowest;
        }

        friend class Recorder;
        struct Point {
            double frame;
            double ns;
        };
        std::vector<Point> points_; // in delivery order, so frames ascend
    };
    std::optional<Mapping> mapping() {
        std::lock_guard lock(mutex_);
        if (deliveries_.size() < 10)
            return std::nullopt;
        Mapping m;
        m.nsPerFrame = robustNsPerFrame();
        m.points_.reserve(deliveries_.size());
        for (const auto& d : deliveries_)
            m.points_.push_back({double(d.framesAfter), double(d.ns)});
        return m;
    }

private:
    // The graph clock's rate against CLOCK_MONOTONIC: the median slope between the least-delayed
    // deliveries of blocks 2 apart (5..15 s). A least-squares line through all deliveries was
    // bent by a loss of capture frames (a step in the residuals): 250 ms lost in a minute
    // skewed it by 0.4 %, tens of ms across the mapping window. Caller holds mutex_.
    double robustNsPerFrame() const {
        constexpr double kNominal = 1e9 / kRate;
        constexpr size_t kBlockFrames = 5 * size_t(kRate);
        std::vector<std::pair<double, double>> least; // (frame, ns) per block
        for (const auto& d : deliveries_) {
            const size_t block = d.framesAfter / kBlockFrames;
            const double frame = double(d.framesAfter);
            const double ns = double(d.ns);
            if (block >= least.size())
                least.resize(block + 1, {-1, 0});
            auto& [f, t] = least[block];
            if (f < 0 || ns - frame * kNominal < t - f * kNominal)
                least[block] = {frame, ns};
        }
        std::vector<double> slopes;
        for (size_t i = 0; i + 2 < least.size(); ++i) {
            const auto [f0, t0] = least[i];
            const auto [f1, t1] = least[i + 2];
            if (f0 >= 0 && f1 > f0)
                slopes.push_back((t1 - t0) / (f1 - f0));
        }
        if (slopes.size() >= 3) {
            std::nth_element(slopes.begin(), slopes.begin() + std::ptrdiff_t(slopes.size() / 2),
                             slopes.end());
            return slopes[slopes.size() / 2];
        }
        // Under 20 s recorded: least squares through all deliveries.
        const double t0 = double(deliveries_.front().ns);
        double sx = 0, sy = 0, sxx = 0, sxy = 0;
        for (const auto& d : deliveries_) {
            const double x = double(d.framesAfter);
            const double y = double(d.ns) - t0;
            sx += x;
            sy += y;
            sxx += x * x;
            sxy += x * y;
        }
        const double n = double(deliveries_.size());
        return (n * sxy - sx * sy) / (n * sxx - sx * sx);
    }

    struct Delivery {
        size_t framesAfter;
        int64_t ns;
    };
    size_t reserve_;
    std::mutex mutex_;
    std::vector<int16_t> samples_;
    std::vector<Delivery> deliveries_;
};

// The mode lines PlaybackChannel / RecordChannel log at START ("start 48000 Hz 2 ch, mode opus"):
// which encoding the session really used, as the client saw it.
QMutex logMutex;
QStringList audioLog;
QtMessageHandler previousHandler = nullptr;
void logHandler(QtMsgType type, const QMessageLogContext& context, const QString& message) {
    if (context.category && QByteArray(context.category).startsWith("saffron.audio.")) {
        QMutexLocker lock(&logMutex);
        audioLog << QString::fromLatin1(context.category) + ": " + message;
    }
    if (previousHandler)
        previousHandler(type, context, message);
}
QString lastModeOf(const char* category) {
    QMutexLocker lock(&logMutex);
    for (auto it = audioLog.crbegin(); it != audioLog.crend(); ++it) {
        if (it->startsWith(QLatin1String(category)) && it->contains("mode "))
            return it->section("mode ", -1).trimmed().remove('"');
    }
    return {};
}

SessionOptions sessionTo(quint16 port) {
    SessionOptions o;
    o.host = "127.0.0.1";
    o.port = port;
    return o;
}

// Waits until the monitor hears the tone (level above a quarter of the amplitude).
bool waitForSound(Recorder& recorder, std::chrono::seconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        QTest::qWait(200);
        const auto s = recorder.take();
        const auto left = channelOf(s, kChannels, 0);
        if (!left.empty() && *std::max_element(left.begin(), left.end()) > kAmplitude * 0.25)
            return true;
    }
    return false;
}

double levelFor(Recorder& recorder, int ms) {
    QTest::qWait(400); // the change and PipeWire's volume ramp settle
    recorder.take();
    QTest::qWait(ms);
    const auto s = recorder.take();
    const auto left = channelOf(s, kChannels, 0);
    return rms(left);
}

} // namespace

class TestAudioSession : public QObject {
    Q_OBJECT

private slots:
    void initTestCase() {
        if (qEnvironmentVariableIsEmpty("SAFFRON_TEST_SERVER"))
            QSKIP("SAFFRON_TEST_SERVER is not set");
        if (!daemon_.start())
            QSKIP(qPrintable("no PipeWire daemon for the audio tests: " + daemon_.error()));
        previousHandler = qInstallMessageHandler(logHandler);
    }
    void cleanupTestCase() {
        if (previousHandler)
            qInstallMessageHandler(previousHandler);
        daemon_.stop();
    }

    // 440 Hz from the server, captured from the null sink's monitor: 440 +/- 2 Hz (in real
    // time, see the graph's speed below), no gap over 20 ms for SAFFRON_AUDIO_PLAYBACK_SECONDS
    // (30 s), raw and Opus.
    void playback_data() {
        QTest::addColumn<QString>("mode");
        QTest::newRow("raw") << "raw";
        QTest::newRow("opus") << "opus";
    }
    void playback() {
        QFETCH(QString, mode);
        const int seconds = envSeconds("SAFFRON_AUDIO_PLAYBACK_SECONDS", 30);
        Recorder recorder(seconds + 30);
        std::string error;
        auto capture = AudioCapture::create(sinkMonitorTap(), recorder.callback(), error);
        QVERIFY2(capture, error.c_str());
        ServerProcess server({"--audio-playback", "sine:440", "--audio-opus", mode == "opus" ? "on" : "off"});
        Session session(sessionTo(server.port()));
        QSignalSpy connected(&session, &Session::connected);
        session.start();
        QVERIFY(connected.wait(15000));
        QVERIFY2(waitForSound(recorder, 15s), "the sine never reached the sink");
        QCOMPARE(lastModeOf("saffron.audio.playback"), mode);
        QTest::qWait(1000); // past the start-up, where the buffer first fills
        recorder.take();
        QTest::qWait(seconds * 1000);
        const auto mapping = recorder.mapping();
        const auto samples = recorder.take();
        QVERIFY(mapping);
        const auto left = channelOf(samples, kChannels, 0);
        const auto right = channelOf(samples, kChannels, 1);
        QVERIFY2(left.size() > size_t(kRate) * size_t(seconds) * 9 / 10,
                 qPrintable(QString("captured only %1 frames").arg(left.size())));
        const double frequency = zeroCrossingFrequency(left, kRate);
        const double frequencyRight = zeroCrossingFrequency(right, kRate);
        const size_t quiet = longestQuietRun(left, kAmplitude * 0.02);
        const double quietMs = double(quiet) * 1000 / kRate;
        const double level = rms(left);
        // The pitch is counted in the sink's samples, and the client follows the server's clock
        // (CLOCK_MONOTONIC in the test server): when the sink's graph runs at speed g of real
        // time, the client must consume 1/g as fast, which puts the tone at 440/g in the sink's
        // samples. A busy CI host lets the timer-driven null sink lag by 2-3 % (seen: 29.2 s
        // captured in 30 s, 444.4 Hz); the client corrects by at most maxCorrection and trims
        // the excess instead (AudioPlayback), so then the pitch lies between 440 and the
        // correction limit.
        const double graphSpeed = 1e9 / kRate / mapping->nsPerFrame;
        const double needed = 1.0 / graphSpeed;
        const double maxCorrection = DriftController::Params{}.maxCorrection;
        const bool absorbable = std::abs(needed - 1.0) <= maxCorrection;
        const double reachable = std::clamp(needed, 1.0 - maxCorrection, 1.0 + maxCorrection);
        const double lowest = absorbable ? 440 * needed - 2 : 440 * std::min(1.0, reachable) - 2;
        const double highest = absorbable ? 440 * needed + 2 : 440 * std::max(1.0, reachable) + 2;
        qInfo("%s: %.1f s captured, graph at %.2f %% of real time, %.3f Hz (left) %.3f Hz (right), expected "
              "%.1f..%.1f Hz, rms %.0f (sent %.0f), longest gap %.2f ms",
              qPrintable(mode), double(left.size()) / kRate, graphSpeed * 100, frequency, frequencyRight,
              lowest, highest, level, kAmplitude / std::sqrt(2.0), quietMs);
        QVERIFY(frequency >= lowest && frequency <= highest);
        QVERIFY(frequencyRight >= lowest && frequencyRight <= highest);
        // A graph that lags beyond what the client may correct is a host too busy to keep its
        // own audio in real time: a late cycle there can cost one quantum (21.3 ms at 1024
        // frames) whatever the client does. Anything longer is still a dropout.
        if (absorbable)
            QVERIFY2(quietMs <= kTolerableGapMs,
                     qPrintable(QString("a %1 ms gap (allowed %2 ms)").arg(quietMs).arg(kTolerableGapMs)));
        else
            QVERIFY2(
                quietMs <= 2 * 1024 * 1000.0 / kRate,
                qPrintable(QString("a %1 ms gap with the graph at %2 %").arg(quietMs).arg(graphSpeed * 100)));
        QVERIFY(std::abs(level / (kAmplitude / std::sqrt(2.0)) - 1) < 0.1);
        session.stop();
    }

    // 1 kHz played into the virtual source (the session records from the default source) is
    // measured by the test server at 1000 +/- 2 Hz, raw and Opus.
    void record_data() {
        QTest::addColumn<QString>("mode");
        QTest::newRow("raw") << "raw";
        QTest::newRow("opus") << "opus";
    }
    void record() {
        QFETCH(QString, mode);
        // The session records from the default source: make it ours (WirePlumber may not pick a
        // virtual source by itself).
        daemon_.runTool("pw-metadata", {"0", "default.configured.audio.source",
                                        "{ \"name\": \"test-source\" }", "Spa:String:JSON"});
        std::string error;
        AudioPlaybackOptions toneOptions;
        toneOptions.target = "test-source";
        toneOptions.streamName = "tone-into-source";
        toneOptions.adaptiveRate = false; // an exact tone: this measures the record path
        auto tone = AudioPlayback::create(toneOptions, error);
        QVERIFY2(tone, error.c_str());
        // WirePlumber links playback streams to sinks only: a virtual source's inputs by hand.
        bool linkedLeft = false;
        bool linkedRight = false;
        std::vector<int16_t> chunk;
        double phase = 0;
        const auto feed = [&](double seconds) {
            chunk.clear();
            appendSine(chunk, size_t(seconds * kRate), kChannels, 1000, kRate, kAmplitude, phase);
            tone->write(chunk);
        };
        feed(0.1);
        for (int i = 0; i < 100 && !(linkedLeft && linkedRight); ++i) {
            QTest::qWait(100);
            feed(0.1);
            linkedLeft = linkedLeft || daemon_.link("tone-into-source:output_FL", "test-source:input_FL");
            linkedRight = linkedRight || daemon_.link("tone-into-source:output_FR", "test-source:input_FR");
        }
        QVERIFY2(linkedLeft && linkedRight, "could not link the tone into test-source");

        ServerProcess server({"--audio-record", "--audio-opus", mode == "opus" ? "on" : "off"});
        Session session(sessionTo(server.port()));
        QSignalSpy connected(&session, &Session::connected);
        session.start();
        QVERIFY(connected.wait(15000));
        // Feed the tone in real time while the session records.
        const auto run = [&](int ms) {
            const auto start = std::chrono::steady_clock::now();
            double fed = 0;
            while (std::chrono::steady_clock::now() - start < std::chrono::milliseconds(ms)) {
                const double due =
                    std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() + 0.05;
                if (due > fed) {
                    feed(due - fed);
                    fed = due;
                }
                QTest::qWait(10);
            }
        };
        run(2000);
        server.command("record-reset");
        QVERIFY(!server.waitLine("RECORD reset").isEmpty());
        run(envSeconds("SAFFRON_AUDIO_RECORD_SECONDS", 4) * 1000);
        server.command("record-report");
        const QString report = server.waitLine("RECORD frames=");
        qInfo("%s: %s", qPrintable(mode), qPrintable(report));
        QCOMPARE(lastModeOf("saffron.audio.record"), mode);
        const double frequency = field(report, "freq");
        QVERIFY2(field(report, "active_frames") > kRate * 2, qPrintable(report));
        QVERIFY2(std::abs(frequency - 1000) <= 2, qPrintable(report));
        session.stop();
    }

    // spice_server_playback_set_volume / set_mute on the server change what the sink hears.
    void volumeAndMute() {
        Recorder recorder;
        std::string error;
        auto capture = AudioCapture::create(sinkMonitorTap(), recorder.callback(), error);
        QVERIFY2(capture, error.c_str());
        ServerProcess server({"--audio-playback", "sine:440", "--audio-opus", "off"});
        Session session(sessionTo(server.port()));
        QSignalSpy connected(&session, &Session::connected);
        session.start();
        QVERIFY(connected.wait(15000));
        QVERIFY2(waitForSound(recorder, 15s), "the sine never reached the sink");
        const double full = levelFor(recorder, 600);
        server.command("playback-volume 32768");
        QVERIFY(!server.waitLine("PLAYBACK volume").isEmpty());
        const double half = levelFor(recorder, 600);
        server.command("playback-mute 1");
        QVERIFY(!server.waitLine("PLAYBACK mute").isEmpty());
        const double muted = levelFor(recorder, 600);
        server.command("playback-mute 0");
        server.command("playback-volume 65535");
        QVERIFY(!server.waitLine("PLAYBACK volume").isEmpty());
        const double back = levelFor(recorder, 600);
        // This machine's own controls (the shell's sound menu) through the session: they
        // multiply with the server's volume and mute on their own.
        session.setSpeakerVolume(0.5f);
        const double localHalf = levelFor(recorder, 600);
        session.setSpeakerMuted(true);
        const double localMuted = levelFor(recorder, 600);
        session.setSpeakerMuted(false);
        session.setSpeakerVolume(1.0f);
        qInfo("rms full %.1f, volume 50%% %.1f (ratio %.3f), muted %.1f, unmuted at 100%% %.1f; local 50%% "
              "ratio %.3f, local mute %.1f",
              full, half, half / full, muted, back, localHalf / full, localMuted);
        QVERIFY(std::abs(localHalf / full - 0.5) < 0.05);
        QVERIFY(localMuted < full * 0.001);
        QVERIFY(full > kAmplitude / std::sqrt(2.0) * 0.9);
        QVERIFY(std::abs(half / full - 0.5) < 0.05); // SPICE volume maps linearly to amplitude
        QVERIFY(muted < full * 0.001);
        QVERIFY(std::abs(back / full - 1) < 0.05);
        session.stop();
    }

    // SessionOptions::audioOutput (settings audio/output, --audio-output): the desktop's sound
    // goes to the named sink, not to the default one. Adds a sink, so it runs after the others.
    void configuredOutputDevice() {
        QVERIFY2(daemon_.addSink("test-sink-b"), qPrintable(daemon_.error()));
        Recorder onDefault;
        Recorder onChosen;
        std::string error;
        auto captureDefault =
            AudioCapture::create(sinkMonitorTap("test-sink", true), onDefault.callback(), error);
        QVERIFY2(captureDefault, error.c_str());
        auto captureChosen =
            AudioCapture::create(sinkMonitorTap("test-sink-b", true), onChosen.callback(), error);
        QVERIFY2(captureChosen, error.c_str());
        ServerProcess server({"--audio-playback", "sine:440", "--audio-opus", "off"});
        SessionOptions options = sessionTo(server.port());
        options.audioOutput = QStringLiteral("test-sink-b");
        Session session(options);
        QSignalSpy connected(&session, &Session::connected);
        session.start();
        QVERIFY(connected.wait(15000));
        QVERIFY2(waitForSound(onChosen, 15s), "no sound on the configured sink test-sink-b");
        const double chosen = levelFor(onChosen, 1000);
        onDefault.take();
        QTest::qWait(1000);
        const double other = rms(channelOf(onDefault.take(), kChannels, 0));
        qInfo("audio/output=test-sink-b: rms %.1f there, %.1f on the default sink test-sink", chosen, other);
        QVERIFY(chosen > kAmplitude / std::sqrt(2.0) * 0.9);
        QVERIFY(other < kAmplitude * 0.001);
        session.stop();
    }

    // The session menu's device choice: the sound moves to another sink while it plays, and
    // back to the system default.
    void switchOutputWhilePlaying() {
        QVERIFY2(daemon_.addSink("test-sink-c"), qPrintable(daemon_.error()));
        Recorder onDefault;
        Recorder onChosen;
        std::string error;
        auto captureDefault =
            AudioCapture::create(sinkMonitorTap("test-sink", true), onDefault.callback(), error);
        QVERIFY2(captureDefault, error.c_str());
        auto captureChosen =
            AudioCapture::create(sinkMonitorTap("test-sink-c", true), onChosen.callback(), error);
        QVERIFY2(captureChosen, error.c_str());
        ServerProcess server({"--audio-playback", "sine:440", "--audio-opus", "off"});
        Session session(sessionTo(server.port()));
        QSignalSpy connected(&session, &Session::connected);
        session.start();
        QVERIFY(connected.wait(15000));
        QVERIFY2(waitForSound(onDefault, 15s), "no sound on the default sink");
        const auto switched = std::chrono::steady_clock::now();
        session.setAudioOutput(QStringLiteral("test-sink-c"));
        QVERIFY2(waitForSound(onChosen, 15s), "no sound on test-sink-c after the switch");
        const double ms =
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - switched).count();
        const double chosen = levelFor(onChosen, 1000);
        onDefault.take();
        QTest::qWait(1000);
        const double other = rms(channelOf(onDefault.take(), kChannels, 0));
        qInfo("switched to test-sink-c: sound there after %.0f ms (rms %.1f), rms %.1f left on test-sink", ms,
              chosen, other);
        QVERIFY(chosen > kAmplitude / std::sqrt(2.0) * 0.9);
        QVERIFY(other < kAmplitude * 0.001);
        session.setAudioOutput(QString()); // the system default again
        QVERIFY2(waitForSound(onDefault, 15s), "no sound back on the default sink");
        session.stop();
    }

    // A video stream while the server plays sound: frames wait for their sound (the audio
    // being heard, MultimediaClock's anchor), not for the server's ~400 ms margin, and are shown
    // in step with it: on average within 45 ms late (ITU-R BT.1359's threshold of detectability
    // for sound ahead of the picture) and at most 125 ms early (picture ahead).
    void lipSyncWithVideo() {
        ServerProcess server({"--audio-playback", "sine:440", "--audio-opus", "off", "--workload",
                              "video-moving", "--size", "640x480", "--video-rect", "160,112,320,256",
                              "--streaming-video", "all", "--video-codecs", "spice:mjpeg"});
        SessionOptions o = sessionTo(server.port());
        o.lowLatencyVideo = true; // the default: lip-sync comes from the sound alone
        Session session(o);
        session.start();
        QVERIFY2(waitUntil([&] { return session.info().display.video.framesLipSynced >= 100; }, 60000),
                 qPrintable(QString("lip-synced %1 of %2 presented")
                                .arg(session.info().display.video.framesLipSynced)
                                .arg(session.info().display.video.framesPresented)));
        const SessionInfo before = session.info();
        QTest::qWait(5000);
        const SessionInfo after = session.info();
        const SessionRates rates = sessionRates(before, after, 5.0);
        const auto& v = rates.video;
        qInfo("lip-sync: %llu of %llu frames in 5 s scheduled by the sound, video %.1f ms after its audio on "
              "average (max |offset| %.0f ms so far), arrival to present %.1f ms, decode %.1f ms",
              qulonglong(v.lipSynced), qulonglong(v.presented), v.avOffsetMs, v.avOffsetMaxAbsMs,
              v.arrivalToPresentMs, v.decodeMs);
        QVERIFY(v.presented >= 20);
        QVERIFY2(v.lipSynced * 10 >= v.presented * 9, "frames were shown without waiting for their sound");
        QVERIFY(v.avOffsetMs < 45 && v.avOffsetMs > -125);
        // Far from the ~400 ms the server's own schedule would cost (its MULTI_MEDIA_TIME margin).
        QVERIFY2(v.arrivalToPresentMs < 250, qPrintable(QString::number(v.arrivalToPresentMs)));
        session.stop();
    }

    // The server's audio clock 0.5 % fast for SAFFRON_AUDIO_DRIFT_SECONDS (180 s): without
    // correction the client's buffer would grow by 5 ms a second (0.9 s over 3 minutes). We
    // measure the buffer from outside, as the latency of clicks from server submission (MARKER
    // t_ns) to the sink (monitor capture on the same clock); its spread is the buffer's.
    void drift() {
        const int seconds = envSeconds("SAFFRON_AUDIO_DRIFT_SECONDS", 180);
        constexpr int kSettleSeconds = 20; // the drift controller learns the offset
        constexpr int kIntervalMs = 1000;
        Recorder recorder(seconds + 30);
        std::string error;
        auto capture = AudioCapture::create(sinkMonitorTap(), recorder.callback(), error);
        QVERIFY2(capture, error.c_str());
        ServerProcess server({"--audio-playback", "marker", "--audio-marker-ms", QString::number(kIntervalMs),
                              "--audio-clock-scale", "1.005", "--audio-opus", "off"});
        Session session(sessionTo(server.port()));
        QSignalSpy connected(&session, &Session::connected);
        session.start();
        QVERIFY(connected.wait(15000));
        QVERIFY2(waitForSound(recorder, 15s), "no click reached the sink");
        recorder.take();
        const auto wallStart = std::chrono::steady_clock::now();
        const int64_t startNs = monotonicNs();
        QTest::qWait(seconds * 1000);
        const auto mapping = recorder.mapping();
        const auto samples = recorder.take();
        const double wall =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - wallStart).count();
        QVERIFY(mapping);
        const auto left = channelOf(samples, kChannels, 0);
        // The sink's graph clock against CLOCK_MONOTONIC: on a VM whose timers lag it runs slow,
        // which adds to the server's 0.5 %; beyond what a 1 % correction absorbs, the band
        // cannot hold whatever the client does. Counted from the frames captured, so frames the
        // monitor lost also count as slow (conservative); the mapping's steady rate is printed
        // beside it.
        const double graphSpeed = double(left.size()) / wall / kRate;
        qInfo("the sink's graph ran at %.3f %% of real time (%.2f ns per frame, steady rate %.3f %%)",
              graphSpeed * 100, mapping->nsPerFrame, 1e9 / kRate / mapping->nsPerFrame * 100);

        // Server submissions since the capture window opened.
        std::vector<int64_t> submitted;
        std::vector<QString> markerLines;
        for (const QString& line : server.lines()) {
            if (!line.startsWith("MARKER "))
                continue;
            const auto t = int64_t(field(line, "t_ns"));
            if (t >= startNs - 1'000'000'000) {
                submitted.push_back(t);
                markerLines.push_back(line);
            }
        }
        // Click onsets in the capture: a sample over a quarter of the amplitude after 100 ms of quiet.
        std::vector<double> arrived;
        size_t quietRun = 0;
        for (size_t i = 0; i < left.size(); ++i) {
            if (std::abs(left[i]) >= kAmplitude * 0.25) {
                if (quietRun >= kRate / 10)
                    arrived.push_back(mapping->timeOf(double(i)));
                quietRun = 0;
            } else {
                ++quietRun;
            }
        }
        // Each arrival belongs to the latest submission before it.
        std::vector<std::pair<double, double>> latency; // (seconds since start, ms)
        std::vector<size_t> markerOf;                   // index into submitted, per latency entry
        for (double t : arrived) {
            const auto it = std::upper_bound(submitted.begin(), submitted.end(), int64_t(t));
            if (it == submitted.begin())
                continue;
            const double ms = (t - double(*std::prev(it))) / 1e6;
            latency.push_back({(t - double(startNs)) / 1e9, ms});
            markerOf.push_back(size_t(std::prev(it) - submitted.begin()));
        }
        // Any click far from the median is printed with the markers around it, so that a failure
        // tells a stray onset or a lost MARKER line from a buffer that moved.
        if (!latency.empty()) {
            std::vector<double> sorted;
            for (const auto& entry : latency)
                sorted.push_back(entry.second);
            std::nth_element(sorted.begin(), sorted.begin() + std::ptrdiff_t(sorted.size() / 2),
                             sorted.end());
            const double median = sorted[sorted.size() / 2];
            for (size_t i = 0; i < latency.size(); ++i) {
                if (std::abs(latency[i].second - median) <= 30)
                    continue;
                const size_t m = markerOf[i];
                const double at = double(startNs) + latency[i].first * 1e9;
                auto relMs = [&](size_t k) {
                    return k < submitted.size() ? QString::number((double(submitted[k]) - at) / 1e6, 'f', 1)
                                                : QStringLiteral("-");
                };
                qInfo(
                    "outlier: t=%.3f s latency %.1f ms (median %.1f); markers relative to the arrival: "
                    "previous %s ms, matched %s ms, next %s ms; matched line \"%s\"; arrivals before/after "
                    "%s/%s ms",
                    latency[i].first, latency[i].second, median, qPrintable(relMs(m - 1)),
                    qPrintable(relMs(m)), qPrintable(relMs(m + 1)), qPrintable(markerLines[m]),
                    i > 0
                        ? qPrintable(QString::number((latency[i - 1].first - latency[i].first) * 1e3, 'f', 1))
                        : "-",
                    i + 1 < latency.size()
                        ? qPrintable(QString::number((latency[i + 1].first - latency[i].first) * 1e3, 'f', 1))
                        : "-");
            }
        }
        const AudioPlaybackOptions defaults; // the session plays with the default buffering
        const double band = 2.0 * defaults.bandMs;
        double sumT = 0, sumL = 0, sumTT = 0, sumTL = 0;
        int n = 0;
        std::vector<double> settled;
        for (const auto& [t, ms] : latency) {
            if (t < kSettleSeconds)
                continue;
            settled.push_back(ms);
            sumT += t;
            sumL += ms;
            sumTT += t * t;
            sumTL += t * ms;
            ++n;
        }
        // A click measured while the host stalled the capture or the server thread (logged above
        // as an outlier) says nothing of the buffer: the 1st..99th percentiles are its band.
        std::sort(settled.begin(), settled.end());
        const double lo = settled.empty() ? 0 : settled[settled.size() / 100];
        const double hi = settled.empty() ? 0 : settled[settled.size() - 1 - settled.size() / 100];
        for (size_t i = 0; i < latency.size(); i += 10)
            qInfo("t=%5.1f s latency %.1f ms", latency[i].first, latency[i].second);
        const double slope = n > 2 ? (n * sumTL - sumT * sumL) / (n * sumTT - sumT * sumT) : 0;
        qInfo("target %u ms, band +/-%u ms: %zu clicks sent, %zu arrived; after %d s settling, latency "
              "%.1f..%.1f ms (1st..99th percentile; spread %.1f ms, allowed %.0f + %.0f ms measurement; all "
              "%.1f..%.1f ms), trend %.3f ms/s "
              "(uncorrected: +%.1f ms/s)",
              defaults.targetMs, defaults.bandMs, submitted.size(), arrived.size(), kSettleSeconds, lo, hi,
              hi - lo, band, kMeasurementSlackMs, settled.empty() ? 0 : settled.front(),
              settled.empty() ? 0 : settled.back(), slope, 5.0 * graphSpeed);
        session.stop();
        if (graphSpeed < 0.9975)
            QSKIP(qPrintable(
                QStringLiteral("this machine's PipeWire graph ran at %1 % of real time, too far off "
                               "to tell a 0.5 % drift from it")
                    .arg(graphSpeed * 100, 0, 'f', 2)));
        QVERIFY2(n >= (seconds - kSettleSeconds) * 1000 / kIntervalMs * 9 / 10,
                 qPrintable(QString("only %1 clicks measured").arg(n)));
        // The buffer stays in its band: the spread of the latency is the buffer's movement plus
        // our measuring error (a capture quantum of 10 ms and the server's 10 ms frames).
        QVERIFY(hi - lo <= band + kMeasurementSlackMs);
        QVERIFY(std::abs(slope) < 1.0); // uncorrected: +5 ms/s
    }

private:
    static constexpr double kMeasurementSlackMs = 20;
    PipeWireDaemon daemon_;
};

QTEST_GUILESS_MAIN(TestAudioSession)
#include "test_audio_session.moc"
