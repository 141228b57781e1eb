// Video layer mode (VideoStreams::setLayerMode): a stream's pictures are handed to the front end
// as layers above the surface (YUV for a GPU, RGB pictures for a CPU compositor) instead of
// being converted into it, and the surface receives a picture only when something needs its
// pixels. The screen a front end composites must always be the one the CPU path would have
// drawn: these cases replay stream and draw messages through DisplayChannel::dispatch() (no
// network) and check the layers and the surface after each, in both layer modes. The same
// harness checks that a picture decoded after its mm-time counts late.

#include "SpiceBuilders.h"
#include "channels/DisplayChannel.h"
#include "streams/VideoStreams.h"
#include "video/DecodedFrame.h"

#include <QLoggingCategory>
#include <QSignalSpy>
#include <QTest>
#include <QThread>
#include <spice/enums.h>

using namespace saffron;
using namespace saffron::hostile;

namespace {

constexpr int kTimeoutMs = 10000;
constexpr uint8_t kTopDown = SPICE_STREAM_FLAGS_TOP_DOWN;
constexpr uint8_t kMjpeg = SPICE_VIDEO_CODEC_TYPE_MJPEG;

uint32_t pixel(const DisplayChannel& d, int x, int y) {
    SurfacePtr s = d.primarySurface();
    QMutexLocker lock(&s->mutex);
    return s->pixmap.at(x, y);
}

std::vector<VideoLayer> layers(const DisplayChannel& d) {
    SurfacePtr s = d.primarySurface();
    QMutexLocker lock(&s->mutex);
    return s->layers;
}

// JPEG is lossy even for a solid colour: within a few levels per channel.
bool near(uint32_t p, uint32_t rgb) {
    for (int shift : {16, 8, 0})
        if (std::abs(int((p >> shift) & 0xff) - int((rgb >> shift) & 0xff)) > 0x10)
            return false;
    return true;
}

DrawBase on(Rect box) {
    return DrawBase{0, box, {}};
}

} // namespace

class TestVideoLayers : public QObject {
    Q_OBJECT
private slots:
    void initTestCase_data();
    void initTestCase();
    void pictureStaysOutOfTheSurface();
    void drawsAndCopiesSeeThePicture();
    void clipChangeAndDestroyKeepThePicture();
    void leavingLayerModeDrawsThePictures();
    void destroyedSurfaceDropsItsLayers();
    // Rgb mode only:
    void bottomUpPictureIsTurnedOverWithinItsArea();
    void fragmentedClipIsDrawnIntoTheSurface();
    void heldPictureIsNeverRewritten();
    // Yuv mode only (its MJPEG goes through a GStreamer decoder, asynchronously):
    void frameDecodedAfterItsTimeCountsLate();

private:
    static VideoLayerMode mode();
    // A display channel in the row's layer mode with a 64x64 primary surface and stream 1:
    // 16x16 MJPEG at (8,8), showing `rgb` once decoded.
    std::unique_ptr<DisplayChannel> channelShowing(uint32_t rgb, const Clip& clip = {});
    SessionOptions options_;
};

void TestVideoLayers::initTestCase_data() {
    QTest::addColumn<int>("mode");
    QTest::newRow("yuv") << int(VideoLayerMode::Yuv);
    QTest::newRow("rgb") << int(VideoLayerMode::Rgb);
}

VideoLayerMode TestVideoLayers::mode() {
    QFETCH_GLOBAL(int, mode);
    return VideoLayerMode(mode);
}

void TestVideoLayers::initTestCase() {
    QLoggingCategory::setFilterRules(QStringLiteral("*.debug=false"));
    // Stream creation never waits for decoder probes (a codec still probing is not offered).
    VideoStreams::probeInBackground(options_).wait();
}

std::unique_ptr<DisplayChannel> TestVideoLayers::channelShowing(uint32_t rgb, const Clip& clip) {
    auto d = std::make_unique<DisplayChannel>(options_, 0);
    d->videoStreams().setLayerMode(mode());
    d->dispatch(SPICE_MSG_DISPLAY_SURFACE_CREATE, surfaceCreate(0, 64, 64));
    d->dispatch(SPICE_MSG_DISPLAY_STREAM_CREATE,
                streamCreate(0, 1, kTopDown, kMjpeg, 16, 16, 16, 16, rectXYWH(8, 8, 16, 16), clip));
    d->dispatch(SPICE_MSG_DISPLAY_STREAM_DATA, streamData(1, encodeSolidJpeg(16, 16, rgb)));
    // Decoding runs on a GStreamer thread and is handed back through the event loop.
    if (!QTest::qWaitFor([&] { return d->displayStats().video.framesPresented >= 1; }, kTimeoutMs))
        return nullptr;
    return d;
}

void TestVideoLayers::pictureStaysOutOfTheSurface() {
    // Two visible parts: the top row band and the lower left quarter of the stream.
    const Clip clip = clipRects({rectXYWH(8, 8, 16, 4), rectXYWH(8, 16, 8, 8)});
    const auto d = channelShowing(0xff0000, clip);
    QVERIFY(d);
    const auto l = layers(*d);
    QCOMPARE(l.size(), size_t(1));
    QCOMPARE(l[0].streamId, 1u);
    QCOMPARE(l[0].dest, QRect(8, 8, 16, 16));
    QCOMPARE(l[0].area, QRect(0, 0, 16, 16));
    QCOMPARE(l[0].clip, (std::vector<QRect>{QRect(8, 8, 16, 4), QRect(8, 16, 8, 8)}));
    QVERIFY(l[0].topDown);
    const VideoStats v = d->displayStats().video;
    if (mode() == VideoLayerMode::Rgb) {
        // Software MJPEG whose pictures end up RGB: libjpeg-turbo decodes straight to RGB, and the
        // layer has no YUV frame at all.
        QVERIFY(!l[0].frame);
        QVERIFY(l[0].rgb);
        QCOMPARE(l[0].rgb->width, 16);
        QVERIFY(near(l[0].rgb->at(4, 4), 0xff0000));
        QCOMPARE(v.decoders, QStringLiteral("mjpeg:libjpeg-turbo"));
    } else {
        QVERIFY(l[0].frame);
        QCOMPARE(l[0].frame->width(), 16);
        QVERIFY(!l[0].rgb); // a GPU converts it
        QCOMPARE(v.decoders, QStringLiteral("mjpeg:jpegdec"));
    }
    // The surface under the layer is untouched.
    QCOMPARE(pixel(*d, 10, 10), 0xff000000u);
    QCOMPARE(v.framesAsLayer, quint64(1));
    QCOMPARE(v.framesPresented, quint64(1));
}

void TestVideoLayers::drawsAndCopiesSeeThePicture() {
    const auto d = channelShowing(0xff0000);
    QVERIFY(d);
    // Copy-bits reads the stream's area: the picture is written into the surface first, and the
    // layer stays (the copy lands elsewhere).
    d->dispatch(SPICE_MSG_DISPLAY_COPY_BITS, copyBits(on(rectXYWH(40, 40, 16, 16)), 8, 8));
    QVERIFY2(near(pixel(*d, 44, 44), 0xff0000), qPrintable(QString::number(pixel(*d, 44, 44), 16)));
    QVERIFY(near(pixel(*d, 10, 10), 0xff0000));
    QCOMPARE(layers(*d).size(), size_t(1));
    // A draw over part of the stream lands on the picture and shows: the layer goes until the
    // next frame, and the surface holds the picture around the draw.
    d->dispatch(SPICE_MSG_DISPLAY_DRAW_FILL, drawFill(on(rectXYWH(8, 8, 4, 4)), Brush::solid(0x0000ff)));
    QCOMPARE(pixel(*d, 9, 9), 0xff0000ffu);
    QVERIFY(near(pixel(*d, 20, 20), 0xff0000));
    QVERIFY(layers(*d).empty());
    // A draw elsewhere leaves the layer alone.
    d->dispatch(SPICE_MSG_DISPLAY_STREAM_DATA, streamData(1, encodeSolidJpeg(16, 16, 0x00ff00)));
    QVERIFY(QTest::qWaitFor([&] { return layers(*d).size() == 1; }, kTimeoutMs));
    d->dispatch(SPICE_MSG_DISPLAY_DRAW_FILL, drawFill(on(rectXYWH(40, 0, 8, 8)), Brush::solid(0x0000ff)));
    QCOMPARE(layers(*d).size(), size_t(1));
    QVERIFY(near(pixel(*d, 20, 20), 0xff0000)); // the green picture is still only a layer
    QCOMPARE(d->displayStats().video.framesAsLayer, quint64(2));
}

void TestVideoLayers::clipChangeAndDestroyKeepThePicture() {
    const auto d = channelShowing(0x00ff00);
    QVERIFY(d);
    QSignalSpy changed(d.get(), &DisplayChannel::primaryLayersChanged);
    // spice-server narrows the clip when something covers part of the stream: the picture shown
    // so far stays in the surface under the old clip.
    d->dispatch(SPICE_MSG_DISPLAY_STREAM_CLIP, streamClip(1, clipRects({rectXYWH(8, 8, 16, 8)})));
    QVERIFY(near(pixel(*d, 20, 20), 0x00ff00));
    QVERIFY(layers(*d).empty());
    const auto announced = changed.count();
    d->dispatch(SPICE_MSG_DISPLAY_STREAM_DATA, streamData(1, encodeSolidJpeg(16, 16, 0x0000ff)));
    QVERIFY(QTest::qWaitFor([&] { return layers(*d).size() == 1; }, kTimeoutMs));
    QVERIFY(changed.count() > announced); // a frame shown from a decoder callback is announced at once
    QCOMPARE(layers(*d)[0].clip, std::vector<QRect>{QRect(8, 8, 16, 8)});
    // Destroyed: its last picture stays on the screen, inside the clip only.
    d->dispatch(SPICE_MSG_DISPLAY_STREAM_DESTROY, u32Body(1));
    QVERIFY(layers(*d).empty());
    QVERIFY(near(pixel(*d, 10, 10), 0x0000ff));
    QVERIFY(near(pixel(*d, 20, 20), 0x00ff00));
}

void TestVideoLayers::leavingLayerModeDrawsThePictures() {
    const auto d = channelShowing(0xff0000);
    QVERIFY(d);
    d->videoStreams().setLayerMode(VideoLayerMode::Off);
    QVERIFY(layers(*d).empty());
    QVERIFY(near(pixel(*d, 10, 10), 0xff0000));
    // From now on frames are converted into the surface.
    d->dispatch(SPICE_MSG_DISPLAY_STREAM_DATA, streamData(1, encodeSolidJpeg(16, 16, 0x0000ff)));
    QVERIFY(QTest::qWaitFor([&] { return near(pixel(*d, 10, 10), 0x0000ff); }, kTimeoutMs));
    QVERIFY(layers(*d).empty());
    QCOMPARE(d->displayStats().video.framesAsLayer, quint64(1));
}

void TestVideoLayers::destroyedSurfaceDropsItsLayers() {
    const auto d = channelShowing(0xff0000);
    QVERIFY(d);
    const SurfacePtr surface = d->primarySurface();
    d->dispatch(SPICE_MSG_DISPLAY_SURFACE_DESTROY, surfaceDestroy(0));
    QVERIFY(!d->primarySurface());
    QMutexLocker lock(&surface->mutex);
    QVERIFY(surface->layers.empty()); // nobody keeps the decoder's buffer through the old surface
    QCOMPARE(d->stats().badMessages, quint64(0));
}

void TestVideoLayers::bottomUpPictureIsTurnedOverWithinItsArea() {
    if (mode() != VideoLayerMode::Rgb)
        QSKIP("the RGB picture's layout");
    // A bottom-up stream (no TOP_DOWN flag) of 16x16 frames showing 16x12 (the encoder padded
    // four rows): frame rows 0-7 red (the bottom of dest), 8-11 blue (its top), 12-15 green
    // padding that never shows.
    auto d = std::make_unique<DisplayChannel>(options_, 0);
    d->videoStreams().setLayerMode(mode());
    d->dispatch(SPICE_MSG_DISPLAY_SURFACE_CREATE, surfaceCreate(0, 64, 64));
    d->dispatch(SPICE_MSG_DISPLAY_STREAM_CREATE,
                streamCreate(0, 1, 0, kMjpeg, 16, 16, 16, 12, rectXYWH(8, 8, 16, 12)));
    d->dispatch(SPICE_MSG_DISPLAY_STREAM_DATA,
                streamData(1, encodeJpeg(16, 16, [](uint32_t, uint32_t y) {
                               return y < 8 ? 0xff0000u : y < 12 ? 0x0000ffu : 0x00ff00u;
                           })));
    QVERIFY(QTest::qWaitFor([&] { return layers(*d).size() == 1; }, kTimeoutMs));
    const VideoLayer l = layers(*d)[0];
    QVERIFY(l.rgb);
    QVERIFY(!l.topDown);
    QCOMPARE(l.area, QRect(0, 0, 16, 12));
    // Within the area, rows top-down: blue (frame rows 11-8) above red (frame rows 7-0).
    QVERIFY2(near(l.rgb->at(8, 1), 0x0000ff), qPrintable(QString::number(l.rgb->at(8, 1), 16)));
    QVERIFY2(near(l.rgb->at(8, 9), 0xff0000), qPrintable(QString::number(l.rgb->at(8, 9), 16)));
    // Settled into the surface (a copy reads the area), the same way up.
    d->dispatch(SPICE_MSG_DISPLAY_COPY_BITS, copyBits(on(rectXYWH(40, 40, 16, 12)), 8, 8));
    QVERIFY(near(pixel(*d, 16, 9), 0x0000ff));
    QVERIFY(near(pixel(*d, 16, 17), 0xff0000));
    QVERIFY(near(pixel(*d, 48, 41), 0x0000ff));
    QVERIFY(near(pixel(*d, 48, 49), 0xff0000));
    QCOMPARE(pixel(*d, 16, 21), 0xff000000u); // nothing drawn below dest
}

void TestVideoLayers::fragmentedClipIsDrawnIntoTheSurface() {
    if (mode() != VideoLayerMode::Rgb)
        QSKIP("a limit of the RGB layers");
    // More visible pieces than a CPU compositor takes one picture node each for: a
    // checkerboard of single pixels over the stream's top rows.
    std::vector<Rect> pieces;
    for (int i = 0; i < int(VideoStreams::kMaxRgbLayerRects) + 1; ++i) {
        const int row = i / 8, column = i % 8;
        pieces.push_back(rectXYWH(8 + (row % 2) + column * 2, 8 + row, 1, 1));
    }
    const auto d = channelShowing(0xff0000, clipRects(pieces));
    QVERIFY(d);
    QVERIFY(layers(*d).empty());
    QVERIFY(near(pixel(*d, 8, 8), 0xff0000));
    QCOMPARE(pixel(*d, 9, 8), 0xff000000u); // between two pieces
    QCOMPARE(d->displayStats().video.framesAsLayer, quint64(0));
}

void TestVideoLayers::heldPictureIsNeverRewritten() {
    if (mode() != VideoLayerMode::Rgb)
        QSKIP("the RGB pictures' reuse");
    const auto d = channelShowing(0xff0000);
    QVERIFY(d);
    const std::shared_ptr<const Pixmap> held = layers(*d)[0].rgb; // as a front end's texture does
    QVERIFY(held);
    // More frames than the pool keeps pictures: each gets a picture nobody else holds.
    for (int i = 0; i < 6; ++i) {
        d->dispatch(SPICE_MSG_DISPLAY_STREAM_DATA, streamData(1, encodeSolidJpeg(16, 16, 0x0000ff)));
        QVERIFY(QTest::qWaitFor([&] { return d->displayStats().video.framesPresented >= quint64(2 + i); },
                                kTimeoutMs));
        QVERIFY(layers(*d)[0].rgb != held);
        QVERIFY(near(layers(*d)[0].rgb->at(4, 4), 0x0000ff));
    }
    QVERIFY(near(held->at(4, 4), 0xff0000));
}

void TestVideoLayers::frameDecodedAfterItsTimeCountsLate() {
    if (mode() != VideoLayerMode::Yuv)
        QSKIP("RGB-mode MJPEG is decoded as it arrives; a decoder thread is needed to fall behind");
    // A decoder that falls behind by more than the server's margin: the frame arrives ahead of
    // its mm-time, but its picture comes out after it (this thread stalls, as a starved CPU
    // would). Low-latency mode still shows it; the stream report counts it late.
    auto clock = std::make_shared<MultimediaClock>();
    clock->sync(100'000);
    DisplayChannel d(options_, 0, clock);
    d.videoStreams().setLayerMode(mode());
    d.dispatch(SPICE_MSG_DISPLAY_SURFACE_CREATE, surfaceCreate(0, 64, 64));
    d.dispatch(SPICE_MSG_DISPLAY_STREAM_CREATE,
               streamCreate(0, 1, kTopDown, kMjpeg, 16, 16, 16, 16, rectXYWH(8, 8, 16, 16)));
    constexpr uint32_t kAheadMs = 500;
    d.dispatch(SPICE_MSG_DISPLAY_STREAM_DATA,
               streamData(1, encodeSolidJpeg(16, 16, 0xff0000), std::nullopt, clock->now() + kAheadMs));
    QThread::msleep(kAheadMs + 300); // the decoded picture waits in the event queue meanwhile
    QVERIFY(QTest::qWaitFor([&] { return d.displayStats().video.framesPresented >= 1; }, kTimeoutMs));
    VideoStats v = d.displayStats().video;
    QCOMPARE(v.decodedLate, quint64(1));
    QCOMPARE(v.dropsLate, quint64(0)); // shown all the same
    // A frame decoded in time is not late.
    d.dispatch(SPICE_MSG_DISPLAY_STREAM_DATA,
               streamData(1, encodeSolidJpeg(16, 16, 0x0000ff), std::nullopt, clock->now() + 60'000));
    QVERIFY(QTest::qWaitFor([&] { return d.displayStats().video.framesPresented >= 2; }, kTimeoutMs));
    v = d.displayStats().video;
    QCOMPARE(v.decodedLate, quint64(1));
    QCOMPARE(v.framesDecoded, quint64(2));
}

QTEST_GUILESS_MAIN(TestVideoLayers)
#include "test_video_layers.moc"
