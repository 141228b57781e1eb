// AudioPlayback and AudioCapture against a real PipeWire daemon (PipeWireDaemon: private
// pipewire + wireplumber with null sink/source nodes). Skipped, with the reason, where the daemon
// cannot start.

#include "AudioAnalysis.h"
#include "PipeWireDaemon.h"
#include "SinkMonitorTap.h"
#include "audio/AudioCapture.h"
#include "audio/AudioDevices.h"
#include "audio/AudioPlayback.h"

#include <QTest>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

using namespace saffron;
using namespace saffron::test;
using namespace std::chrono_literals;

namespace {

constexpr double kRate = 48000;
constexpr unsigned kChannels = 2;
constexpr double kAmplitude = 8000;

// Collects what an AudioCapture delivers (the callback runs on PipeWire's data thread).
class Recorder {
public:
    void append(std::span<const int16_t> samples) {
        std::lock_guard lock(m_mutex);
        m_samples.insert(m_samples.end(), samples.begin(), samples.end());
    }
    std::vector<int16_t> take() {
        std::lock_guard lock(m_mutex);
        return std::exchange(m_samples, {});
    }
    size_t frames() const {
        std::lock_guard lock(m_mutex);
        return m_samples.size() / kChannels;
    }
    AudioCapture::DataCallback callback() {
        return [this](std::span<const int16_t> s) { append(s); };
    }

private:
    mutable std::mutex m_mutex;
    std::vector<int16_t> m_samples;
};

// Feeds a sine into an AudioPlayback from its own thread, paced by the steady clock at `speed`
// times real time (1.005 = a server clock 0.5 % fast), in 10 ms chunks like a SPICE server.
class SineFeeder {
public:
    SineFeeder(AudioPlayback& playback, double frequency, double speed) : m_playback(playback) {
        m_thread = std::thread([this, frequency, speed] { run(frequency, speed); });
    }
    ~SineFeeder() { stop(); }
    void stop() {
        m_stop = true;
        if (m_thread.joinable()) {
            m_thread.join();
        }
    }
    uint64_t framesFed() const { return m_fed; }

private:
    void run(double frequency, double speed) {
        const auto start = std::chrono::steady_clock::now();
        double phase = 0;
        std::vector<int16_t> chunk;
        uint64_t fed = 0;
        while (!m_stop) {
            const double elapsed =
                std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
            // The first 60 ms go in at once (a server's initial burst), then real-time pacing.
            const auto due = uint64_t((elapsed + 0.06) * kRate * speed);
            if (due > fed) {
                chunk.clear();
                appendSine(chunk, size_t(due - fed), kChannels, frequency, kRate, kAmplitude, phase);
                m_playback.write(chunk);
                fed = due;
                m_fed = fed;
            }
            std::this_thread::sleep_for(10ms);
        }
    }

    AudioPlayback& m_playback;
    std::thread m_thread;
    std::atomic<bool> m_stop{false};
    std::atomic<uint64_t> m_fed{0};
};

// Writes a 440 Hz sine into an AudioPlayback from the calling thread, paced by the steady clock
// in 10 ms steps. Each run starts with `leadMs` at once (a server's first burst).
class PacedSineWriter {
public:
    PacedSineWriter(AudioPlayback& playback, uint32_t leadMs)
        : m_playback(playback), m_leadSeconds(leadMs / 1000.0) {
        restart();
    }
    // A new run: the lead again, then real time from now.
    void restart() {
        m_start = std::chrono::steady_clock::now();
        m_fed = 0;
    }
    // Feeds until `until` after the run's start.
    void feedUntil(std::chrono::milliseconds until) {
        while (std::chrono::steady_clock::now() - m_start < until) {
            const double elapsed =
                std::chrono::duration<double>(std::chrono::steady_clock::now() - m_start).count();
            const auto due = uint64_t((elapsed + m_leadSeconds) * kRate);
            if (due > m_fed) {
                write(size_t(due - m_fed));
                m_fed = due;
            }
            std::this_thread::sleep_for(10ms);
        }
    }
    // `ms` more at once, beside the pacing.
    void writeExtra(uint32_t ms) { write(size_t(kRate * ms / 1000)); }

private:
    void write(size_t frames) {
        m_chunk.clear();
        appendSine(m_chunk, frames, kChannels, 440, kRate, kAmplitude, m_phase);
        m_playback.write(m_chunk);
    }

    AudioPlayback& m_playback;
    double m_leadSeconds;
    std::chrono::steady_clock::time_point m_start;
    uint64_t m_fed = 0;
    double m_phase = 0;
    std::vector<int16_t> m_chunk;
};

AudioPlaybackOptions sinkPlayback(const std::string& target = "test-sink") {
    AudioPlaybackOptions options;
    options.target = target;
    return options;
}

// Waits (processing nothing: the audio classes have their own threads) until `frames` frames
// have been recorded, at most `timeout`.
bool waitForFrames(const Recorder& recorder, size_t frames, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (recorder.frames() < frames) {
        if (std::chrono::steady_clock::now() > deadline) {
            return false;
        }
        std::this_thread::sleep_for(20ms);
    }
    return true;
}

double levelOf(const std::vector<int16_t>& samples) {
    const auto left = channelOf(samples, kChannels, 0);
    return rms(left);
}

} // namespace

class TestAudioPipeWire : public QObject {
    Q_OBJECT

private slots:
    void initTestCase() {
        if (!m_daemon.start()) {
            QSKIP(qPrintable("no PipeWire daemon for the audio tests: " + m_daemon.error()));
        }
        qInfo() << "private PipeWire in" << m_daemon.runtimeDir();
    }
    void cleanupTestCase() { m_daemon.stop(); }

    // The device choice's list: the daemon's sinks and sources (not streams), and a sink created
    // later appears with a change notice. open() waits up to a second for the daemon's listing;
    // a daemon slower than that (a loaded CI host, WirePlumber still starting) fills the list in
    // afterwards, which is what the shell's model follows through `changed` too.
    void deviceListFollowsNodes() {
        std::atomic<int> changes{0};
        AudioDeviceList::Options options;
        options.changed = [&changes] { ++changes; };
        std::string error;
        auto list = AudioDeviceList::open(options, error);
        QVERIFY2(list, error.c_str());
        const auto has = [](const std::vector<AudioDevice>& devices, const std::string& name) {
            return std::any_of(devices.begin(), devices.end(),
                               [&](const AudioDevice& d) { return d.name == name; });
        };
        if (!has(list->outputs(), "test-sink"))
            qInfo() << "the daemon listed its nodes after open() returned";
        QTRY_VERIFY_WITH_TIMEOUT(has(list->outputs(), "test-sink"), 10000);
        QTRY_VERIFY_WITH_TIMEOUT(has(list->inputs(), "test-source"), 10000);
        QVERIFY(!has(list->outputs(), "test-source"));
        for (const AudioDevice& d : list->outputs())
            QVERIFY(!d.description.empty());
        // A playing stream is a node too, but no device.
        AudioPlaybackOptions o = sinkPlayback("test-sink");
        o.streamName = "not-a-device";
        auto playback = AudioPlayback::create(o, error);
        QVERIFY2(playback, error.c_str());
        QVERIFY2(m_daemon.addSink("test-sink-listed"), qPrintable(m_daemon.error()));
        QTRY_VERIFY_WITH_TIMEOUT(has(list->outputs(), "test-sink-listed"), 10000);
        QVERIFY(changes > 0);
        QVERIFY(!has(list->outputs(), "not-a-device"));
        QVERIFY(!has(list->inputs(), "not-a-device"));
        // Without a daemon: a clear error, no list.
        AudioDeviceList::Options nowhere;
        nowhere.remote = "saffron-no-such-daemon";
        QVERIFY(!AudioDeviceList::open(nowhere, error));
        QVERIFY2(QString::fromStdString(error).contains("PipeWire"), error.c_str());
    }

    void noDaemonGivesCleanError() {
        AudioPlaybackOptions options;
        options.remote = "saffron-no-such-daemon";
        std::string error;
        auto playback = AudioPlayback::create(options, error);
        QVERIFY(!playback);
        qInfo() << "playback error:" << error.c_str();
        QVERIFY(error.find("cannot connect to the PipeWire daemon") != std::string::npos);

        AudioCaptureOptions captureOptions;
        captureOptions.remote = "saffron-no-such-daemon";
        error.clear();
        auto capture = AudioCapture::create(captureOptions, {}, error);
        QVERIFY(!capture);
        QVERIFY(error.find("cannot connect to the PipeWire daemon") != std::string::npos);
    }

    void invalidFormatRefused() {
        AudioPlaybackOptions options;
        options.format.rate = 1'000'000;
        std::string error;
        QVERIFY(!AudioPlayback::create(options, error));
        QVERIFY(error.find("sample rate") != std::string::npos);
        options.format = {48000, 0};
        QVERIFY(!AudioPlayback::create(options, error));
        QVERIFY(error.find("channel count") != std::string::npos);
    }

    // 440 Hz in, 440 Hz out of the null sink's monitor, continuous.
    void sineComesOutOfTheSink() {
        Recorder recorder;
        std::string error;
        auto capture = AudioCapture::create(sinkMonitorTap(), recorder.callback(), error);
        QVERIFY2(capture, error.c_str());
        AudioPlaybackOptions options = sinkPlayback();
        options.adaptiveRate = qEnvironmentVariableIsEmpty("SAFFRON_TEST_NO_ADAPTIVE");
        auto playback = AudioPlayback::create(options, error);
        QVERIFY2(playback, error.c_str());
        {
            SineFeeder feeder(*playback, 440, 1.0);
            QVERIFY(waitForFrames(recorder, size_t(kRate * 0.3), 10s)); // graph running
            recorder.take();
            std::this_thread::sleep_for(2s);
            feeder.stop();
        }
        const auto samples = recorder.take();
        const auto stats = playback->stats();
        qInfo("played %llu frames, captured %zu frames, underruns %llu, skipped %llu, latency %.1f ms, fill "
              "%.1f ms "
              "(smoothed %.1f), rate correction %.5f",
              (unsigned long long)stats.framesPlayed, samples.size() / kChannels,
              (unsigned long long)stats.underruns, (unsigned long long)stats.skippedFrames, stats.latencyMs,
              stats.fillMs, stats.smoothedFillMs, stats.correctionRatio);
        QVERIFY2(playback->error().empty(), playback->error().c_str());
        const auto left = channelOf(samples, kChannels, 0);
        const auto right = channelOf(samples, kChannels, 1);
        const auto [begin, end] = activeRange(left, kAmplitude * 0.5);
        QVERIFY2(end - begin > size_t(kRate * 1.5),
                 qPrintable(QString("only %1 frames of sine").arg(end - begin)));
        const std::span<const double> active(left.data() + begin, end - begin);
        const double frequency = zeroCrossingFrequency(active, kRate);
        const double frequencyRight =
            zeroCrossingFrequency(std::span(right.data() + begin, end - begin), kRate);
        const size_t gap = longestQuietRun(active, kAmplitude * 0.02);
        const double level = rms(active);
        qInfo(
            "measured %.3f Hz (left) %.3f Hz (right), rms %.0f (expected %.0f), longest quiet run %zu frames "
            "(%.2f ms)",
            frequency, frequencyRight, level, kAmplitude / std::sqrt(2.0), gap, gap * 1000.0 / kRate);
        QVERIFY(std::abs(frequency - 440) <= 2);
        QVERIFY(std::abs(frequencyRight - 440) <= 2);
        QVERIFY(gap * 1000.0 / kRate <= 20);
        QVERIFY(std::abs(level - kAmplitude / std::sqrt(2.0)) < kAmplitude * 0.05);
        QCOMPARE(stats.underruns, uint64_t(0));
        QVERIFY(stats.latencyMs > 0 && stats.latencyMs < 200);
    }

    // Volume and mute act on the stream: the monitor's level follows.
    void volumeAndMuteChangeTheLevel() {
        Recorder recorder;
        std::string error;
        auto capture = AudioCapture::create(sinkMonitorTap(), recorder.callback(), error);
        QVERIFY2(capture, error.c_str());
        auto playback = AudioPlayback::create(sinkPlayback(), error);
        QVERIFY2(playback, error.c_str());
        SineFeeder feeder(*playback, 440, 1.0);
        auto measure = [&] {
            std::this_thread::sleep_for(400ms); // let the change (and any volume ramp) settle
            recorder.take();
            std::this_thread::sleep_for(500ms);
            return levelOf(recorder.take());
        };
        QVERIFY(waitForFrames(recorder, size_t(kRate * 0.3), 10s));
        const double full = measure();
        const uint16_t half[] = {32768, 32768};
        playback->setVolume(half);
        const double halved = measure();
        playback->setMute(true);
        const double muted = measure();
        playback->setMute(false);
        const uint16_t quarterLeft[] = {16384};
        playback->setVolume(quarterLeft); // one value: applies to every channel
        const double quarter = measure();
        qInfo("rms full %.1f, volume 50%% %.1f (ratio %.3f), muted %.1f, volume 25%% %.1f (ratio %.3f)", full,
              halved, halved / full, muted, quarter, quarter / full);
        QVERIFY(full > kAmplitude * 0.6);
        QVERIFY(std::abs(halved / full - 0.5) < 0.05);
        QVERIFY(muted < full * 0.001);
        QVERIFY(std::abs(quarter / full - 0.25) < 0.03);

        // This machine's own controls multiply with the server's: local 50 % on server 25 % gives
        // 12.5 %; the local mute silences whatever the server says; undoing both restores 25 %.
        playback->setLocalVolume(0.5f);
        const double local = measure();
        playback->setLocalMute(true);
        const double localMuted = measure();
        playback->setLocalMute(false);
        playback->setLocalVolume(1.0f);
        const double restored = measure();
        qInfo("local 50%% on server 25%%: ratio %.3f; local mute %.1f; restored ratio %.3f", local / full,
              localMuted, restored / full);
        QVERIFY(std::abs(local / full - 0.125) < 0.02);
        QVERIFY(localMuted < full * 0.001);
        QVERIFY(std::abs(restored / full - 0.25) < 0.03);
    }

    // AudioCapture from the virtual source: what a playback stream puts into "test-source"
    // comes back from a capture stream on it at the same frequency.
    void captureFromVirtualSource() {
        Recorder recorder;
        std::string error;
        AudioCaptureOptions options;
        options.target = "test-source";
        options.format = {48000, 2};
        auto capture = AudioCapture::create(options, recorder.callback(), error);
        QVERIFY2(capture, error.c_str());
        // WirePlumber links playback streams to sinks only; a virtual source's input ports are
        // linked by hand, the way an application like a loopback or a mixer would.
        AudioPlaybackOptions playbackOptions = sinkPlayback("test-source");
        playbackOptions.streamName = "tone-into-source";
        // The tone must be exact: this test measures the capture path, not drift correction.
        playbackOptions.adaptiveRate = false;
        auto playback = AudioPlayback::create(playbackOptions, error);
        QVERIFY2(playback, error.c_str());
        {
            // The stream's ports appear once its format is negotiated: retry until both links exist.
            const auto deadline = std::chrono::steady_clock::now() + 10s;
            bool linkedLeft = false;
            bool linkedRight = false;
            while (!(linkedLeft && linkedRight) && std::chrono::steady_clock::now() < deadline) {
                std::this_thread::sleep_for(100ms);
                linkedLeft =
                    linkedLeft || m_daemon.link("tone-into-source:output_FL", "test-source:input_FL");
                linkedRight =
                    linkedRight || m_daemon.link("tone-into-source:output_FR", "test-source:input_FR");
            }
            const bool linked = linkedLeft && linkedRight;
            if (!linked) {
                qInfo().noquote() << "output ports:" << m_daemon.runTool("pw-link", {"-o"});
            }
            QVERIFY2(linked, "could not link the playback stream into test-source");
            SineFeeder feeder(*playback, 1000, 1.0);
            QVERIFY(waitForFrames(recorder, size_t(kRate * 0.3), 10s));
            recorder.take();
            std::this_thread::sleep_for(1500ms);
        }
        const auto samples = recorder.take();
        const auto left = channelOf(samples, kChannels, 0);
        const auto [begin, end] = activeRange(left, kAmplitude * 0.5);
        QVERIFY2(end - begin > size_t(kRate), qPrintable(QString("only %1 frames of sine").arg(end - begin)));
        const std::span<const double> active(left.data() + begin, end - begin);
        const double frequency = zeroCrossingFrequency(active, kRate);
        const auto stats = capture->stats();
        qInfo("captured %llu frames in %llu callbacks, measured %.3f Hz, rms %.0f",
              (unsigned long long)stats.framesCaptured, (unsigned long long)stats.callbacks, frequency,
              rms(active));
        QVERIFY(std::abs(frequency - 1000) <= 2);
        QVERIFY2(capture->error().empty(), capture->error().c_str());

        // Capture volume: muting the capture stream silences what we record.
        capture->setMute(true);
        std::this_thread::sleep_for(400ms);
        recorder.take();
        std::this_thread::sleep_for(400ms);
        const double muted = levelOf(recorder.take());
        qInfo("capture muted rms %.1f", muted);
        QVERIFY(muted < 10);
    }

    // A server clock 0.5 % fast: without correction the queue would grow by 5 ms every second;
    // with PipeWire's adaptive resampler driven by the DriftController it stays in its band.
    void driftIsCorrected_data() {
        QTest::addColumn<bool>("adaptive");
        QTest::newRow("adaptive") << true;
        QTest::newRow("no correction (control)") << false;
    }
    void driftIsCorrected() {
        QFETCH(bool, adaptive);
        AudioPlaybackOptions options = sinkPlayback();
        options.adaptiveRate = adaptive;
        options.capacityMs = 1000;
        std::string error;
        auto playback = AudioPlayback::create(options, error);
        QVERIFY2(playback, error.c_str());
        const double low = double(options.targetMs) - options.bandMs;
        const double high = double(options.targetMs) + options.bandMs;
        SineFeeder feeder(*playback, 440, 1.005);
        // Settle (the integral term learns the offset), then watch.
        const int settleSeconds = adaptive ? 12 : 0;
        const int watchSeconds = adaptive ? 15 : 12;
        std::this_thread::sleep_for(std::chrono::seconds(settleSeconds));
        int extra = 0; // tenths of a second waited beyond the settle time
        if (adaptive) {
            // A stall of this loaded machine during the settle (PipeWire's graph a cycle or ten
            // late) leaves a burst: above the band, the playback trims it after a second
            // (aStalledSinkIsCaughtUpQuickly), inside the band the controller drains it at 0.5 %
            // (the 1 % limit less the drift). This test watches the steady state, so it waits
            // (at most 30 s more) for the fill to be back in the band.
            const auto settled = [&] {
                const double fill = playback->stats().smoothedFillMs;
                return fill >= low && fill <= high;
            };
            for (; extra < 300 && !settled(); ++extra)
                std::this_thread::sleep_for(100ms);
            if (extra > 0)
                qInfo("the fill came back into the band %.1f s after the settle time", extra / 10.0);
        }
        std::vector<double> fills;
        double minSmoothed = 1e9;
        double maxSmoothed = 0;
        double ratioSum = 0;
        const auto skippedBefore = playback->stats().skippedFrames;
        const auto playedBefore = playback->stats().framesPlayed;
        const auto watchStart = std::chrono::steady_clock::now();
        struct Sample {
            double seconds;
            uint64_t played;
            double ratio;
        };
        std::vector<Sample> taken; // for the stall check below
        for (int i = 0; i < watchSeconds * 10; ++i) {
            std::this_thread::sleep_for(100ms);
            const auto s = playback->stats();
            taken.push_back(
                {std::chrono::duration<double>(std::chrono::steady_clock::now() - watchStart).count(),
                 s.framesPlayed, s.correctionRatio});
            fills.push_back(s.fillMs);
            minSmoothed = std::min(minSmoothed, s.smoothedFillMs);
            maxSmoothed = std::max(maxSmoothed, s.smoothedFillMs);
            ratioSum += s.correctionRatio;
            if (i % 10 == 9) {
                qInfo("t=%2ds fill %.1f ms (smoothed %.1f), ratio %.5f, latency %.1f ms",
                      settleSeconds + (extra + i) / 10 + 1, s.fillMs, s.smoothedFillMs, s.correctionRatio,
                      s.latencyMs);
            }
        }
        feeder.stop();
        const auto s = playback->stats();
        const double meanRatio = ratioSum / (watchSeconds * 10);
        // The instantaneous fill is sampled on a loaded machine: one sample in a hundred may
        // catch PipeWire a cycle late. Its 1st..99th percentiles are the band it keeps.
        std::sort(fills.begin(), fills.end());
        const double minFill = fills[fills.size() / 100];
        const double maxFill = fills[fills.size() - 1 - fills.size() / 100];
        // How fast the null sink's graph really consumed audio (frames handed to PipeWire over wall
        // time, without our own rate correction). On a VM whose timers lag (CPU steal) it runs
        // slower than real time; once that gap exceeds what a 1 % correction can absorb besides
        // the 0.5 % drift, the band cannot hold whatever the controller does.
        // Frames the graph took per second of wall time, as a fraction of the nominal rate.
        const auto speedOf = [&](uint64_t frames, double seconds, double ratio) {
            return double(frames) / seconds / (adaptive ? ratio : 1.0) / double(kRate);
        };
        const double graphSpeed = speedOf(
            s.framesPlayed - playedBefore,
            std::chrono::duration<double>(std::chrono::steady_clock::now() - watchStart).count(), meanRatio);
        qInfo("the sink's graph ran at %.2f %% of real time", graphSpeed * 100);
        qInfo("band [%.0f, %.0f] ms: fill %.1f..%.1f ms (1st..99th percentile; all %.1f..%.1f), smoothed "
              "%.1f..%.1f ms, mean ratio %.5f, underruns "
              "%llu, "
              "overflow %llu, skipped %llu",
              low, high, minFill, maxFill, fills.front(), fills.back(), minSmoothed, maxSmoothed, meanRatio,
              (unsigned long long)s.underruns, (unsigned long long)s.overflowFrames,
              (unsigned long long)s.skippedFrames);
        // The slowest 2-s stretch of the graph: a stall of the loaded host (a CI run: the fill
        // jumped 20 ms within a second, the playback trimmed it as it should) shows as a window
        // two or more 10-ms quanta short, which the whole watch's average hides. Unstalled
        // windows measured 99.2-99.8 % here (quantum and ratio bookkeeping), hence 99 %.
        double slowestWindow = 1.0;
        for (size_t i = 0; i + 20 < taken.size(); i += 5) {
            const Sample& a = taken[i];
            const Sample& b = taken[i + 20];
            double ratio = 0;
            for (size_t k = i; k <= i + 20; ++k)
                ratio += taken[k].ratio;
            slowestWindow =
                std::min(slowestWindow, speedOf(b.played - a.played, b.seconds - a.seconds, ratio / 21));
        }
        qInfo("the slowest 2-s window of the graph ran at %.2f %% of real time", slowestWindow * 100);
        if (adaptive) {
            if (graphSpeed < 0.9975)
                QSKIP(qPrintable(QStringLiteral("this machine's PipeWire graph ran at %1 % of real time, "
                                                "too far off to tell a 0.5 % drift from it")
                                     .arg(graphSpeed * 100, 0, 'f', 2)));
            // A stall is aStalledSinkIsCaughtUpQuickly's case (the trim); this test watches the
            // steady state, which a stall inside the watch does not show.
            if (slowestWindow < 0.99)
                QSKIP(
                    qPrintable(QStringLiteral("this machine's PipeWire graph stalled during the watch (a 2-s "
                                              "window at %1 % of real time)")
                                   .arg(slowestWindow * 100, 0, 'f', 2)));
            // The controller keeps the smoothed fill in the band. The instantaneous fill also
            // moves by up to one graph quantum between PipeWire's pulls (one cycle early or late
            // on a loaded machine), which no rate correction can or should chase.
            const double quantumMs = 1000.0 * options.quantumFrames / kRate;
            QVERIFY(minSmoothed >= low && maxSmoothed <= high);
            QVERIFY(minFill >= low - quantumMs && maxFill <= high + quantumMs);
            // Inside the dead band the ratio wanders slowly round the offset (a 15 s window is not
            // a whole swing): require a correction of the right sign and size, well above zero.
            QVERIFY(meanRatio > 1.002 && meanRatio < 1.0095);
            QCOMPARE(s.underruns, uint64_t(0));
            QCOMPARE(s.skippedFrames, skippedBefore); // nothing beyond the start-up trim
            QCOMPARE(s.overflowFrames, uint64_t(0));
        } else {
            // The control run shows the band is held by the correction, not by luck.
            QVERIFY(maxFill > high);
        }
    }

    // A headset plugged in mid-call: the user (or the desktop) makes another sink the default,
    // and a stream created without a target moves there without being restarted (issue 5,
    // "follow default-device changes"). Runs last: it adds a sink to the shared daemon.
    void playbackFollowsTheDefaultSink() {
        QVERIFY2(m_daemon.addSink("test-sink-b"), qPrintable(m_daemon.error()));
        auto defaultBecomes = [&](const QString& name) { QVERIFY(defaultBecame("audio.sink", name)); };
        defaultBecomes("test-sink");
        if (QTest::currentTestFailed())
            return;

        Recorder onA;
        Recorder onB;
        std::string error;
        // The taps stay on their sinks: tapping the default sink would otherwise follow it too.
        auto captureA = AudioCapture::create(sinkMonitorTap("test-sink", true), onA.callback(), error);
        QVERIFY2(captureA, error.c_str());
        auto captureB = AudioCapture::create(sinkMonitorTap("test-sink-b", true), onB.callback(), error);
        QVERIFY2(captureB, error.c_str());
        auto playback = AudioPlayback::create(sinkPlayback(""), error); // no target: the default
        QVERIFY2(playback, error.c_str());
        SineFeeder feeder(*playback, 440, 1.0);

        // The sine is heard on a sink once 200 ms of it carry it at full level, and the other is silent.
        auto heardOn = [&](Recorder& loud, Recorder& quiet, std::chrono::milliseconds timeout) {
            const auto deadline = std::chrono::steady_clock::now() + timeout;
            while (std::chrono::steady_clock::now() < deadline) {
                loud.take();
                quiet.take();
                std::this_thread::sleep_for(200ms);
                const double loudLevel = levelOf(loud.take());
                const double quietLevel = levelOf(quiet.take());
                if (loudLevel > kAmplitude / std::sqrt(2.0) * 0.8 && quietLevel < kAmplitude * 0.01)
                    return true;
            }
            return false;
        };
        QVERIFY2(heardOn(onA, onB, 10s), "the stream did not start on the default sink (test-sink)");
        const auto switched = std::chrono::steady_clock::now();
        defaultBecomes("test-sink-b");
        if (QTest::currentTestFailed())
            return;
        const bool moved = heardOn(onB, onA, 10s);
        const double ms =
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - switched).count();
        qInfo(
            "default sink test-sink -> test-sink-b: the stream was heard on test-sink-b alone after %.0f ms "
            "(same AudioPlayback, underruns %llu)",
            ms, (unsigned long long)playback->stats().underruns);
        QVERIFY2(moved, "the stream stayed on the old default sink");
        QVERIFY2(playback->error().empty(), playback->error().c_str());
        // And back, like unplugging the headset.
        defaultBecomes("test-sink");
        QVERIFY2(heardOn(onA, onB, 10s), "the stream did not come back to test-sink");
        feeder.stop();
    }

    // A link whose jitter outgrows the queue: the starved stream underruns once, the target
    // rises by a step (30 -> 50 ms) so the same jitter no longer drops out, and quiet periods
    // give the latency back. A new stream of the same session starts where the last one ended.
    void jitterRaisesTheTarget() {
        AudioPlaybackOptions options = sinkPlayback();
        options.relaxAfterSeconds = 1;
        std::string error;
        auto playback = AudioPlayback::create(options, error);
        QVERIFY2(playback, error.c_str());
        QCOMPARE(playback->stats().targetMs, options.targetMs);
        PacedSineWriter writer(*playback, options.targetMs);
        // Real-time feeding for `ms`, after a starting burst of the target.
        auto feed = [&](int ms) {
            writer.restart();
            writer.feedUntil(std::chrono::milliseconds(ms));
        };
        feed(1500);
        const auto before = playback->stats();
        std::this_thread::sleep_for(200ms); // the server's packets stop: a 200 ms hole
        feed(300);
        const auto after = playback->stats();
        qInfo("before the hole: target %u ms, underruns %llu; after: target %u ms, underruns %llu",
              before.targetMs, (unsigned long long)before.underruns, after.targetMs,
              (unsigned long long)after.underruns);
        QVERIFY(after.underruns > before.underruns);
        QVERIFY(after.targetMs >= before.targetMs + options.underrunStepMs);
        QVERIFY(after.targetMs <= options.maxTargetMs);
        // Quiet: 5 ms back per second without an underrun, never below the start.
        feed(3500);
        const auto relaxed = playback->stats();
        qInfo("after 3.5 s without a hole: target %u ms, underruns %llu", relaxed.targetMs,
              (unsigned long long)relaxed.underruns);
        if (relaxed.underruns == after.underruns)
            QVERIFY(relaxed.targetMs < after.targetMs);
        QVERIFY(relaxed.targetMs >= options.targetMs);
        // A pause (the guest's sound stopped without a PLAYBACK_STOP, then came back) is no
        // jitter: no underrun counted, no target raised. (relaxAfterSeconds = 1: the target may
        // only have gone down meanwhile.)
        std::this_thread::sleep_for(1500ms);
        feed(300);
        const auto paused = playback->stats();
        qInfo("after a 1.5 s pause: target %u ms, underruns %llu", paused.targetMs,
              (unsigned long long)paused.underruns);
        QCOMPARE(paused.underruns, relaxed.underruns);
        QVERIFY(paused.targetMs <= relaxed.targetMs);

        options.startTargetMs = relaxed.targetMs;
        auto next = AudioPlayback::create(options, error);
        QVERIFY2(next, error.c_str());
        QCOMPARE(next->stats().targetMs, relaxed.targetMs);
    }

    // The sink stalls (its graph some cycles late) and never plays what it missed: the queue is
    // up by that much for good. Below the burst threshold the controller alone would take
    // 5 s for this one at its 1 % limit; the playback trims it once it has stayed above the
    // band for a second, so that the sound is back beside the picture within about two.
    void aStalledSinkIsCaughtUpQuickly() {
        AudioPlaybackOptions options = sinkPlayback();
        std::string error;
        auto playback = AudioPlayback::create(options, error);
        QVERIFY2(playback, error.c_str());
        PacedSineWriter writer(*playback, options.targetMs);
        writer.feedUntil(3000ms);
        const auto before = playback->stats();
        // What the stalled sink did not play, as 80 ms more in the queue (below the burst
        // threshold of target + 4 x band, so only the new rule can cut it at once).
        const uint32_t stallMs = 80;
        writer.writeExtra(stallMs);
        writer.feedUntil(3000ms + 2500ms);
        const auto after = playback->stats();
        const double skippedMs = double(after.skippedFrames - before.skippedFrames) * 1000.0 / kRate;
        qInfo("before the stall: fill %.1f ms (smoothed %.1f), skipped %llu frames; 2.5 s after it: fill "
              "%.1f ms "
              "(smoothed %.1f), %.1f ms skipped, underruns %llu",
              before.fillMs, before.smoothedFillMs, (unsigned long long)before.skippedFrames, after.fillMs,
              after.smoothedFillMs, skippedMs, (unsigned long long)after.underruns);
        QVERIFY(before.playing);
        QVERIFY(after.playing);
        QVERIFY(skippedMs >= stallMs / 2.0);
        QVERIFY(after.smoothedFillMs <= double(options.targetMs + options.bandMs));
    }

    // The same for the microphone: a capture stream without a target records the default
    // source and moves when it changes. Two virtual sources carry different tones (fed by hand,
    // as in captureFromVirtualSource), so the recording says which one it is.
    void captureFollowsTheDefaultSource() {
        QVERIFY2(m_daemon.addSource("test-source-b"), qPrintable(m_daemon.error()));
        QVERIFY(defaultBecame("audio.source", "test-source"));
        std::string error;
        auto toneInto = [&](const std::string& source) -> std::unique_ptr<AudioPlayback> {
            AudioPlaybackOptions o = sinkPlayback(source);
            o.streamName = "tone-into-" + source;
            o.adaptiveRate = false;
            auto playback = AudioPlayback::create(o, error);
            if (!playback)
                return nullptr;
            const QString from = QString::fromStdString(o.streamName);
            const QString to = QString::fromStdString(source);
            const auto deadline = std::chrono::steady_clock::now() + 10s;
            bool left = false, right = false;
            while (!(left && right) && std::chrono::steady_clock::now() < deadline) {
                std::this_thread::sleep_for(100ms);
                left = left || m_daemon.link(from + ":output_FL", to + ":input_FL");
                right = right || m_daemon.link(from + ":output_FR", to + ":input_FR");
            }
            if (!(left && right))
                return nullptr;
            return playback;
        };
        auto toneA = toneInto("test-source");
        QVERIFY2(toneA, "could not feed test-source");
        auto toneB = toneInto("test-source-b");
        QVERIFY2(toneB, "could not feed test-source-b");
        SineFeeder feedA(*toneA, 1000, 1.0);
        SineFeeder feedB(*toneB, 500, 1.0);

        Recorder recorder;
        AudioCaptureOptions microphone; // no target: the default source
        microphone.format = {48000, 2};
        auto capture = AudioCapture::create(microphone, recorder.callback(), error);
        QVERIFY2(capture, error.c_str());
        // The tone heard over 300 ms, or 0 while it is not a clean sine at full level.
        auto heard = [&](std::chrono::milliseconds timeout, double expectHz) {
            const auto deadline = std::chrono::steady_clock::now() + timeout;
            double hz = 0;
            while (std::chrono::steady_clock::now() < deadline) {
                recorder.take();
                std::this_thread::sleep_for(300ms);
                const auto left = channelOf(recorder.take(), kChannels, 0);
                const auto [begin, end] = activeRange(left, kAmplitude * 0.5);
                if (end - begin < size_t(kRate * 0.25))
                    continue;
                hz = zeroCrossingFrequency(std::span<const double>(left.data() + begin, end - begin), kRate);
                if (std::abs(hz - expectHz) <= 5)
                    return hz;
            }
            return hz;
        };
        const double before = heard(10s, 1000);
        QVERIFY2(std::abs(before - 1000) <= 5, qPrintable(QString("heard %1 Hz on test-source").arg(before)));
        const auto switched = std::chrono::steady_clock::now();
        QVERIFY(defaultBecame("audio.source", "test-source-b"));
        const double after = heard(10s, 500);
        const double ms =
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - switched).count();
        qInfo("default source test-source -> test-source-b: %.1f Hz before, %.1f Hz %.0f ms after, same "
              "AudioCapture",
              before, after, ms);
        QVERIFY2(std::abs(after - 500) <= 5, "the capture stayed on the old default source");
        QVERIFY2(capture->error().empty(), capture->error().c_str());
        feedA.stop();
        feedB.stop();
    }

private:
    // Sets the configured default and waits until WirePlumber has made it the default.
    bool defaultBecame(const QString& kind, const QString& name) {
        if (!m_daemon.setDefault(kind, name))
            return false;
        const auto deadline = std::chrono::steady_clock::now() + 10s;
        while (m_daemon.defaultOf(kind) != name && std::chrono::steady_clock::now() < deadline)
            std::this_thread::sleep_for(50ms);
        return m_daemon.defaultOf(kind) == name;
    }

    PipeWireDaemon m_daemon;
};

QTEST_GUILESS_MAIN(TestAudioPipeWire)
#include "test_audio_pipewire.moc"
