// Unit tests of saffron_media's video path: decoder selection (with a fake element registry that
// pretends hardware decoders exist, fail or are absent), real decoding with the software decoders
// installed here, CPU colour conversion, hostile input, reset/reuse, mid-stream fallback, the
// decoder pool and the bounded queue.

#include "MediaTestSupport.h"
#include "video/AccessUnit.h"
#include "video/DecodedFrameNative.h"
#include "video/DecoderOverrides.h"
#include "video/DecoderProbe.h"
#include "video/DecoderSelector.h"
#include "video/ProbeCache.h"
#include "video/SampleStreams.h"
#include "video/VideoDecoderPool.h"

#include <QFile>
#include <QTemporaryDir>
#include <QTest>
#include <future>
#include <random>

using namespace saffron;
using namespace saffron::test;
using namespace std::chrono_literals;

Q_DECLARE_METATYPE(saffron::VideoCodec)

namespace {

std::shared_ptr<DecoderSelector> selectorWith(std::shared_ptr<FakeRegistry> registry,
                                              DecoderOverrides overrides = {}) {
    DecoderSelector::Options options;
    options.overrides = std::move(overrides);
    return std::make_shared<DecoderSelector>(std::move(registry), options);
}

std::shared_ptr<DecoderSelector> realSelector() {
    return std::make_shared<DecoderSelector>(std::make_shared<GstElementFactoryRegistry>(),
                                             DecoderSelector::Options{});
}

std::vector<Bytes> sampleClip(VideoCodec codec) {
    std::vector<Bytes> out;
    for (auto frame : sampleFrames(codec)) {
        out.emplace_back(frame.begin(), frame.end());
    }
    return out;
}

const CandidateStatus* findCandidate(const std::vector<CandidateStatus>& list, const std::string& element) {
    for (const auto& c : list) {
        if (c.candidate.element == element) {
            return &c;
        }
    }
    return nullptr;
}

// 75% SMPTE bars as videotestsrc draws them (pattern=smpte75), left to right.
const Rgb kBars[7] = {{191, 191, 191}, {191, 191, 0}, {0, 191, 191}, {0, 191, 0},
                      {191, 0, 191},   {191, 0, 0},   {0, 0, 191}};

// Checks the middle of each bar of a converted frame of `width` x `height` pixels.
bool barsMatch(const std::vector<uint32_t>& pixels, int width, int height, int stride, QString* why) {
    for (int i = 0; i < 7; ++i) {
        const int x = (2 * i + 1) * width / 14;
        const int y = height / 2;
        const Rgb got = rgbOf(pixels[static_cast<size_t>(y) * stride + x]);
        if (!near(got, kBars[i], 24) || (pixels[static_cast<size_t>(y) * stride + x] >> 24) != 0xff) {
            *why = QString("bar %1 at (%2,%3): got %4,%5,%6 alpha %7 want %8,%9,%10")
                       .arg(i)
                       .arg(x)
                       .arg(y)
                       .arg(got.r)
                       .arg(got.g)
                       .arg(got.b)
                       .arg(pixels[static_cast<size_t>(y) * stride + x] >> 24)
                       .arg(kBars[i].r)
                       .arg(kBars[i].g)
                       .arg(kBars[i].b);
            return false;
        }
    }
    return true;
}

// Minimal H.264 bit writer for hand-made parameter sets (exp-Golomb, RBSP trailing bits and
// emulation prevention), to build headers no encoder would produce.
class BitWriter {
public:
    void bits(uint32_t value, int count) {
        for (int i = count - 1; i >= 0; --i) {
            bit((value >> i) & 1);
        }
    }
    void ue(uint32_t value) {
        const uint32_t v = value + 1;
        int len = 0;
        while ((v >> len) > 1) {
            ++len;
        }
        bits(0, len);
        bits(v, len + 1);
    }
    void se(int32_t value) {
        ue(value <= 0 ? static_cast<uint32_t>(-2 * value) : static_cast<uint32_t>(2 * value - 1));
    }
    Bytes nal(uint8_t header) {
        bit(1); // rbsp_stop_one_bit
        while (m_count % 8) {
            bit(0);
        }
        Bytes out = {0, 0, 0, 1, header};
        int zeros = 0;
        for (uint8_t b : m_bytes) {
            if (zeros >= 2 && b <= 3) {
                out.push_back(3);
                zeros = 0;
            }
            out.push_back(b);
            zeros = b == 0 ? zeros + 1 : 0;
        }
        return out;
    }

private:
    void bit(uint32_t b) {
        if (m_count % 8 == 0) {
            m_bytes.push_back(0);
        }
        if (b) {
            m_bytes.back() |= static_cast<uint8_t>(0x80 >> (m_count % 8));
        }
        ++m_count;
    }
    Bytes m_bytes;
    int m_count = 0;
};

// A baseline-profile access unit whose SPS declares widthMbs x heightMbs macroblocks.
Bytes h264WithSize(uint32_t widthMbs, uint32_t heightMbs) {
    BitWriter sps;
    sps.bits(66, 8); // profile_idc baseline
    sps.bits(0, 8);  // constraint flags
    sps.bits(51, 8); // level 5.1
    sps.ue(0);       // seq_parameter_set_id
    sps.ue(0);       // log2_max_frame_num_minus4
    sps.ue(2);       // pic_order_cnt_type
    sps.ue(1);       // max_num_ref_frames
    sps.bits(0, 1);  // gaps_in_frame_num_value_allowed_flag
    sps.ue(widthMbs - 1);
    sps.ue(heightMbs - 1);
    sps.bits(1, 1); // frame_mbs_only_flag
    sps.bits(1, 1); // direct_8x8_inference_flag
    sps.bits(0, 1); // frame_cropping_flag
    sps.bits(0, 1); // vui_parameters_present_flag
    BitWriter pps;
    pps.ue(0);      // pic_parameter_set_id
    pps.ue(0);      // seq_parameter_set_id
    pps.bits(0, 1); // entropy_coding_mode_flag
    pps.bits(0, 1); // bottom_field_pic_order_in_frame_present_flag
    pps.ue(0);      // num_slice_groups_minus1
    pps.ue(0);      // num_ref_idx_l0_default_active_minus1
    pps.ue(0);      // num_ref_idx_l1_default_active_minus1
    pps.bits(0, 1); // weighted_pred_flag
    pps.bits(0, 2); // weighted_bipred_idc
    pps.se(0);      // pic_init_qp_minus26
    pps.se(0);      // pic_init_qs_minus26
    pps.se(0);      // chroma_qp_index_offset
    pps.bits(1, 1); // deblocking_filter_control_present_flag
    pps.bits(0, 1); // constrained_intra_pred_flag
    pps.bits(0, 1); // redundant_pic_cnt_present_flag
    BitWriter slice;
    slice.ue(0);      // first_mb_in_slice
    slice.ue(7);      // slice_type I (all slices)
    slice.ue(0);      // pic_parameter_set_id
    slice.bits(0, 4); // frame_num
    slice.ue(0);      // idr_pic_id
    slice.se(0);      // slice_qp_delta... followed by nothing useful
    for (int i = 0; i < 64; ++i) {
        slice.bits(0xa5, 8);
    }
    Bytes au = sps.nal(0x67);
    const Bytes p = pps.nal(0x68);
    const Bytes s = slice.nal(0x65);
    au.insert(au.end(), p.begin(), p.end());
    au.insert(au.end(), s.begin(), s.end());
    return au;
}

} // namespace

class TestMedia : public QObject {
    Q_OBJECT

private slots:
    void initTestCase();
    void probeCacheRoundTrip();

    void codecNames();
    void overridesParse();
    void overridesEnvironmentWins();
    void accessUnitInspection();
    void accessUnitChromaFormat();

    void selectionHardwarePresentAndWorking();
    void selectionAbsentIsSkipped();
    void selectionFailingProbeIsSkippedWithReason();
    void selectionForcedByConfig();
    void selectionForcedByEnvironment();
    void selectionForcedButBrokenFallsBack();
    void selectionProbesAreCached();
    void selectionSettledSupportNeverProbes();
    void selectionSettledSupportDoesNotWaitForARunningProbe();
    void selectionRealSoftware();
    void preferenceOrder();
    void selectionByChromaFormat();

    void decodeSoftware_data();
    void decodeSoftware();
    void solidColourConversion_data();
    void solidColourConversion();
    void scaledConversionAndBounds();
    void simdConversionMatchesGStreamer_data();
    void simdConversionMatchesGStreamer();
    void reversedRowOrder_data();
    void reversedRowOrder();
    void turnRowsOver();

    void corruptRandomBytes_data();
    void corruptRandomBytes();
    void corruptTruncatedFrames_data();
    void corruptTruncatedFrames();
    void absurdH264Size();
    void absurdJpegSize();
    void absurdVp8Size();

    void resetAndReuseWithNewSize();
    void resumeAtIntraRefreshRecoveryPoint();
    void fallbackToNextCandidateAfterError();
    void decoderFollowsStreamChromaFormat();
    void demotionAfterRepeatedStreamErrors();
    void boundedQueueNeverBlocks();
    void drainDeliversEverything();
    void poolReusesDecoders();

private:
    bool haveEncoder(VideoCodec codec) { return haveElement(encoderElement(codec)); }
};

void TestMedia::initTestCase() {
    // The tests choose their overrides themselves; a developer's setting must not leak in.
    qunsetenv(kDecoderOverrideEnv);
    QVERIFY(ensureGstInitialized());
    qRegisterMetaType<VideoCodec>();
}

void TestMedia::codecNames() {
    for (VideoCodec codec : kAllVideoCodecs) {
        QCOMPARE(videoCodecFromName(videoCodecName(codec)), std::optional<VideoCodec>(codec));
    }
    QCOMPARE(videoCodecName(VideoCodec::H264), std::string_view("h264"));
    QCOMPARE(videoCodecName(VideoCodec::Mjpeg), std::string_view("mjpeg"));
    QCOMPARE(videoCodecFromName("HEVC"), std::optional<VideoCodec>(VideoCodec::H265));
    QVERIFY(!videoCodecFromName("av1"));
}

void TestMedia::overridesParse() {
    std::vector<std::string> problems;
    const auto o = DecoderOverrides::parse(
        " h264=avdec_h264 , vp8 = vp8dec,bogus,av1=dav1ddec,h265=bad name,,mjpeg=", &problems);
    QCOMPARE(o.forced.size(), size_t(2));
    QCOMPARE(o.forced.at(VideoCodec::H264), std::string("avdec_h264"));
    QCOMPARE(o.forced.at(VideoCodec::Vp8), std::string("vp8dec"));
    QCOMPARE(problems.size(), size_t(4)); // bogus, av1, "bad name", empty element
    QVERIFY(DecoderOverrides::parse("").forced.empty());
    // Pipeline syntax is refused: overrides name one element, they never build pipelines.
    QVERIFY(DecoderOverrides::parse("h264=avdec_h264 ! fakesink").forced.empty());
}

void TestMedia::overridesEnvironmentWins() {
    const auto config = DecoderOverrides::parse("h264=vah264dec,vp9=vp9dec");
    const auto env = DecoderOverrides::parse("h264=avdec_h264");
    const auto merged = DecoderOverrides::merge(config, env);
    QCOMPARE(merged.forced.at(VideoCodec::H264), std::string("avdec_h264"));
    QCOMPARE(merged.forced.at(VideoCodec::Vp9), std::string("vp9dec"));

    qputenv(kDecoderOverrideEnv, "h264=avdec_h264");
    const auto fromBoth = DecoderOverrides::fromConfigAndEnvironment("h264=vah264dec,vp8=avdec_vp8");
    qunsetenv(kDecoderOverrideEnv);
    QCOMPARE(fromBoth.forced.at(VideoCodec::H264), std::string("avdec_h264"));
    QCOMPARE(fromBoth.forced.at(VideoCodec::Vp8), std::string("avdec_vp8"));
}

void TestMedia::accessUnitInspection() {
    auto h264 = sampleClip(VideoCodec::H264);
    QCOMPARE(h264.size(), size_t(2));
    auto info = inspectAccessUnit(VideoCodec::H264, h264[0]);
    QVERIFY(info.plausible);
    QVERIFY(info.randomAccess);
    QVERIFY(info.hasParameterSets);
    info = inspectAccessUnit(VideoCodec::H264, h264[1]);
    QVERIFY(info.plausible);
    QVERIFY(!info.randomAccess);

    auto vp8 = sampleClip(VideoCodec::Vp8);
    info = inspectAccessUnit(VideoCodec::Vp8, vp8[0]);
    QVERIFY(info.plausible && info.randomAccess);
    QCOMPARE(info.width, kSampleWidth);
    QCOMPARE(info.height, kSampleHeight);
    QVERIFY(!inspectAccessUnit(VideoCodec::Vp8, vp8[1]).randomAccess);

    auto vp9 = sampleClip(VideoCodec::Vp9);
    QVERIFY(inspectAccessUnit(VideoCodec::Vp9, vp9[0]).randomAccess);
    QVERIFY(!inspectAccessUnit(VideoCodec::Vp9, vp9[1]).randomAccess);
    QVERIFY(inspectAccessUnit(VideoCodec::Vp9, vp9[1]).plausible);

    auto jpeg = sampleClip(VideoCodec::Mjpeg);
    QVERIFY(inspectAccessUnit(VideoCodec::Mjpeg, jpeg[0]).randomAccess);

    auto h265 = sampleClip(VideoCodec::H265);
    if (!h265.empty()) {
        QVERIFY(inspectAccessUnit(VideoCodec::H265, h265[0]).randomAccess);
        QVERIFY(!inspectAccessUnit(VideoCodec::H265, h265[1]).randomAccess);
    }

    // Intra refresh (spice-server's x264enc setting): no IDR after the first frame, recovery
    // point SEIs instead, which must count as random access points.
    const auto refresh =
        encodeClip(encoderFor(VideoCodec::H264, "intra-refresh=true key-int-max=10"), 64, 64, 25);
    if (!refresh.empty()) {
        int rap = 0;
        for (size_t i = 1; i < refresh.size(); ++i) {
            rap += inspectAccessUnit(VideoCodec::H264, refresh[i]).randomAccess ? 1 : 0;
        }
        QVERIFY2(rap >= 1, "no recovery point recognised in an intra-refresh stream");
    }

    const Bytes garbage = {0x12, 0x34, 0x56, 0x78, 0x9a};
    for (VideoCodec codec : kAllVideoCodecs) {
        if (codec == VideoCodec::Vp8) {
            continue; // almost any 3 bytes make a plausible VP8 inter-frame tag; key frames below
        }
        QVERIFY2(!inspectAccessUnit(codec, garbage).plausible, videoCodecName(codec).data());
        QVERIFY(!inspectAccessUnit(codec, {}).plausible);
        QVERIFY(!inspectAccessUnit(codec, {}).problem.empty());
    }
    const Bytes vp8BadKey = {0x10, 0x02, 0x00, 0x9d, 0x01, 0x2b, 0, 0, 0, 0};
    QVERIFY(!inspectAccessUnit(VideoCodec::Vp8, vp8BadKey).plausible);
    const Bytes onlyStartCode = {0, 0, 0, 1};
    QVERIFY(!inspectAccessUnit(VideoCodec::H264, onlyStartCode).plausible);
}

void TestMedia::accessUnitChromaFormat() {
    // Key frames (with their parameter sets) declare the format; inter frames say nothing.
    for (VideoCodec codec : {VideoCodec::H264, VideoCodec::H265, VideoCodec::Vp9}) {
        const char* name = videoCodecName(codec).data();
        QVERIFY2(inspectAccessUnit(codec, sampleFrames(codec)[0]).chroma == ChromaFormat::Yuv420, name);
        QVERIFY2(inspectAccessUnit(codec, sampleFrames444(codec)[0]).chroma == ChromaFormat::Yuv444, name);
        QVERIFY2(inspectAccessUnit(codec, sampleFrames(codec)[1]).chroma == ChromaFormat::Unknown, name);
        QVERIFY2(inspectAccessUnit(codec, sampleFrames444(codec)[1]).chroma == ChromaFormat::Unknown, name);
    }
    QVERIFY(inspectAccessUnit(VideoCodec::Vp8, sampleFrames(VideoCodec::Vp8)[0]).chroma ==
            ChromaFormat::Unknown);
    QVERIFY(inspectAccessUnit(VideoCodec::Mjpeg, sampleFrames(VideoCodec::Mjpeg)[0]).chroma ==
            ChromaFormat::Unknown);

    // High profile SPS whose level_idc 0 puts 00 00 before the exp-Golomb fields: the encoder
    // inserted an emulation prevention byte (03) that must not be read as data. RBSP after the
    // header: 64 00 00 | 01 80 40 = sps id 191, chroma_format_idc 3.
    const Bytes emulation = {0, 0, 0, 1, 0x67, 0x64, 0x00, 0x00, 0x03, 0x01, 0x80, 0x40};
    QVERIFY(inspectAccessUnit(VideoCodec::H264, emulation).chroma == ChromaFormat::Yuv444);
    // Baseline (66) codes no chroma_format_idc: 4:2:0 by definition.
    const Bytes baseline = {0, 0, 0, 1, 0x67, 0x42, 0x00, 0x1e, 0xab};
    QVERIFY(inspectAccessUnit(VideoCodec::H264, baseline).chroma == ChromaFormat::Yuv420);
    // Cut short, or a ue(v) of 32 leading zeros: undecided, still a plausible unit.
    const Bytes truncated = {0, 0, 0, 1, 0x67, 0x64, 0x00};
    QVERIFY(inspectAccessUnit(VideoCodec::H264, truncated).chroma == ChromaFormat::Unknown);
    QVERIFY(inspectAccessUnit(VideoCodec::H264, truncated).plausible);
    const Bytes zeros = {0, 0, 0, 1, 0x67, 0x64, 0x10, 0x1e, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80};
    QVERIFY(inspectAccessUnit(VideoCodec::H264, zeros).chroma == ChromaFormat::Unknown);
    const Bytes h265Short = {0, 0, 0, 1, 0x42, 0x01, 0x01};
    QVERIFY(inspectAccessUnit(VideoCodec::H265, h265Short).chroma == ChromaFormat::Unknown);
    // A VP9 profile 1 key frame cut before its colour config.
    const Bytes vp9Short = {0xa2, 0x49, 0x83};
    QVERIFY(inspectAccessUnit(VideoCodec::Vp9, vp9Short).chroma == ChromaFormat::Unknown);
}

void TestMedia::selectionHardwarePresentAndWorking() {
    auto registry = std::make_shared<FakeRegistry>();
    registry->alias("vah264dec", "avdec_h264");
    auto selector = selectorWith(registry);
    const auto support = selector->support(VideoCodec::H264);
    QVERIFY(support.decodable);
    QVERIFY(support.hardware);
    QCOMPARE(support.element, std::string("vah264dec"));
    QCOMPARE(support.summary, std::string("h264: vah264dec probe ok (hardware)"));
}

void TestMedia::selectionAbsentIsSkipped() {
    auto registry = std::make_shared<FakeRegistry>();
    auto selector = selectorWith(registry);
    const auto support = selector->support(VideoCodec::H264);
    QVERIFY(support.decodable);
    QVERIFY(!support.hardware);
    QCOMPARE(support.element, std::string("avdec_h264"));
    QCOMPARE(support.summary,
             std::string("h264: vah264dec absent, vaapih264dec absent, nvh264dec absent, "
                         "v4l2slh264dec absent, v4l2h264dec absent, avdec_h264 probe ok (software)"));
    const auto list = selector->candidates(VideoCodec::H264);
    QCOMPARE(findCandidate(list, "nvh264dec")->state, CandidateState::Absent);
    QCOMPARE(findCandidate(list, "avdec_h264")->state, CandidateState::Working);

    // MJPEG's hardware names differ from the <codec>dec pattern.
    const auto mjpeg = selector->support(VideoCodec::Mjpeg);
    QVERIFY2(mjpeg.summary.find("vajpegdec absent") != std::string::npos, mjpeg.summary.c_str());
    QVERIFY2(mjpeg.summary.find("nvjpegdec absent") != std::string::npos, mjpeg.summary.c_str());
    QVERIFY2(mjpeg.summary.find("v4l2jpegdec absent") != std::string::npos, mjpeg.summary.c_str());
}

void TestMedia::selectionFailingProbeIsSkippedWithReason() {
    auto registry = std::make_shared<FakeRegistry>();
    // Present but errors on the first buffer (think: driver refuses the profile).
    registry->bin("vah264dec", "identity error-after=1 ! avdec_h264");
    // Present, decodes, but gives pictures of the wrong size.
    registry->bin("vaapih264dec", "avdec_h264 ! videoscale ! capsfilter caps=video/x-raw,width=88,height=72");
    // Present but cannot take H.264 at all (links to nothing useful).
    registry->alias("nvh264dec", "vp8dec");
    auto selector = selectorWith(registry);
    const auto support = selector->support(VideoCodec::H264);
    QCOMPARE(support.element, std::string("avdec_h264"));
    QVERIFY(!support.hardware);

    const auto list = selector->candidates(VideoCodec::H264);
    const auto* va = findCandidate(list, "vah264dec");
    QCOMPARE(va->state, CandidateState::Failed);
    QVERIFY2(va->detail.find("error") != std::string::npos, va->detail.c_str());
    const auto* vaapi = findCandidate(list, "vaapih264dec");
    QCOMPARE(vaapi->state, CandidateState::Failed);
    QVERIFY2(vaapi->detail.find("wrong picture size 88x72") != std::string::npos, vaapi->detail.c_str());
    const auto* nv = findCandidate(list, "nvh264dec");
    QCOMPARE(nv->state, CandidateState::Failed);
    QVERIFY(!nv->detail.empty());
    QVERIFY2(support.summary.find("vah264dec probe failed") != std::string::npos, support.summary.c_str());
    QVERIFY2(support.summary.find("avdec_h264 probe ok (software)") != std::string::npos,
             support.summary.c_str());
}

void TestMedia::probeCacheRoundTrip() {
    if (ProbeCache::environmentKey().isEmpty())
        QSKIP("no GStreamer registry file to key the cache on");
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("probes"));
    {
        ProbeCache cache(path);
        QVERIFY(!cache.find(VideoCodec::H264, "avdec_h264"));
        cache.store(VideoCodec::H264, "avdec_h264", {true, "ok"});
        cache.store(VideoCodec::Vp8, "vp8dec", {false, "error: a\tb\nc"});
    }
    ProbeCache again(path);
    const auto h264 = again.find(VideoCodec::H264, "avdec_h264");
    QVERIFY(h264 && h264->ok);
    const auto vp8 = again.find(VideoCodec::Vp8, "vp8dec");
    QVERIFY(vp8 && !vp8->ok);
    QCOMPARE(vp8->detail, std::string("error: a b c"));
    QVERIFY(!again.find(VideoCodec::Vp8, "avdec_h264"));
    // Results made under another GStreamer/registry/GPU setup are not trusted.
    QFile f(path);
    QVERIFY(f.open(QIODevice::ReadOnly));
    QByteArray text = f.readAll();
    f.close();
    text.replace(0, text.indexOf('\n'), "gst=0.0.0.0 registry=1:1 gpu=");
    QVERIFY(f.open(QIODevice::WriteOnly | QIODevice::Truncate));
    f.write(text);
    f.close();
    QVERIFY(!ProbeCache(path).find(VideoCodec::H264, "avdec_h264"));
}

void TestMedia::selectionForcedByConfig() {
    auto registry = std::make_shared<FakeRegistry>();
    registry->alias("vah264dec", "avdec_h264");
    auto selector = selectorWith(registry, DecoderOverrides::parse("h264=avdec_h264"));
    const auto support = selector->support(VideoCodec::H264);
    QCOMPARE(support.element, std::string("avdec_h264"));
    QVERIFY(!support.hardware);
    QCOMPARE(support.summary, std::string("h264: forced avdec_h264 probe ok (software)"));
    // A forced element outside the built-in tables is fine too.
    auto other = selectorWith(registry, DecoderOverrides::parse("vp8=avdec_vp8"));
    QCOMPARE(other->support(VideoCodec::Vp8).element, std::string("avdec_vp8"));
}

void TestMedia::selectionForcedByEnvironment() {
    auto registry = std::make_shared<FakeRegistry>();
    qputenv(kDecoderOverrideEnv, "vp9=avdec_vp9");
    auto selector = selectorWith(registry, DecoderOverrides::fromConfigAndEnvironment("vp9=vp9dec"));
    qunsetenv(kDecoderOverrideEnv);
    const auto support = selector->support(VideoCodec::Vp9);
    QCOMPARE(support.element, std::string("avdec_vp9"));
    QVERIFY(findCandidate(selector->candidates(VideoCodec::Vp9), "avdec_vp9")->candidate.forced);
}

void TestMedia::selectionForcedButBrokenFallsBack() {
    auto registry = std::make_shared<FakeRegistry>();
    registry->bin("vah264dec", "identity error-after=1 ! avdec_h264");
    registry->alias("nvh264dec", "avdec_h264");
    auto selector = selectorWith(registry, DecoderOverrides::parse("h264=vah264dec,vp8=nosuchdec"));
    const auto support = selector->support(VideoCodec::H264);
    // Normal selection resumes: the next candidate in the table that works.
    QCOMPARE(support.element, std::string("nvh264dec"));
    QVERIFY(support.hardware);
    QVERIFY2(support.summary.rfind("h264: forced vah264dec probe failed", 0) == 0, support.summary.c_str());
    const auto vp8 = selector->support(VideoCodec::Vp8);
    QCOMPARE(vp8.element, std::string("vp8dec"));
    QVERIFY2(vp8.summary.rfind("vp8: forced nosuchdec absent", 0) == 0, vp8.summary.c_str());
}

void TestMedia::selectionSettledSupportNeverProbes() {
    auto registry = std::make_shared<FakeRegistry>();
    auto selector = selectorWith(registry);
    // Nothing probed yet: no answer, and no element was made to find one.
    QVERIFY(!selector->settledSupport(VideoCodec::Vp8));
    QCOMPARE(registry->makes(), 0);
    const CodecSupport probed = selector->support(VideoCodec::Vp8);
    const auto settled = selector->settledSupport(VideoCodec::Vp8);
    QVERIFY(settled);
    QCOMPARE(settled->element, probed.element);
    QCOMPARE(settled->decodable, probed.decodable);
}

void TestMedia::selectionSettledSupportDoesNotWaitForARunningProbe() {
    auto registry = std::make_shared<FakeRegistry>();
    // A "hardware" decoder whose probe takes seconds (identity sleeps per buffer).
    registry->bin("vah264dec", "identity sleep-time=2000000 ! avdec_h264");
    auto selector = selectorWith(registry);
    auto probing = std::async(std::launch::async, [selector] { return selector->support(VideoCodec::H264); });
    QVERIFY(QTest::qWaitFor([&] { return registry->makes() > 0; }, 10000));
    const auto settled = selector->settledSupport(VideoCodec::H264);
    // Either the probe is still running (no answer, and we did not wait for it) or it finished
    // in between on a very slow machine.
    QVERIFY(!settled || probing.wait_for(0s) == std::future_status::ready);
    QCOMPARE(probing.get().element, std::string("vah264dec"));
    QVERIFY(selector->settledSupport(VideoCodec::H264));
}

void TestMedia::selectionProbesAreCached() {
    auto registry = std::make_shared<FakeRegistry>();
    auto selector = selectorWith(registry);
    QVERIFY(selector->select(VideoCodec::Vp8));
    const int makes = registry->makes();
    QVERIFY(makes >= 1);
    for (int i = 0; i < 5; ++i) {
        QCOMPARE(selector->select(VideoCodec::Vp8)->element, std::string("vp8dec"));
        selector->support(VideoCodec::Vp8);
    }
    QCOMPARE(registry->makes(), makes);
}

void TestMedia::selectionRealSoftware() {
    // The real registry on this machine: every codec with a sample must be decodable by something.
    auto selector = realSelector();
    const auto all = selector->probeAll();
    QCOMPARE(all.size(), kAllVideoCodecs.size());
    for (const auto& s : all) {
        qInfo("%s", s.summary.c_str());
        if (!sampleFrames(s.codec).empty()) {
            QVERIFY2(s.decodable, s.summary.c_str());
        }
    }
    const auto order = DecoderSelector::preferenceOrder(all);
    QVERIFY(!order.empty());
}

void TestMedia::preferenceOrder() {
    auto make = [](VideoCodec c, bool decodable, bool hardware) {
        CodecSupport s;
        s.codec = c;
        s.decodable = decodable;
        s.hardware = hardware;
        return s;
    };
    std::vector<CodecSupport> support = {
        make(VideoCodec::Mjpeg, true, false), make(VideoCodec::Vp8, true, true),
        make(VideoCodec::Vp9, true, false), make(VideoCodec::H264, true, true),
        make(VideoCodec::H265, false, false)};
    auto order = DecoderSelector::preferenceOrder(support);
    // Hardware first (H.264 before VP8), then software by cost; H.265 undecodable, left out.
    QCOMPARE(order.size(), size_t(4));
    QCOMPARE(order[0], VideoCodec::H264);
    QCOMPARE(order[1], VideoCodec::Vp8);
    QVERIFY(std::find(order.begin(), order.end(), VideoCodec::H265) == order.end());
    // All software: the cost order.
    for (auto& s : support) {
        s.hardware = false;
        s.decodable = true;
    }
    order = DecoderSelector::preferenceOrder(support);
    QCOMPARE(order.size(), size_t(5));
    QVERIFY(std::equal(order.begin(), order.end(), DecoderSelector::kSoftwareCostOrder.begin()));

    // What an H200 gives: H.264, H.265 and VP9 in hardware, only H.265 also 4:4:4. With a
    // server that sends H.264 and VP9 as 4:4:4, those two rank as the software decoders they
    // will end on; H.265 (4:4:4 in hardware) stays first.
    support = {make(VideoCodec::Mjpeg, true, false), make(VideoCodec::Vp8, true, false),
               make(VideoCodec::Vp9, true, true), make(VideoCodec::H264, true, true),
               make(VideoCodec::H265, true, true)};
    support[4].decodes444 = true;
    const VideoCodec sent444[] = {VideoCodec::H264, VideoCodec::Vp9};
    order = DecoderSelector::preferenceOrder(support, sent444);
    const std::vector<VideoCodec> expected = {VideoCodec::H265, VideoCodec::H264, VideoCodec::Mjpeg,
                                              VideoCodec::Vp8, VideoCodec::Vp9};
    QVERIFY(order == expected);
    // Without that knowledge, 4:2:0 hardware is hardware.
    order = DecoderSelector::preferenceOrder(support);
    QCOMPARE(order[0], VideoCodec::H264);
    QCOMPARE(order[1], VideoCodec::H265);
    QCOMPARE(order[2], VideoCodec::Vp9);
}

void TestMedia::selectionByChromaFormat() {
    auto registry = std::make_shared<FakeRegistry>();
    // 4:2:0-only "hardware" that refuses High 4:4:4 at its sink caps, as nvh264dec does (seen on
    // an H200: not-negotiated, "Internal data stream error", on spice-server's 4:4:4 streams).
    registry->bin("vah264dec", "capsfilter caps=video/x-h264,chroma-format=4:2:0 ! avdec_h264");
    // 4:4:4-capable "hardware" for VP9.
    registry->alias("vavp9dec", "vp9dec");
    auto selector = selectorWith(registry);
    QCOMPARE(selector->select(VideoCodec::H264)->element, std::string("vah264dec"));
    QCOMPARE(selector->select(VideoCodec::H264, ChromaFormat::Yuv420)->element, std::string("vah264dec"));
    QCOMPARE(selector->select(VideoCodec::H264, ChromaFormat::Yuv444)->element, std::string("avdec_h264"));
    // No 4:2:2 probe: hardware is not trusted with it.
    QCOMPARE(selector->select(VideoCodec::H264, ChromaFormat::Yuv422)->element, std::string("avdec_h264"));
    QVERIFY(!selector->handles(VideoCodec::H264, "vah264dec", ChromaFormat::Yuv444));
    QVERIFY(selector->handles(VideoCodec::H264, "avdec_h264", ChromaFormat::Yuv444));
    const auto list = selector->candidates(VideoCodec::H264);
    const auto* va = findCandidate(list, "vah264dec");
    QCOMPARE(va->state, CandidateState::Working);
    QCOMPARE(va->state444, CandidateState::Failed);
    QVERIFY2(va->detail444.find("error") != std::string::npos, va->detail444.c_str());
    // Software decoders are not probed for 4:4:4.
    QCOMPARE(findCandidate(list, "avdec_h264")->state444, CandidateState::Untested);
    // After an error on the software decoder, a 4:4:4 stream has nowhere else to go.
    QVERIFY(!selector->next(VideoCodec::H264, "avdec_h264", ChromaFormat::Yuv444));

    QCOMPARE(selector->select(VideoCodec::Vp9, ChromaFormat::Yuv444)->element, std::string("vavp9dec"));
    QCOMPARE(findCandidate(selector->candidates(VideoCodec::Vp9), "vavp9dec")->state444,
             CandidateState::Working);
    // The 4:2:0 choice is unchanged by it: support() still reports the hardware decoder, and
    // says it is 4:2:0 only.
    const CodecSupport h264 = selector->support(VideoCodec::H264);
    QVERIFY(h264.hardware);
    QVERIFY(!h264.decodes444);
    QVERIFY2(h264.summary.find("vah264dec probe ok (hardware), 4:2:0 only") != std::string::npos,
             h264.summary.c_str());
    QVERIFY(selector->support(VideoCodec::Vp9).decodes444);
}

void TestMedia::decodeSoftware_data() {
    QTest::addColumn<VideoCodec>("codec");
    for (VideoCodec codec : kAllVideoCodecs) {
        QTest::newRow(videoCodecName(codec).data()) << codec;
    }
}

void TestMedia::decodeSoftware() {
    QFETCH(VideoCodec, codec);
    const auto clip = sampleClip(codec);
    if (clip.empty()) {
        QSKIP("no sample for this codec");
    }
    Collector collector;
    VideoDecoder decoder(codec, realSelector());
    decoder.setCallbacks(collector.callbacks());
    for (size_t i = 0; i < clip.size(); ++i) {
        const auto result = decoder.submit(clip[i], 100 + i);
        QVERIFY2(result == SubmitResult::Queued || result == SubmitResult::Backlogged,
                 submitResultName(result));
    }
    QVERIFY(decoder.drain(60s));
    QCOMPARE(collector.framesNow(), static_cast<int>(clip.size()));
    QCOMPARE(collector.errorsNow(), size_t(0));

    FrameConverter converter;
    for (size_t i = 0; i < collector.frames.size(); ++i) {
        const auto& frame = collector.frames[i];
        QCOMPARE(frame->tag(), uint64_t(100 + i));
        QCOMPARE(frame->width(), kSampleWidth);
        QCOMPARE(frame->height(), kSampleHeight);
        QVERIFY(frame->decodeNs() > 0);
        QVERIFY(!frame->decoder().empty());
        QVERIFY(frame->planeCount() >= 1);
        QVERIFY(frame->format() == PixelFormat::I420 || frame->format() == PixelFormat::Nv12 ||
                codec == VideoCodec::Mjpeg);
        // SD content without colour signalling (or signalled so by the encoder): BT.601, TV range.
        QCOMPARE(frame->colorimetry().matrix, ColorMatrix::Bt601);
        const FramePlane& y = frame->plane(0);
        QCOMPARE(y.width, kSampleWidth);
        QCOMPARE(y.height, kSampleHeight);
        QVERIFY(y.stride >= kSampleWidth);
        QVERIFY(y.data.size() >= static_cast<size_t>(y.stride) * (kSampleHeight - 1) + kSampleWidth);

        std::vector<uint32_t> pixels(static_cast<size_t>(kSampleWidth) * kSampleHeight);
        QVERIFY(converter.convert(*frame, pixels, kSampleWidth));
        QString why;
        QVERIFY2(barsMatch(pixels, kSampleWidth, kSampleHeight, kSampleWidth, &why), qPrintable(why));
    }
    const DecoderStats stats = decoder.stats();
    QCOMPARE(stats.submitted, uint64_t(clip.size()));
    QCOMPARE(stats.decoded, uint64_t(clip.size()));
    QCOMPARE(stats.dropped, uint64_t(0));
    QCOMPARE(stats.queueDepth, 0u);
    QVERIFY(stats.decodeNsMax >= stats.decodeNsTotal / stats.decoded);
}

void TestMedia::solidColourConversion_data() {
    QTest::addColumn<VideoCodec>("codec");
    for (VideoCodec codec : kAllVideoCodecs) {
        QTest::newRow(videoCodecName(codec).data()) << codec;
    }
}

void TestMedia::solidColourConversion() {
    // A colour far from grey and from the bars, at an HD size so the stream is BT.709.
    QFETCH(VideoCodec, codec);
    if (!haveEncoder(codec)) {
        QSKIP("encoder missing");
    }
    const auto clip =
        encodeClip(encoderFor(codec), 1280, 720, 3, "pattern=solid-color foreground-color=0xff2080c0");
    QCOMPARE(clip.size(), size_t(3));
    Collector collector;
    VideoDecoder decoder(codec, realSelector());
    decoder.setCallbacks(collector.callbacks());
    for (size_t i = 0; i < clip.size(); ++i) {
        decoder.submit(clip[i], i);
    }
    QVERIFY(decoder.drain(60s));
    QCOMPARE(collector.framesNow(), 3);
    FrameConverter converter;
    for (const auto& frame : collector.frames) {
        QCOMPARE(frame->width(), 1280);
        QCOMPARE(frame->height(), 720);
        QCOMPARE(frame->colorimetry().matrix,
                 codec == VideoCodec::Mjpeg ? ColorMatrix::Bt601 : ColorMatrix::Bt709);
        QCOMPARE(frame->colorimetry().fullRange, codec == VideoCodec::Mjpeg);
        std::vector<uint32_t> pixels(1280u * 720u);
        QVERIFY(converter.convert(*frame, pixels, 1280));
        for (auto [x, y] : {std::pair{10, 10}, {640, 360}, {1270, 710}}) {
            const Rgb got = rgbOf(pixels[static_cast<size_t>(y) * 1280 + x]);
            QVERIFY2(near(got, {0x20, 0x80, 0xc0}, 12),
                     qPrintable(QString("(%1,%2) = %3,%4,%5 (%6)")
                                    .arg(x)
                                    .arg(y)
                                    .arg(got.r)
                                    .arg(got.g)
                                    .arg(got.b)
                                    .arg(int(frame->colorimetry().matrix))));
            QCOMPARE(pixels[static_cast<size_t>(y) * 1280 + x] >> 24, 0xffu);
        }
    }
}

void TestMedia::scaledConversionAndBounds() {
    Collector collector;
    VideoDecoder decoder(VideoCodec::Vp8, realSelector());
    decoder.setCallbacks(collector.callbacks());
    for (const auto& f : sampleClip(VideoCodec::Vp8)) {
        decoder.submit(f, 0);
    }
    QVERIFY(decoder.drain(60s));
    QVERIFY(!collector.frames.empty());
    const auto& frame = *collector.frames.front();

    FrameConverter converter;
    // Half size, into a wider destination (stride 100 pixels), sentinels beyond each row intact.
    const int w = kSampleWidth / 2, h = kSampleHeight / 2, stride = 100;
    std::vector<uint32_t> pixels(static_cast<size_t>(stride) * h, 0x12345678u);
    QVERIFY(converter.convert(frame, pixels, stride, w, h));
    QString why;
    QVERIFY2(barsMatch(pixels, w, h, stride, &why), qPrintable(why));
    for (int y = 0; y < h; ++y) {
        QCOMPARE(pixels[static_cast<size_t>(y) * stride + w], 0x12345678u);
    }
    // Same and new sizes: cached converters, bounded.
    QVERIFY(converter.convert(frame, pixels, stride, w, h));
    QCOMPARE(converter.cachedConverters(), size_t(1));
    for (int i = 1; i <= 6; ++i) {
        QVERIFY(converter.convert(frame, pixels, stride, 10 * i, 10));
    }
    QCOMPARE(converter.cachedConverters(), FrameConverter::kMaxCached);
    // Too small a destination, a stride below the width, empty sizes: refused, nothing written.
    std::vector<uint32_t> small(static_cast<size_t>(kSampleWidth) * kSampleHeight - 1, 7u);
    QVERIFY(!converter.convert(frame, small, kSampleWidth));
    QVERIFY(std::all_of(small.begin(), small.end(), [](uint32_t p) { return p == 7u; }));
    QVERIFY(!converter.convert(frame, pixels, 10, 20, 5));
    QVERIFY(!converter.convert(frame, pixels, 10, 0, 5));
}

namespace {

// One videotestsrc picture in `format` with `colorimetry`, as a DecodedFrame (what a decoder's
// appsink would hand out).
std::shared_ptr<const DecodedFrame> rawFrame(const std::string& format, int width, int height,
                                             const std::string& colorimetry, const std::string& pattern) {
    if (!ensureGstInitialized()) {
        return nullptr;
    }
    const std::string description = "videotestsrc num-buffers=1 pattern=" + pattern +
                                    " ! video/x-raw,format=" + format + ",width=" + std::to_string(width) +
                                    ",height=" + std::to_string(height) + ",colorimetry=" + colorimetry +
                                    " ! appsink name=out sync=false";
    GError* raw = nullptr;
    ElementPtr pipeline = adoptElement(gst_parse_launch(description.c_str(), &raw));
    GErrorPtr error(raw);
    if (!pipeline || error) {
        return nullptr;
    }
    ElementPtr sink(gst_bin_get_by_name(GST_BIN(pipeline.get()), "out"));
    gst_element_set_state(pipeline.get(), GST_STATE_PLAYING);
    auto native = std::make_unique<DecodedFrameNative>();
    native->sample.reset(gst_app_sink_try_pull_sample(GST_APP_SINK(sink.get()), 10 * GST_SECOND));
    gst_element_set_state(pipeline.get(), GST_STATE_NULL);
    if (!native->sample ||
        !gst_video_info_from_caps(&native->info, gst_sample_get_caps(native->sample.get())) ||
        !native->frame.map(native->info, gst_sample_get_buffer(native->sample.get()), GST_MAP_READ)) {
        return nullptr;
    }
    return std::make_shared<const DecodedFrame>(std::move(native), 0, 0, "videotestsrc");
}

// The exact YCbCr -> R'G'B' of one sample (ITU-R BT.601/709/2020 matrices, 8-bit studio or
// full range), rounded: what either conversion should give for a 4:4:4 picture.
std::array<int, 3> exactRgb(int y, int cb, int cr, ColorMatrix matrix, bool fullRange) {
    double kr = 0.299, kb = 0.114;
    if (matrix == ColorMatrix::Bt709) {
        kr = 0.2126;
        kb = 0.0722;
    } else if (matrix == ColorMatrix::Bt2020) {
        kr = 0.2627;
        kb = 0.0593;
    }
    const double kg = 1.0 - kr - kb;
    const double yy = fullRange ? y / 255.0 : (y - 16) / 219.0;
    const double pb = fullRange ? (cb - 128) / 255.0 : (cb - 128) / 224.0;
    const double pr = fullRange ? (cr - 128) / 255.0 : (cr - 128) / 224.0;
    const double r = yy + 2 * (1 - kr) * pr;
    const double b = yy + 2 * (1 - kb) * pb;
    const double g = (yy - kr * r - kb * b) / kg;
    const auto to8 = [](double v) { return std::clamp(int(std::lround(v * 255.0)), 0, 255); };
    return {to8(r), to8(g), to8(b)};
}

} // namespace

void TestMedia::simdConversionMatchesGStreamer_data() {
    QTest::addColumn<QString>("format");
    QTest::addColumn<QString>("colorimetry");
    QTest::addColumn<int>("maxError");
    const struct {
        const char* colorimetry;
        const char* name;
        int maxError;
    } matrices[] = {
        // libyuv keeps its coefficients in 8 bits; BT.709's and BT.2020's blue coefficient in studio
        // range does not fit and is clamped, which costs saturated blues up to 17 levels and 1.7-2.2
        // on average (measured on videotestsrc's "colors" and bars with libyuv 0.0~git20230123;
        // GstVideoConverter is 1.6 off on average there, 6 at most); elsewhere 1-3 levels, 0.1-0.4
        // on average.
        {"bt601", "bt601", 3},        {"bt709", "bt709", 20},       {"bt2020", "bt2020", 20},
        {"1:4:0:0", "bt601-full", 3}, {"1:3:5:1", "bt709-full", 3},
    };
    for (const auto& m : matrices)
        for (const char* f : {"Y444", "I420", "Y42B", "NV12"})
            QTest::addRow("%s %s", f, m.name) << f << m.colorimetry << m.maxError;
}

void TestMedia::simdConversionMatchesGStreamer() {
    // The libyuv path against the exact matrix, and against GstVideoConverter over the whole
    // picture. 4:4:4 on a picture of many colours; subsampled layouts on colour bars, checked
    // against the exact matrix where the chroma around a pixel is uniform (so the upsampler, which
    // differs between the two, does not matter), at odd sizes (the last chroma column and row).
    QFETCH(QString, format);
    QFETCH(QString, colorimetry);
    QFETCH(int, maxError);
    const bool full = format == QLatin1String("Y444");
    const int w = full ? 67 : 641, h = full ? 45 : 361;
    const auto frame =
        rawFrame(format.toStdString(), w, h, colorimetry.toStdString(), full ? "colors" : "smpte75");
    QVERIFY(frame);
    const int stride = w + 3; // a wider destination: the pixels right of each row stay as they were
    std::vector<uint32_t> simd(size_t(stride) * h, 0x12345678u), reference(simd.size(), 0x12345678u);
    QVERIFY(FrameConverter(0, FrameConverter::Paths::Fastest).convert(*frame, simd, stride));
    QVERIFY(FrameConverter(0, FrameConverter::Paths::GStreamerOnly).convert(*frame, reference, stride));

    const int sx = full ? 1 : 2,
              sy = format == QLatin1String("Y444") || format == QLatin1String("Y42B") ? 1 : 2;
    const bool nv12 = frame->format() == PixelFormat::Nv12;
    const auto chroma = [&](int cx, int cy) {
        const FramePlane& p1 = frame->plane(1);
        if (nv12) {
            const size_t at = size_t(cy) * p1.stride + 2 * size_t(cx);
            return std::pair{int(p1.data[at]), int(p1.data[at + 1])};
        }
        const FramePlane& p2 = frame->plane(2);
        return std::pair{int(p1.data[size_t(cy) * p1.stride + cx]),
                         int(p2.data[size_t(cy) * p2.stride + cx])};
    };
    const int cw = (w + sx - 1) / sx, ch = (h + sy - 1) / sy;
    int exactWorst = 0, exactCount = 0, vsGstWorst = 0;
    double exactSum = 0, vsGstSum = 0;
    for (int y = 0; y < h; ++y) {
        for (int x = 0; x < stride; ++x) {
            const uint32_t a = simd[size_t(y) * stride + x], b = reference[size_t(y) * stride + x];
            if (x >= w) {
                QCOMPARE(a, 0x12345678u);
                continue;
            }
            QCOMPARE(a >> 24, 0xffu);
            for (int shift : {0, 8, 16}) {
                const int d = std::abs(int((a >> shift) & 0xff) - int((b >> shift) & 0xff));
                vsGstWorst = std::max(vsGstWorst, d);
                vsGstSum += d;
            }
            const int cx = x / sx, cy = y / sy;
            const auto c = chroma(cx, cy);
            bool uniform = true;
            for (int dy = -1; dy <= 1 && !full; ++dy)
                for (int dx = -1; dx <= 1; ++dx)
                    uniform = uniform &&
                              chroma(std::clamp(cx + dx, 0, cw - 1), std::clamp(cy + dy, 0, ch - 1)) == c;
            if (!uniform)
                continue;
            const auto e = exactRgb(frame->plane(0).data[size_t(y) * frame->plane(0).stride + x], c.first,
                                    c.second, frame->colorimetry().matrix, frame->colorimetry().fullRange);
            const int got[3] = {int((a >> 16) & 0xff), int((a >> 8) & 0xff), int(a & 0xff)};
            for (int k = 0; k < 3; ++k) {
                exactWorst = std::max(exactWorst, std::abs(got[k] - e[size_t(k)]));
                exactSum += std::abs(got[k] - e[size_t(k)]);
            }
            ++exactCount;
        }
    }
    const double exactMean = exactSum / (3.0 * std::max(exactCount, 1));
    const double vsGstMean = vsGstSum / (3.0 * w * h);
    qInfo("%s %s: against the exact matrix (%d pixels) max %d, mean %.3f; against GstVideoConverter max %d, "
          "mean %.3f",
          qPrintable(format), qPrintable(colorimetry), exactCount, exactWorst, exactMean, vsGstWorst,
          vsGstMean);
    QVERIFY(exactCount > w * h / 2);
    QVERIFY2(exactWorst <= maxError, qPrintable(QString::number(exactWorst)));
    QVERIFY2(exactMean <= 2.5, qPrintable(QString::number(exactMean)));
    // GstVideoConverter is itself 1-2 levels off the exact studio-range matrix and upsamples chroma
    // differently at edges: the two agree on average, not pixel for pixel.
    QVERIFY2(vsGstMean <= 5.0, qPrintable(QString::number(vsGstMean)));
}

void TestMedia::reversedRowOrder_data() {
    QTest::addColumn<QString>("format");
    QTest::addColumn<bool>("gstreamerOnly");
    for (const char* f : {"Y444", "I420", "Y42B", "NV12"})
        for (bool gst : {false, true})
            QTest::addRow("%s %s", f, gst ? "GstVideoConverter" : "fastest") << f << gst;
}

void TestMedia::turnRowsOver() {
    // 3 wide in a stride of 4, 5 rows: the middle row stays, the stride's spare column and the
    // rows after `rows` are never touched.
    std::vector<uint32_t> px(4 * 6);
    for (size_t i = 0; i < px.size(); ++i)
        px[i] = uint32_t(i);
    const std::vector<uint32_t> before = px;
    FrameConverter::turnRowsOver(px, 4, 3, 5);
    for (int y = 0; y < 6; ++y)
        for (int x = 0; x < 4; ++x) {
            const bool turned = y < 5 && x < 3;
            QCOMPARE(px[size_t(y * 4 + x)], before[size_t((turned ? 4 - y : y) * 4 + x)]);
        }
    // Too short a span for the rows asked for: left as it was.
    std::vector<uint32_t> shortRows = before;
    FrameConverter::turnRowsOver(std::span(shortRows).first(4 * 4), 4, 3, 5);
    QCOMPARE(shortRows, before);
}

void TestMedia::reversedRowOrder() {
    // A bottom-up picture converted with RowOrder::Reversed is the top-down conversion with its
    // rows in reverse order, whichever path converts it (libyuv's negative height, or
    // GstVideoConverter and a turn-over); the pixels right of each row stay as they were.
    QFETCH(QString, format);
    QFETCH(bool, gstreamerOnly);
    const int w = 65, h = 37, stride = w + 3;
    const auto frame = rawFrame(format.toStdString(), w, h, "bt709", "smpte75");
    QVERIFY(frame);
    FrameConverter converter(0, gstreamerOnly ? FrameConverter::Paths::GStreamerOnly
                                              : FrameConverter::Paths::Fastest);
    std::vector<uint32_t> same(size_t(stride) * h, 0x12345678u), reversed(same.size(), 0x12345678u);
    QVERIFY(converter.convert(*frame, same, stride));
    QVERIFY(converter.convert(*frame, reversed, stride, FrameConverter::RowOrder::Reversed));
    for (int y = 0; y < h; ++y) {
        const auto got = std::span(reversed).subspan(size_t(y) * stride, size_t(stride));
        const auto want = std::span(same).subspan(size_t(h - 1 - y) * stride, size_t(w));
        QVERIFY2(std::ranges::equal(got.first(size_t(w)), want), qPrintable(QStringLiteral("row %1").arg(y)));
        QVERIFY(std::ranges::all_of(got.subspan(size_t(w)), [](uint32_t p) { return p == 0x12345678u; }));
    }
    // Only the first `shown` rows turned (an encoder's padding rows stay below them).
    const int shown = h - 5;
    std::vector<uint32_t> padded(same.size(), 0x12345678u);
    QVERIFY(converter.convertShown(*frame, padded, stride, shown, FrameConverter::RowOrder::Reversed));
    for (int y = 0; y < h; ++y) {
        const auto got = std::span(padded).subspan(size_t(y) * stride, size_t(w));
        const int from = y < shown ? shown - 1 - y : y;
        QVERIFY2(std::ranges::equal(got, std::span(same).subspan(size_t(from) * stride, size_t(w))),
                 qPrintable(QStringLiteral("row %1 of a padded picture").arg(y)));
    }
    // Too small a destination: refused, nothing written.
    std::vector<uint32_t> small(size_t(stride) * (h - 1), 0x12345678u);
    QVERIFY(!converter.convert(*frame, small, stride, FrameConverter::RowOrder::Reversed));
    QVERIFY(std::ranges::all_of(small, [](uint32_t p) { return p == 0x12345678u; }));
}

void TestMedia::corruptRandomBytes_data() {
    decodeSoftware_data();
}

void TestMedia::corruptRandomBytes() {
    QFETCH(VideoCodec, codec);
    std::mt19937 rng(1234);
    Collector collector;
    VideoDecoder decoder(codec, realSelector());
    decoder.setCallbacks(collector.callbacks());
    int rejected = 0;
    for (int i = 0; i < 40; ++i) {
        Bytes data(static_cast<size_t>(1 + rng() % 4000));
        for (auto& b : data) {
            b = static_cast<uint8_t>(rng());
        }
        // Half of them disguised as the codec's framing so they reach the parser and decoder.
        if (i % 2) {
            switch (codec) {
            case VideoCodec::H264:
            case VideoCodec::H265:
                data.insert(data.begin(), {0, 0, 0, 1});
                data[4] &= 0x7f;
                break;
            case VideoCodec::Mjpeg:
                data.insert(data.begin(), {0xff, 0xd8});
                break;
            case VideoCodec::Vp9:
                data[0] = static_cast<uint8_t>((data[0] & 0x3f) | 0x80);
                break;
            case VideoCodec::Vp8:
                break;
            }
        }
        rejected += decoder.submit(data, static_cast<uint64_t>(i)) == SubmitResult::Rejected ? 1 : 0;
    }
    // Whatever the garbage did (rejected, refused by the parser, failed the decoder), it was
    // reported, and a real stream decodes afterwards (frames submitted before an asynchronous
    // error shows up may be lost with the failed pipeline, hence the drain before).
    decoder.drain(60s);
    QVERIFY(collector.errorsNow() >= 1);
    const int before = collector.framesNow();
    for (const auto& f : sampleClip(codec)) {
        decoder.submit(f, 1000);
    }
    QVERIFY(decoder.drain(60s));
    QCOMPARE(collector.framesNow(), before + static_cast<int>(sampleClip(codec).size()));
    const DecoderStats stats = decoder.stats();
    QCOMPARE(stats.rejected, uint64_t(rejected));
    QCOMPARE(stats.submitted, uint64_t(40 + sampleClip(codec).size()));
    qInfo("%s: %d rejected, %llu errors, %llu fallbacks, %d frames", videoCodecName(codec).data(), rejected,
          static_cast<unsigned long long>(stats.errors), static_cast<unsigned long long>(stats.fallbacks),
          collector.framesNow());
}

void TestMedia::corruptTruncatedFrames_data() {
    decodeSoftware_data();
}

void TestMedia::corruptTruncatedFrames() {
    QFETCH(VideoCodec, codec);
    const auto clip = sampleClip(codec);
    if (clip.empty()) {
        QSKIP("no sample");
    }
    Collector collector;
    VideoDecoder decoder(codec, realSelector());
    decoder.setCallbacks(collector.callbacks());
    for (size_t keep : {clip[0].size() / 2, clip[0].size() / 3, size_t(12), clip[0].size() - 1}) {
        const Bytes cut(clip[0].begin(), clip[0].begin() + static_cast<std::ptrdiff_t>(keep));
        decoder.submit(cut, keep);
        decoder.drain(60s);
    }
    // Truncation either fails loudly (error callback) or yields a concealed picture of the right
    // size; never a crash, never a picture of another size.
    for (const auto& f : collector.frames) {
        QCOMPARE(f->width(), kSampleWidth);
        QCOMPARE(f->height(), kSampleHeight);
    }
    qInfo("%s: %zu errors, %d frames from 4 truncated key frames", videoCodecName(codec).data(),
          collector.errorsNow(), collector.framesNow());
    // Still decodes a good stream afterwards.
    const int before = collector.framesNow();
    for (const auto& f : clip) {
        decoder.submit(f, 7);
    }
    QVERIFY(decoder.drain(60s));
    QCOMPARE(collector.framesNow(), before + static_cast<int>(clip.size()));
}

void TestMedia::absurdH264Size() {
    Collector collector;
    VideoDecoder decoder(VideoCodec::H264, realSelector());
    decoder.setCallbacks(collector.callbacks());
    // 16384 x 16384: parses, but is over the 8192 limit; must fail before the decoder allocates.
    const Bytes au = h264WithSize(1024, 1024);
    QVERIFY(inspectAccessUnit(VideoCodec::H264, au).plausible);
    QCOMPARE(decoder.submit(au, 1), SubmitResult::Queued);
    QVERIFY(collector.waitErrors(1));
    QVERIFY2(collector.errors[0].message.find("over the 8192x8192 limit") != std::string::npos,
             collector.errors[0].message.c_str());
    QCOMPARE(collector.framesNow(), 0);
    // A small hand-made stream of the same kind is accepted by the size check (it is not a valid
    // picture, so the decoder may still complain, but not about its size).
    decoder.submit(h264WithSize(4, 4), 2);
    decoder.drain(60s);
    for (size_t i = 1; i < collector.errors.size(); ++i) {
        QVERIFY(collector.errors[i].message.find("limit") == std::string::npos);
    }
}

void TestMedia::absurdJpegSize() {
    Bytes jpeg = sampleClip(VideoCodec::Mjpeg).at(0);
    bool patched = false;
    for (size_t i = 0; i + 8 < jpeg.size(); ++i) {
        if (jpeg[i] == 0xff && jpeg[i + 1] == 0xc0) { // SOF0: length(2) precision(1) height(2) width(2)
            jpeg[i + 5] = jpeg[i + 6] = jpeg[i + 7] = jpeg[i + 8] = 0xff;
            patched = true;
            break;
        }
    }
    QVERIFY(patched);
    Collector collector;
    VideoDecoder decoder(VideoCodec::Mjpeg, realSelector());
    decoder.setCallbacks(collector.callbacks());
    decoder.submit(jpeg, 1);
    decoder.drain(60s);
    QVERIFY(collector.waitErrors(1));
    QCOMPARE(collector.framesNow(), 0);
    // And the next stream is fine.
    for (const auto& f : sampleClip(VideoCodec::Mjpeg)) {
        decoder.submit(f, 2);
    }
    QVERIFY(decoder.drain(60s));
    QCOMPARE(collector.framesNow(), 2);
}

void TestMedia::absurdVp8Size() {
    Bytes key = sampleClip(VideoCodec::Vp8).at(0);
    key[6] = key[7] = key[8] = key[9] = 0xff; // 16383 x 16383, scale bits set
    Collector collector;
    VideoDecoder decoder(VideoCodec::Vp8, realSelector());
    decoder.setCallbacks(collector.callbacks());
    QCOMPARE(decoder.submit(key, 1), SubmitResult::Rejected);
    QCOMPARE(collector.errorsNow(), size_t(1));
    QVERIFY(collector.errors[0].message.find("over the limit") != std::string::npos);
}

void TestMedia::resetAndReuseWithNewSize() {
    if (!haveEncoder(VideoCodec::H264)) {
        QSKIP("x264enc missing");
    }
    const auto big = encodeClip(encoderFor(VideoCodec::H264), 320, 240, 4);
    const auto small = sampleClip(VideoCodec::H264);
    Collector collector;
    VideoDecoder decoder(VideoCodec::H264, realSelector());
    decoder.setCallbacks(collector.callbacks());
    int expected = 0;
    for (int round = 0; round < 3; ++round) {
        const auto& clip = round % 2 ? big : small;
        const int w = round % 2 ? 320 : kSampleWidth;
        for (size_t i = 0; i < clip.size(); ++i) {
            decoder.submit(clip[i], static_cast<uint64_t>(round * 100 + static_cast<int>(i)));
        }
        expected += static_cast<int>(clip.size());
        QVERIFY(collector.waitFrames(expected));
        {
            std::lock_guard lock(collector.mutex);
            QCOMPARE(collector.frames.back()->width(), w);
            QCOMPARE(collector.frames.back()->tag(),
                     uint64_t(round * 100 + static_cast<int>(clip.size()) - 1));
        }
        decoder.reset();
    }
    QCOMPARE(collector.errorsNow(), size_t(0));
    // A reset in the middle of a stream: the rest of that stream (inter frames) is held back until
    // the next key frame instead of being fed to a decoder that lost its references.
    decoder.submit(big[0], 1);
    decoder.reset();
    QCOMPARE(decoder.submit(big[1], 2), SubmitResult::Dropped);
    QCOMPARE(decoder.submit(big[0], 3), SubmitResult::Queued);
}

void TestMedia::resumeAtIntraRefreshRecoveryPoint() {
    // spice-server's x264enc uses intra refresh: one IDR, then recovery points. A decoder that
    // joins the stream later (after a fallback, or a refused frame) starts at a recovery point,
    // with references it never saw: that must decode (progressively refreshed), not error.
    if (!haveEncoder(VideoCodec::H264)) {
        QSKIP("x264enc missing");
    }
    const auto clip = encodeClip(encoderFor(VideoCodec::H264, "intra-refresh=true key-int-max=10"), 160, 96,
                                 40, "pattern=ball");
    QCOMPARE(clip.size(), size_t(40));
    size_t start = 0;
    for (size_t i = 1; i < clip.size() && !start; ++i) {
        start = inspectAccessUnit(VideoCodec::H264, clip[i]).randomAccess ? i : 0;
    }
    QVERIFY(start > 0);
    Collector collector;
    VideoDecoder decoder(VideoCodec::H264, realSelector());
    decoder.setCallbacks(collector.callbacks());
    // Inter frames before the recovery point are held back (nothing to decode them against).
    for (size_t i = 1; i < clip.size(); ++i) {
        QVERIFY(decoder.waitForSpace(60s));
        const auto r = decoder.submit(clip[i], i);
        QCOMPARE(r == SubmitResult::Dropped, i < start);
    }
    QVERIFY(decoder.drain(60s));
    QCOMPARE(collector.errorsNow(), size_t(0));
    QCOMPARE(collector.framesNow(), static_cast<int>(clip.size() - start));
    QCOMPARE(collector.frames.front()->tag(), uint64_t(start));
}

void TestMedia::fallbackToNextCandidateAfterError() {
    if (!haveEncoder(VideoCodec::H264)) {
        QSKIP("x264enc missing");
    }
    auto registry = std::make_shared<FakeRegistry>();
    // "Hardware" that passes the 2-frame probe and then fails on the 4th buffer of a stream.
    registry->bin("vah264dec", "identity error-after=4 ! avdec_h264");
    auto selector = selectorWith(registry);
    QCOMPARE(selector->select(VideoCodec::H264)->element, std::string("vah264dec"));

    const auto clip = encodeClip(encoderFor(VideoCodec::H264, "key-int-max=10"), 160, 96, 30);
    QCOMPARE(clip.size(), size_t(30));
    Collector collector;
    VideoDecoder decoder(VideoCodec::H264, selector);
    decoder.setCallbacks(collector.callbacks());
    for (int i = 0; i < 5; ++i) {
        decoder.submit(clip[static_cast<size_t>(i)], static_cast<uint64_t>(i));
    }
    QVERIFY(collector.waitErrors(1));
    QCOMPARE(collector.errors[0].decoder, std::string("vah264dec"));
    for (size_t i = 5; i < clip.size(); ++i) {
        // Wait for room: this test is about the fallback, not about refusing frames.
        QVERIFY(decoder.waitForSpace(60s));
        decoder.submit(clip[i], i);
    }
    QVERIFY(decoder.drain(60s));
    const DecoderStats stats = decoder.stats();
    QCOMPARE(stats.fallbacks, uint64_t(1));
    QCOMPARE(stats.decoder, std::string("avdec_h264"));
    QVERIFY(!stats.hardware);
    // Frames before the error came from vah264dec; after it, avdec_h264 from the key frame at 10.
    std::lock_guard lock(collector.mutex);
    QVERIFY(!collector.frames.empty());
    uint64_t firstAfter = 0;
    int fromFallback = 0;
    for (const auto& f : collector.frames) {
        if (f->decoder() == "avdec_h264") {
            firstAfter = fromFallback++ ? firstAfter : f->tag();
        } else {
            QCOMPARE(f->decoder(), std::string("vah264dec"));
            QVERIFY(f->tag() < 5);
        }
    }
    QCOMPARE(fromFallback, 20);
    QCOMPARE(firstAfter, uint64_t(10));
    QCOMPARE(collector.errors.size(), size_t(1));
}

void TestMedia::decoderFollowsStreamChromaFormat() {
    auto registry = std::make_shared<FakeRegistry>();
    registry->bin("vah264dec", "capsfilter caps=video/x-h264,chroma-format=4:2:0 ! avdec_h264");
    auto selector = selectorWith(registry);
    Collector collector;
    VideoDecoder decoder(VideoCodec::H264, selector);
    decoder.setCallbacks(collector.callbacks());
    auto feed = [&](std::span<const std::span<const uint8_t>> frames, uint64_t firstTag) {
        uint64_t tag = firstTag;
        for (auto f : frames) {
            const auto result = decoder.submit(f, tag++);
            QVERIFY2(result == SubmitResult::Queued || result == SubmitResult::Backlogged,
                     submitResultName(result));
        }
        QVERIFY(decoder.drain(60s));
    };
    // A 4:4:4 stream goes to the software decoder from its first frame: no error, no lost picture.
    feed(sampleFrames444(VideoCodec::H264), 0);
    QCOMPARE(collector.framesNow(), 2);
    QCOMPARE(decoder.stats().decoder, std::string("avdec_h264"));
    // A new 4:2:0 stream on the same (pooled) decoder goes back to the hardware one.
    decoder.reset();
    feed(sampleFrames(VideoCodec::H264), 10);
    QCOMPARE(collector.framesNow(), 4);
    QCOMPARE(decoder.stats().decoder, std::string("vah264dec"));
    // And 4:4:4 again, switching at the frame that declares it.
    decoder.reset();
    feed(sampleFrames444(VideoCodec::H264), 20);
    QCOMPARE(collector.framesNow(), 6);
    const DecoderStats stats = decoder.stats();
    QCOMPARE(stats.decoder, std::string("avdec_h264"));
    QCOMPARE(stats.errors, uint64_t(0));
    QCOMPARE(stats.fallbacks, uint64_t(0));
    QCOMPARE(collector.errorsNow(), size_t(0));

    std::lock_guard lock(collector.mutex);
    FrameConverter converter;
    for (size_t i = 0; i < collector.frames.size(); ++i) {
        const auto& frame = collector.frames[i];
        const bool yuv444 = i < 2 || i >= 4;
        QCOMPARE(frame->decoder(), std::string(yuv444 ? "avdec_h264" : "vah264dec"));
        std::vector<uint32_t> pixels(static_cast<size_t>(kSampleWidth) * kSampleHeight);
        QVERIFY(converter.convert(*frame, pixels, kSampleWidth));
        QString why;
        QVERIFY2(barsMatch(pixels, kSampleWidth, kSampleHeight, kSampleWidth, &why), qPrintable(why));
    }
}

void TestMedia::demotionAfterRepeatedStreamErrors() {
    auto registry = std::make_shared<FakeRegistry>();
    registry->bin("vavp8dec", "identity error-after=3 ! vp8dec");
    auto selector = selectorWith(registry);
    QCOMPARE(selector->select(VideoCodec::Vp8)->element, std::string("vavp8dec"));
    for (int i = 1; i < DecoderSelector::Options{}.demoteAfterStreamErrors; ++i) {
        selector->reportStreamError(VideoCodec::Vp8, "vavp8dec", "test");
        QCOMPARE(selector->select(VideoCodec::Vp8)->element, std::string("vavp8dec"));
    }
    selector->reportStreamError(VideoCodec::Vp8, "vavp8dec", "test");
    // Demoted: new streams start on the software decoder; still a last resort after it.
    QCOMPARE(selector->select(VideoCodec::Vp8)->element, std::string("vp8dec"));
    QCOMPARE(selector->next(VideoCodec::Vp8, "vp8dec")->element, std::string("avdec_vp8"));
    QCOMPARE(selector->next(VideoCodec::Vp8, "avdec_vp8")->element, std::string("vavp8dec"));
    QVERIFY(!selector->next(VideoCodec::Vp8, "vavp8dec"));
    QVERIFY(findCandidate(selector->candidates(VideoCodec::Vp8), "vavp8dec")->demoted);
}

void TestMedia::boundedQueueNeverBlocks() {
    auto registry = std::make_shared<FakeRegistry>();
    // A decoder that takes 200 ms a frame (identity sleeps before handing each buffer on).
    registry->bin("vavp8dec", "identity sleep-time=200000 ! vp8dec");
    auto selector = selectorWith(registry);
    VideoDecoderOptions options;
    options.softQueueLimit = 1;
    options.hardQueueLimit = 2;
    Collector collector;
    VideoDecoder decoder(VideoCodec::Vp8, selector, options);
    decoder.setCallbacks(collector.callbacks());
    const auto clip = sampleClip(VideoCodec::Vp8);
    int dropped = 0, backlogged = 0;
    for (int i = 0; i < 20; ++i) {
        // Key frame every time so a refusal does not hold back the rest.
        const auto r = decoder.submit(clip[0], static_cast<uint64_t>(i));
        dropped += r == SubmitResult::Dropped ? 1 : 0;
        backlogged += r == SubmitResult::Backlogged ? 1 : 0;
    }
    QVERIFY2(dropped > 0, "a full queue must refuse frames rather than block");
    QVERIFY(backlogged > 0);
    const DecoderStats stats = decoder.stats();
    QCOMPARE(stats.submitted, uint64_t(20));
    QVERIFY(stats.dropped >= static_cast<uint64_t>(dropped));
    QVERIFY(stats.queueDepth <= 3);
    // Waiting for room is possible for callers that prefer it.
    QVERIFY(decoder.waitForSpace(60s));
    QVERIFY(decoder.submit(clip[0], 99) != SubmitResult::Dropped);
}

void TestMedia::drainDeliversEverything() {
    if (!haveEncoder(VideoCodec::Vp9)) {
        QSKIP("vp9enc missing");
    }
    const auto clip = encodeClip(encoderFor(VideoCodec::Vp9), 96, 64, 12);
    Collector collector;
    collector.keepFrames = false;
    VideoDecoder decoder(VideoCodec::Vp9, realSelector());
    decoder.setCallbacks(collector.callbacks());
    for (size_t i = 0; i < clip.size(); ++i) {
        decoder.waitForSpace(60s);
        decoder.submit(clip[i], i);
    }
    QVERIFY(decoder.drain(60s));
    QCOMPARE(collector.framesNow(), 12);
    QCOMPARE(decoder.stats().queueDepth, 0u);
    // After a drain the stream restarts at a key frame.
    QCOMPARE(decoder.submit(clip[1], 1), SubmitResult::Dropped);
    QVERIFY(decoder.submit(clip[0], 0) != SubmitResult::Dropped);
}

void TestMedia::poolReusesDecoders() {
    auto registry = std::make_shared<FakeRegistry>();
    VideoDecoderPool pool(selectorWith(registry), {}, 2);
    Collector first, second;
    const VideoDecoder* firstDecoder = nullptr;
    {
        auto decoder = pool.acquire(VideoCodec::Mjpeg, first.callbacks());
        firstDecoder = decoder.get();
        for (const auto& f : sampleClip(VideoCodec::Mjpeg)) {
            decoder->submit(f, 1);
        }
        QVERIFY(first.waitFrames(2));
    }
    QCOMPARE(pool.idle(VideoCodec::Mjpeg), size_t(1));
    {
        auto decoder = pool.acquire(VideoCodec::Mjpeg, second.callbacks());
        QCOMPARE(decoder.get(), firstDecoder);
        QCOMPARE(pool.idle(VideoCodec::Mjpeg), size_t(0));
        for (const auto& f : sampleClip(VideoCodec::Mjpeg)) {
            decoder->submit(f, 2);
        }
        QVERIFY(decoder->drain(60s));
        QCOMPARE(second.framesNow(), 2);
        QCOMPARE(first.framesNow(), 2); // the first owner's callbacks were detached
    }
    // Bounded: three returned, two kept.
    {
        auto a = pool.acquire(VideoCodec::Mjpeg, {});
        auto b = pool.acquire(VideoCodec::Mjpeg, {});
        auto c = pool.acquire(VideoCodec::Mjpeg, {});
    }
    QCOMPARE(pool.idle(VideoCodec::Mjpeg), size_t(2));
    // Handles may outlive the pool.
    auto survivor = std::make_unique<VideoDecoderPool>(selectorWith(registry));
    auto handle = survivor->acquire(VideoCodec::Vp8, {});
    survivor.reset();
    handle.reset();
    pool.clear();
    QCOMPARE(pool.idle(VideoCodec::Mjpeg), size_t(0));
}

QTEST_GUILESS_MAIN(TestMedia)
#include "test_media.moc"
