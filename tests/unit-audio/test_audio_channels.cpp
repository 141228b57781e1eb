// PlaybackChannel and RecordChannel driven through Channel::dispatch (no SPICE server needed for
// the parsers), playing into / recording from the private PipeWire daemon of PipeWireDaemon.
// Hostile bodies must be refused (counted in badMessages) without touching the audio stack.

#include "AudioAnalysis.h"
#include "PipeWireDaemon.h"
#include "audio/AudioCapture.h"
#include "audio/AudioPlayback.h"
#include "audio/OpusCodec.h"
#include "channels/PlaybackChannel.h"
#include "channels/RecordChannel.h"
#include "wire/Writer.h"

#include <QSignalSpy>
#include <QTest>
#include <mutex>
#include <spice/enums.h>
#include <thread>

using namespace saffron;
using namespace saffron::test;
using namespace std::chrono_literals;

namespace {

std::vector<uint8_t> startBody(uint32_t channels, uint16_t format, uint32_t frequency) {
    return Writer().u32(channels).u16(format).u32(frequency).u32(0).take();
}
std::vector<uint8_t> recordStartBody(uint32_t channels, uint16_t format, uint32_t frequency) {
    return Writer().u32(channels).u16(format).u32(frequency).take();
}
std::vector<uint8_t> modeBody(uint16_t mode) {
    return Writer().u32(0).u16(mode).take();
}
std::vector<uint8_t> dataBody(uint32_t time, std::span<const uint8_t> payload) {
    return Writer().u32(time).bytes(payload).take();
}
std::vector<uint8_t> volumeBody(std::vector<uint16_t> volumes, int declared = -1) {
    Writer w;
    w.u8(uint8_t(declared < 0 ? volumes.size() : size_t(declared)));
    for (uint16_t v : volumes) {
        w.u16(v);
    }
    return w.take();
}

class Recorder {
public:
    void append(std::span<const int16_t> s) {
        std::lock_guard lock(m_mutex);
        m_samples.insert(m_samples.end(), s.begin(), s.end());
    }
    std::vector<int16_t> take() {
        std::lock_guard lock(m_mutex);
        return std::exchange(m_samples, {});
    }

private:
    std::mutex m_mutex;
    std::vector<int16_t> m_samples;
};

} // namespace

class TestAudioChannels : public QObject {
    Q_OBJECT

private slots:
    void initTestCase() { m_daemonUp = m_daemon.start(); }

    // Hostile and out-of-order messages: refused, counted, never a stream.
    void playbackRejectsHostileMessages() {
        const SessionOptions options;
        PlaybackChannel channel(options, 0);
        channel.setAudioEnabled(false);
        const uint8_t twoFrames[8] = {};
        channel.dispatch(SPICE_MSG_PLAYBACK_DATA, dataBody(0, twoFrames)); // before START
        channel.dispatch(SPICE_MSG_PLAYBACK_START, startBody(2, SPICE_AUDIO_FMT_S16, 0));
        channel.dispatch(SPICE_MSG_PLAYBACK_START, startBody(2, SPICE_AUDIO_FMT_S16, 4'000'000'000u));
        channel.dispatch(SPICE_MSG_PLAYBACK_START, startBody(0, SPICE_AUDIO_FMT_S16, 48000));
        channel.dispatch(SPICE_MSG_PLAYBACK_START, startBody(1000, SPICE_AUDIO_FMT_S16, 48000));
        channel.dispatch(SPICE_MSG_PLAYBACK_START, startBody(2, 7, 48000));
        channel.dispatch(SPICE_MSG_PLAYBACK_START, std::vector<uint8_t>{1, 2, 3}); // truncated
        channel.dispatch(SPICE_MSG_PLAYBACK_MODE, modeBody(2)); // CELT_0_5_1: deprecated, never advertised
        channel.dispatch(SPICE_MSG_PLAYBACK_MODE, modeBody(99));
        channel.dispatch(SPICE_MSG_PLAYBACK_VOLUME, volumeBody({1, 2}, 255)); // declares 255
        channel.dispatch(SPICE_MSG_PLAYBACK_LATENCY, Writer().u32(10'000'000).take());
        QCOMPARE(channel.stats().badMessages, quint64(11));
        QCOMPARE(channel.mode(), uint16_t(SPICE_AUDIO_DATA_MODE_RAW));
        // Opus mode refuses formats Opus cannot carry, and garbage packets.
        channel.dispatch(SPICE_MSG_PLAYBACK_MODE, modeBody(SPICE_AUDIO_DATA_MODE_OPUS));
        channel.dispatch(SPICE_MSG_PLAYBACK_START, startBody(2, SPICE_AUDIO_FMT_S16, 44100));
        QCOMPARE(channel.stats().badMessages, quint64(12));
        channel.dispatch(SPICE_MSG_PLAYBACK_START, startBody(2, SPICE_AUDIO_FMT_S16, 48000));
        const uint8_t junk[] = {0x03, 0x00};
        channel.dispatch(SPICE_MSG_PLAYBACK_DATA, dataBody(0, junk));
        channel.dispatch(SPICE_MSG_PLAYBACK_DATA, dataBody(0, {}));
        QCOMPARE(channel.stats().badMessages, quint64(14));
        // Raw data that is not whole frames.
        channel.dispatch(SPICE_MSG_PLAYBACK_MODE, modeBody(SPICE_AUDIO_DATA_MODE_RAW));
        const uint8_t oddBytes[6] = {};
        channel.dispatch(SPICE_MSG_PLAYBACK_DATA, dataBody(0, oddBytes));
        QCOMPARE(channel.stats().badMessages, quint64(15));
        channel.dispatch(SPICE_MSG_PLAYBACK_DATA, dataBody(0, twoFrames));
        QCOMPARE(channel.stats().badMessages, quint64(15));
        QCOMPARE(channel.playbackStats().framesDecoded, quint64(2));
        QVERIFY(!channel.playback());
    }

    void recordRejectsHostileMessages() {
        const SessionOptions options;
        RecordChannel channel(options, 0);
        channel.setAudioEnabled(false);
        channel.dispatch(SPICE_MSG_RECORD_START, recordStartBody(2, SPICE_AUDIO_FMT_S16, 1));
        channel.dispatch(SPICE_MSG_RECORD_START, recordStartBody(99, SPICE_AUDIO_FMT_S16, 48000));
        channel.dispatch(SPICE_MSG_RECORD_START, recordStartBody(2, 0, 48000));
        channel.dispatch(SPICE_MSG_RECORD_START, std::vector<uint8_t>{0, 0});
        channel.dispatch(SPICE_MSG_RECORD_VOLUME, volumeBody({1}, 3));
        channel.dispatch(SPICE_MSG_RECORD_MUTE, {});
        QCOMPARE(channel.stats().badMessages, quint64(6));
        QVERIFY(!channel.recording());
    }

    // No daemon: the channel says why once and keeps going.
    void playbackWithoutDaemon() {
        const SessionOptions options;
        PlaybackChannel channel(options, 0);
        AudioPlaybackOptions audio;
        audio.remote = "saffron-no-such-daemon";
        channel.setAudioOptions(audio);
        QSignalSpy unavailable(&channel, &PlaybackChannel::audioUnavailable);
        channel.dispatch(SPICE_MSG_PLAYBACK_START, startBody(2, SPICE_AUDIO_FMT_S16, 48000));
        channel.dispatch(SPICE_MSG_PLAYBACK_STOP, {});
        channel.dispatch(SPICE_MSG_PLAYBACK_START, startBody(2, SPICE_AUDIO_FMT_S16, 44100));
        const uint8_t frames[16] = {};
        channel.dispatch(SPICE_MSG_PLAYBACK_DATA, dataBody(0, frames));
        QCOMPARE(unavailable.count(), 1);
        qInfo() << "reason:" << unavailable.first().first().toString();
        QCOMPARE(channel.stats().badMessages, quint64(0));
        QCOMPARE(channel.playbackStats().framesDecoded, quint64(4));
    }

    // Opus packets through the channel come out of the null sink at the encoded pitch.
    void playbackOpusReachesTheSink() {
        if (!m_daemonUp) {
            QSKIP(qPrintable("no PipeWire daemon: " + m_daemon.error()));
        }
        Recorder recorder;
        AudioCaptureOptions monitor;
        monitor.target = "test-sink";
        monitor.captureSinkMonitor = true;
        std::string error;
        auto capture = AudioCapture::create(
            monitor, [&](std::span<const int16_t> s) { recorder.append(s); }, error);
        QVERIFY2(capture, error.c_str());

        const SessionOptions options;
        PlaybackChannel channel(options, 0);
        AudioPlaybackOptions audio;
        audio.target = "test-sink";
        audio.adaptiveRate = false; // measure the decoded pitch, not the drift correction
        channel.setAudioOptions(audio);
        channel.dispatch(SPICE_MSG_PLAYBACK_MODE, modeBody(SPICE_AUDIO_DATA_MODE_OPUS));
        channel.dispatch(SPICE_MSG_PLAYBACK_START, startBody(2, SPICE_AUDIO_FMT_S16, 48000));
        channel.dispatch(SPICE_MSG_PLAYBACK_VOLUME, volumeBody({65535, 65535}));
        QVERIFY(channel.playback());
        auto encoder =
            OpusPacketEncoder::create({48000, 2}, OpusPacketEncoder::Application::Audio, 128000, error);
        QVERIFY(encoder);
        double phase = 0;
        const auto start = std::chrono::steady_clock::now();
        uint32_t sent = 0;
        // 2 s of 10 ms packets, paced like a server.
        while (sent < 200) {
            const auto due = uint32_t((std::chrono::steady_clock::now() - start) / 10ms) + 6;
            for (; sent < std::min<uint32_t>(due, 200); ++sent) {
                std::vector<int16_t> pcm;
                appendSine(pcm, 480, 2, 440, 48000, 8000, phase);
                std::vector<uint8_t> packet;
                QVERIFY(encoder->encode(pcm, packet, error));
                channel.dispatch(SPICE_MSG_PLAYBACK_DATA, dataBody(sent * 10, packet));
            }
            std::this_thread::sleep_for(5ms);
        }
        std::this_thread::sleep_for(200ms);
        channel.dispatch(SPICE_MSG_PLAYBACK_STOP, {});
        const auto samples = recorder.take();
        const auto left = channelOf(samples, 2, 0);
        const auto [begin, end] = activeRange(left, 4000);
        QVERIFY(end - begin > 48000);
        const std::span<const double> active(left.data() + begin + 4800, end - begin - 4800);
        const double frequency = zeroCrossingFrequency(active, 48000);
        const auto latency = channel.audioLatencyMs();
        qInfo("channel: %llu packets, %llu frames decoded, bad %llu; sink: %.3f Hz, rms %.0f, longest quiet "
              "%zu",
              (unsigned long long)channel.playbackStats().packets,
              (unsigned long long)channel.playbackStats().framesDecoded,
              (unsigned long long)channel.stats().badMessages, frequency, rms(active),
              longestQuietRun(active, 8000 * 0.02));
        QCOMPARE(channel.stats().badMessages, quint64(0));
        QCOMPARE(channel.playbackStats().framesDecoded, quint64(200 * 480));
        QVERIFY(std::abs(frequency - 440) <= 2);
        QVERIFY(longestQuietRun(active, 8000 * 0.02) < 960);
        Q_UNUSED(latency);
    }

    // START opens the microphone (here: test-source, fed a 1 kHz tone), DATA goes out every
    // 10 ms, STOP closes it.
    void recordCapturesWhileStarted() {
        if (!m_daemonUp) {
            QSKIP(qPrintable("no PipeWire daemon: " + m_daemon.error()));
        }
        const SessionOptions options;
        RecordChannel channel(options, 0);
        AudioCaptureOptions audio;
        audio.target = "test-source";
        channel.setAudioOptions(audio);
        channel.dispatch(SPICE_MSG_RECORD_VOLUME, volumeBody({65535, 65535}));
        channel.dispatch(SPICE_MSG_RECORD_START, recordStartBody(2, SPICE_AUDIO_FMT_S16, 48000));
        QVERIFY(channel.recording());
        QCOMPARE(channel.mode(), uint16_t(SPICE_AUDIO_DATA_MODE_RAW)); // server caps unknown: raw
        QTest::qWait(1500);
        const auto stats = channel.recordStats();
        qInfo("record: %llu packets, %llu frames in 1.5 s, dropped %llu",
              (unsigned long long)stats.packetsSent, (unsigned long long)stats.framesSent,
              (unsigned long long)stats.framesDropped);
        QVERIFY(stats.packetsSent >= 100);
        QCOMPARE(stats.framesSent, stats.packetsSent * 480);
        channel.dispatch(SPICE_MSG_RECORD_STOP, {});
        QVERIFY(!channel.recording());
        QCOMPARE(channel.stats().badMessages, quint64(0));
    }

    void cleanupTestCase() { m_daemon.stop(); }

private:
    PipeWireDaemon m_daemon;
    bool m_daemonUp = false;
};

QTEST_GUILESS_MAIN(TestAudioChannels)
#include "test_audio_channels.moc"
