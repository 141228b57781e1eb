// The parts of saffron_media's audio that need no daemon: ring buffer, drift controller (in a
// simulated clock), Opus round trip and hostile packets, format validation.

#include "AudioAnalysis.h"
#include "audio/AudioFormat.h"
#include "audio/AudioRingBuffer.h"
#include "audio/DriftController.h"
#include "audio/OpusCodec.h"

#include <QTest>
#include <thread>

using namespace saffron;
using namespace saffron::test;

class TestAudioUnits : public QObject {
    Q_OBJECT

private slots:
    void formatValidation() {
        QVERIFY((AudioFormat{48000, 2}.validate().empty()));
        QVERIFY((AudioFormat{44100, 1}.validate().empty()));
        QVERIFY(!(AudioFormat{0, 2}.validate().empty()));
        QVERIFY(!(AudioFormat{4'000'000'000u, 2}.validate().empty()));
        QVERIFY(!(AudioFormat{48000, 0}.validate().empty()));
        QVERIFY(!(AudioFormat{48000, 9}.validate().empty()));
        QCOMPARE(spiceVolumeToGain(0), 0.0f);
        QCOMPARE(spiceVolumeToGain(65535), 1.0f);
    }

    void ringKeepsWholeFramesAndBounds() {
        AudioRingBuffer ring(4, 2);
        const int16_t in[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};
        QCOMPARE(ring.write(in), size_t(4)); // 5 frames + a half, room for 4
        QCOMPARE(ring.fillFrames(), size_t(4));
        int16_t out[6] = {};
        QCOMPARE(ring.read(out), size_t(3));
        QCOMPARE(out[0], int16_t(1));
        QCOMPARE(out[5], int16_t(6));
        const int16_t more[] = {20, 21, 22, 23};
        QCOMPARE(ring.write(more), size_t(2)); // wraps round
        QCOMPARE(ring.read(out), size_t(3));
        QCOMPARE(out[0], int16_t(7));
        QCOMPARE(out[2], int16_t(20));
        QCOMPARE(out[5], int16_t(23));
        QCOMPARE(ring.discard(10), size_t(0));
    }

    // One producer, one consumer thread: every frame arrives once, in order.
    void ringAcrossThreads() {
        AudioRingBuffer ring(256, 2);
        constexpr int kFrames = 200'000;
        std::thread producer([&] {
            int next = 0;
            std::vector<int16_t> chunk;
            while (next < kFrames) {
                chunk.clear();
                for (int i = 0; i < 37 && next + i < kFrames; ++i) {
                    chunk.push_back(int16_t(next + i));
                    chunk.push_back(int16_t(~(next + i)));
                }
                next += int(ring.write(chunk));
            }
        });
        int expected = 0;
        bool ordered = true;
        std::vector<int16_t> out(2 * 53);
        while (expected < kFrames) {
            const size_t got = ring.read(out);
            for (size_t i = 0; i < got; ++i) {
                ordered = ordered && out[2 * i] == int16_t(expected) && out[2 * i + 1] == int16_t(~expected);
                ++expected;
            }
        }
        producer.join();
        QVERIFY(ordered);
    }

    // Simulated clocks: a producer 0.5 % fast, a consumer draining 10 ms quanta scaled by the
    // controller's ratio. The fill must converge into target +/- 30 ms and the ratio to ~1.005.
    void driftControllerConverges_data() {
        QTest::addColumn<double>("drift");
        QTest::newRow("+0.5%") << 0.005;
        QTest::newRow("-0.5%") << -0.005;
        QTest::newRow("+0.9%") << 0.009;
    }
    void driftControllerConverges() {
        QFETCH(double, drift);
        DriftController controller;
        const double target = controller.params().targetSeconds;
        double fill = target;
        const double quantum = 0.010;
        double minFill = 1;
        double maxFill = 0;
        double ratioSum = 0;
        int ratioCount = 0;
        for (int cycle = 0; cycle < 100 * 300; ++cycle) { // five simulated minutes
            fill += quantum * (1.0 + drift);              // the server's 10 ms chunks
            const double ratio = controller.ratio();
            fill -= quantum * ratio; // the sink drains one quantum of its time, `ratio` of ours
            controller.update(fill, quantum);
            if (cycle > 100 * 20) {
                minFill = std::min(minFill, fill);
                maxFill = std::max(maxFill, fill);
            }
            if (cycle >= 100 * 100) { // the last 200 s
                ratioSum += ratio;
                ++ratioCount;
            }
        }
        // Inside the dead band only the integral acts, so the ratio wanders slowly round the
        // true offset: compare its mean over the last 200 s.
        const double meanRatio = ratioSum / ratioCount;
        qInfo("drift %+.3f: fill %.1f..%.1f ms after 20 s, mean ratio over the last 200 s %.5f", drift,
              minFill * 1000, maxFill * 1000, meanRatio);
        QVERIFY(minFill > target - 0.030 && maxFill < target + 0.030);
        QVERIFY(std::abs(meanRatio - (1.0 + drift)) < 0.0005);
    }

    // A stall burst on top of a learnt +0.5 % offset: the session thread hiccups and 70 ms pile
    // up at once (below AudioPlayback's skip threshold, so the controller drains it). The drain
    // runs at the most the 1 % limit allows; once back on target the fill must not swing far
    // below it (an integral that had soaked up the burst would pin the ratio on and run the
    // queue towards empty).
    void driftControllerRecoversFromABurst() {
        DriftController controller;
        const double target = controller.params().targetSeconds;
        const double drift = 0.005;
        const double quantum = 0.010;
        double fill = target;
        auto cycle = [&] {
            fill += quantum * (1.0 + drift);
            fill -= quantum * controller.ratio();
            controller.update(fill, quantum);
        };
        for (int i = 0; i < 100 * 120; ++i) // two minutes: the offset is learnt
            cycle();
        fill += 0.070;
        double minFill = 1;
        int backInBandAt = -1;
        for (int i = 0; i < 100 * 60; ++i) {
            cycle();
            minFill = std::min(minFill, fill);
            if (backInBandAt < 0 && fill < target + 0.030)
                backInBandAt = i;
        }
        qInfo("burst of 70 ms: back within target + 30 ms after %.1f s, lowest fill afterwards %.1f ms "
              "(target %.0f ms), fill at the end %.1f ms",
              backInBandAt / 100.0, minFill * 1000, target * 1000, fill * 1000);
        QVERIFY(backInBandAt >= 0 && backInBandAt < 100 * 20);
        // A wound-up integral swung 20 ms below target here; without windup a PI of this
        // slowness still dips a little (its integral relearns on the way down).
        QVERIFY(minFill > target - 0.015);
        QVERIFY(std::abs(fill - target) < 0.030);
    }

    void driftControllerIsClamped() {
        DriftController controller;
        for (int i = 0; i < 10000; ++i) {
            controller.update(5.0, 0.01); // absurdly full
        }
        QVERIFY(controller.ratio() <= 1.0 + controller.params().maxCorrection + 1e-12);
        controller.update(std::nan(""), 0.01);
        QVERIFY(std::isfinite(controller.ratio()));
    }

    void opusRoundTrip_data() {
        QTest::addColumn<int>("frameMs");
        QTest::newRow("10 ms") << 10;
        QTest::newRow("20 ms") << 20;
    }
    void opusRoundTrip() {
        QFETCH(int, frameMs);
        const AudioFormat format{48000, 2};
        std::string error;
        auto encoder =
            OpusPacketEncoder::create(format, OpusPacketEncoder::Application::Audio, 128000, error);
        QVERIFY2(encoder, error.c_str());
        auto decoder = OpusPacketDecoder::create(format, error);
        QVERIFY2(decoder, error.c_str());
        const size_t frameFrames = format.framesFor(uint32_t(frameMs));
        double phase = 0;
        std::vector<int16_t> decodedAll;
        size_t bytes = 0;
        for (int i = 0; i < 1000 / frameMs; ++i) { // one second
            std::vector<int16_t> pcm;
            appendSine(pcm, frameFrames, 2, 1000, 48000, 10000, phase);
            std::vector<uint8_t> packet;
            QVERIFY2(encoder->encode(pcm, packet, error), error.c_str());
            bytes += packet.size();
            std::vector<int16_t> decoded;
            QVERIFY2(decoder->decode(packet, decoded, error), error.c_str());
            QCOMPARE(decoded.size(), pcm.size());
            decodedAll.insert(decodedAll.end(), decoded.begin(), decoded.end());
        }
        // Skip the codec's start-up (look-ahead) before measuring.
        const auto left = channelOf(decodedAll, 2, 0);
        const std::span<const double> steady(left.data() + 2400, left.size() - 2400);
        const double frequency = zeroCrossingFrequency(steady, 48000);
        const double level = rms(steady);
        qInfo("%d ms frames: %zu bytes/s, decoded %.3f Hz, rms %.0f (in %.0f)", frameMs, bytes, frequency,
              level, 10000 / std::sqrt(2.0));
        QVERIFY(std::abs(frequency - 1000) <= 2);
        QVERIFY(std::abs(level - 10000 / std::sqrt(2.0)) < 10000 * 0.1);
    }

    void opusRejectsBadInput() {
        const AudioFormat format{48000, 2};
        std::string error;
        QVERIFY(!OpusPacketDecoder::create({44100, 2}, error));
        QVERIFY(!OpusPacketDecoder::create({48000, 3}, error));
        auto decoder = OpusPacketDecoder::create(format, error);
        QVERIFY(decoder);
        std::vector<int16_t> out;
        QVERIFY(!decoder->decode(std::span<const uint8_t>(), out, error));
        qInfo() << "empty:" << error.c_str();
        const std::vector<uint8_t> huge(OpusPacketDecoder::kMaxPacketBytes + 1, 0);
        QVERIFY(!decoder->decode(huge, out, error));
        // TOC code 3 (arbitrary frame count) with a frame count byte of 0: invalid.
        const std::vector<uint8_t> badCount = {0x03, 0x00};
        QVERIFY(!decoder->decode(badCount, out, error));
        qInfo() << "bad count:" << error.c_str();
        // A valid 20 ms packet into a 10 ms output: refused before decoding.
        auto encoder = OpusPacketEncoder::create(format, OpusPacketEncoder::Application::Voip, 0, error);
        QVERIFY(encoder);
        std::vector<int16_t> pcm(960 * 2, 0);
        std::vector<uint8_t> packet;
        QVERIFY(encoder->encode(pcm, packet, error));
        std::vector<int16_t> small(480 * 2);
        QCOMPARE(decoder->decode(packet, std::span<int16_t>(small), error), -1);
        qInfo() << "too small:" << error.c_str();
        // Encoder: not an Opus frame size.
        std::vector<int16_t> odd(700 * 2, 0);
        QVERIFY(!encoder->encode(odd, packet, error));
        QVERIFY(OpusPacketEncoder::isValidFrameSize(format, 120));  // 2.5 ms
        QVERIFY(OpusPacketEncoder::isValidFrameSize(format, 2880)); // 60 ms
        QVERIFY(!OpusPacketEncoder::isValidFrameSize(format, 500));
    }
};

QTEST_GUILESS_MAIN(TestAudioUnits)
#include "test_audio_units.moc"
