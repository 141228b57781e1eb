#include "Session.h"
#include "TestServerProcess.h"
#include "TestUtil.h"
#include "app/ClipboardBridge.h"
#include "common/SurfaceImage.h"

#include <QBuffer>
#include <QClipboard>
#include <QGuiApplication>
#include <QProcess>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>
#include <spice/enums.h>

using namespace saffron;

namespace {

using TestServer = saffron::test::TestServerProcess;

QImage expectedImage(const QStringList& args) {
    QTemporaryDir dir;
    const QString ppm = dir.filePath(QStringLiteral("expected.ppm"));
    QProcess p;
    p.start(qEnvironmentVariable("SAFFRON_TEST_SERVER"),
            args + QStringList{QStringLiteral("--dump-expected"), ppm});
    p.waitForFinished(30000);
    return QImage(ppm).convertToFormat(QImage::Format_RGB32);
}

SessionOptions optionsFor(quint16 port) {
    SessionOptions o;
    o.host = QStringLiteral("127.0.0.1");
    o.port = port;
    return o;
}

// A small picture that survives any lossless round trip only if every pixel does.
QImage clipboardPicture(int seed) {
    QImage image(97, 61, QImage::Format_RGB32);
    for (int y = 0; y < image.height(); ++y)
        for (int x = 0; x < image.width(); ++x)
            image.setPixel(x, y, qRgb((x * 7 + seed) & 0xff, (y * 13 + seed) & 0xff, (x ^ y) & 0xff));
    return image;
}

QByteArray pngOf(const QImage& image) {
    QByteArray png;
    QBuffer buffer(&png);
    buffer.open(QIODevice::WriteOnly);
    image.save(&buffer, "PNG");
    return png;
}

// What the test server prints for binary clipboard data: size and FNV-1a 64.
QString binaryClipboardLine(const QByteArray& data) {
    quint64 hash = 0xcbf29ce484222325ull;
    for (char c : data)
        hash = (hash ^ quint8(c)) * 0x100000001b3ull;
    return QStringLiteral("%1 bytes fnv1a=%2").arg(data.size()).arg(hash, 16, 16, QLatin1Char('0'));
}

// Starts the session and waits until the test server's agent and ours have exchanged
// capabilities, so clipboard and monitor messages can flow.
bool startWithAgent(Session& session, TestServer& server) {
    QSignalSpy agent(&session, &Session::agentConnectedChanged);
    session.start();
    return agent.wait(20000) && !server.waitLine(QStringLiteral("AGENT announce-capabilities")).isEmpty();
}

QImage frameOf(Session& s) {
    SurfacePtr p = s.primarySurface();
    return p ? copySurface(*p).convertToFormat(QImage::Format_RGB32) : QImage();
}

} // namespace

class TestTestServerSession : public QObject {
    Q_OBJECT
private slots:
    void initTestCase() { QVERIFY(QFile::exists(qEnvironmentVariable("SAFFRON_TEST_SERVER"))); }
    void workloadPixelsExact_data();
    void workloadPixelsExact();
    void cursorShapes();
    void monitorsConfigFollowsWindow();
    void clipboardGuestToClient();
    void clipboardClientToGuest();
    void clipboardImageGuestToClient();
    void clipboardImageClientToGuest();
    void clipboardBridgeImagesBothWays();
    void clipboardBridgeOffersWhatWasCopiedBefore();
    void clipboardBridgeRefusesHostileImages();
};

void TestTestServerSession::workloadPixelsExact_data() {
    QTest::addColumn<QString>("workload");
    QTest::addColumn<QStringList>("serverArgs");
    QTest::addColumn<int>("preferred"); // -1: the server's setting stands
    QTest::addColumn<int>("expectedType");
    const QStringList off{QStringLiteral("--image-compression"), QStringLiteral("off")};
    auto codec = [](const char* c) {
        return QStringList{QStringLiteral("--image-compression"), QLatin1String(c)};
    };
    const int lz4 = SPICE_IMAGE_COMPRESSION_LZ4;
    QTest::newRow("static off") << "static" << off << -1 << int(SPICE_IMAGE_TYPE_BITMAP);
    QTest::newRow("static lz4") << "static" << off << lz4 << int(SPICE_IMAGE_TYPE_LZ4);
    QTest::newRow("static quic") << "static" << codec("quic") << -1 << int(SPICE_IMAGE_TYPE_QUIC);
    QTest::newRow("static lz") << "static" << codec("lz") << -1 << int(SPICE_IMAGE_TYPE_LZ_RGB);
    QTest::newRow("photo off") << "photo" << off << -1 << int(SPICE_IMAGE_TYPE_BITMAP);
    QTest::newRow("photo lz4") << "photo" << off << lz4 << int(SPICE_IMAGE_TYPE_LZ4);
    QTest::newRow("photo quic") << "photo" << codec("quic") << -1 << int(SPICE_IMAGE_TYPE_QUIC);
    // The first full-screen image goes as LZ; each later frame references earlier ones by GLZ.
    QTest::newRow("video glz") << "video" << codec("glz") << -1 << int(SPICE_IMAGE_TYPE_GLZ_RGB);
    QTest::newRow("scroll lz4") << "scroll" << off << lz4 << int(SPICE_IMAGE_TYPE_LZ4);
    // Scrolling text: each new band references earlier ones in the GLZ dictionary.
    QTest::newRow("scroll glz") << "scroll" << codec("glz") << -1 << int(SPICE_IMAGE_TYPE_GLZ_RGB);
    QTest::newRow("scroll zlib-glz") << "scroll"
                                     << (codec("glz")
                                         << QStringLiteral("--zlib-glz") << QStringLiteral("always"))
                                     << -1 << int(SPICE_IMAGE_TYPE_ZLIB_GLZ_RGB);
    QTest::newRow("video auto_glz") << "video" << codec("auto_glz") << -1 << -1;
}

void TestTestServerSession::workloadPixelsExact() {
    QFETCH(QString, workload);
    QFETCH(QStringList, serverArgs);
    QFETCH(int, preferred);
    QFETCH(int, expectedType);
    // The server animates from its start, not from our connection: 40 frames (1.6 s) keep it
    // drawing well after the display channel links (which waits for the video decoder probe),
    // so the codec under test carries the later frames.
    const QStringList args{QStringLiteral("--workload"), workload,
                           QStringLiteral("--frames"),   QStringLiteral("40"),
                           QStringLiteral("--size"),     QStringLiteral("800x600")};
    const QImage expected = expectedImage(args);
    QVERIFY(!expected.isNull());
    TestServer server(args + serverArgs);
    SessionOptions o = optionsFor(server.port());
    if (preferred >= 0)
        o.preferredCompression = preferred;
    Session session(o);
    QSignalSpy marked(&session, &Session::displayMarked);
    session.start();
    QVERIFY(marked.wait(20000));
    // Animated workloads keep drawing until frame 40; the client must end up exactly there.
    QVERIFY2(QTest::qWaitFor([&] { return test::differingPixels(frameOf(session), expected) == 0; }, 20000),
             qPrintable(
                 QStringLiteral("%1 pixels differ").arg(test::differingPixels(frameOf(session), expected))));
    const SessionInfo info = session.info();
    if (expectedType >= 0)
        QVERIFY2(info.imagesDecoded.count(expectedType), "the server did not use the expected codec");
    QCOMPARE(info.display.badDraws, quint64(0));
    for (const ChannelInfo& c : info.channels)
        QCOMPARE(c.stats.badMessages, quint64(0));
}

void TestTestServerSession::cursorShapes() {
    // The workload changes shape every 50 frames: alpha, mono, colour.
    TestServer server({QStringLiteral("--workload"), QStringLiteral("cursor"), QStringLiteral("--frames"),
                       QStringLiteral("110")});
    Session session(optionsFor(server.port()));
    QSignalSpy shapes(&session, &Session::cursorShapeChanged);
    QSignalSpy moves(&session, &Session::cursorMoved);
    session.start();
    QVERIFY(QTest::qWaitFor([&] { return shapes.size() >= 3; }, 60000));
    bool sawAlpha = false, sawOpaque = false;
    for (const auto& args : shapes) {
        const auto shape = args.first().value<CursorShapePtr>();
        if (!shape)
            continue;
        QVERIFY(shape->image.width > 0 && shape->image.width <= 64);
        for (uint32_t px : shape->image.pixels) {
            const uint32_t a = px >> 24;
            sawAlpha |= a > 0 && a < 255;
            sawOpaque |= a == 255;
        }
    }
    QVERIFY2(sawAlpha, "the alpha cursor lost its translucent pixels");
    QVERIFY(sawOpaque);
    QVERIFY(!moves.isEmpty());
}

void TestTestServerSession::monitorsConfigFollowsWindow() {
    TestServer server({});
    Session session(optionsFor(server.port()));
    QSignalSpy agent(&session, &Session::agentConnectedChanged);
    QSignalSpy marked(&session, &Session::displayMarked);
    session.start();
    QVERIFY(marked.wait(20000));
    QVERIFY(!agent.isEmpty() || agent.wait(10000));
    QCOMPARE(frameOf(session).size(), QSize(1024, 768));
    // What the demo window does on a resize.
    session.setMonitors({QRect(0, 0, 1280, 720)});
    const QString line = server.waitLine(QStringLiteral("AGENT monitors-config"));
    QVERIFY2(line.startsWith(QLatin1String("AGENT monitors-config 1 1280x720+0+0")), qPrintable(line));
    QVERIFY(!server.waitLine(QStringLiteral("RESIZED 1280x720")).isEmpty());
    QVERIFY(QTest::qWaitFor([&] { return frameOf(session).size() == QSize(1280, 720); }, 20000));
}

void TestTestServerSession::clipboardGuestToClient() {
    TestServer server({});
    Session session(optionsFor(server.port()));
    QSignalSpy grabbed(&session, &Session::guestClipboardGrabbed);
    QSignalSpy text(&session, &Session::guestClipboardText);
    QVERIFY(startWithAgent(session, server));
    server.command("clipboard Grüße from the guest\\nline two");
    QVERIFY(grabbed.wait(10000));
    session.requestGuestClipboard();
    QVERIFY(text.wait(10000));
    QCOMPARE(text.first().first().toString(), QStringLiteral("Grüße from the guest\nline two"));
}

void TestTestServerSession::clipboardClientToGuest() {
    TestServer server({});
    Session session(optionsFor(server.port()));
    QVERIFY(startWithAgent(session, server));
    // Possibly before the agent's capabilities reached the client: it then offers the text as
    // soon as they do.
    session.setClientClipboardText(QStringLiteral("from saffron ✓"));
    const QString grab = server.waitLine(QStringLiteral("AGENT clipboard-grab"));
    QVERIFY2(grab.contains(QLatin1String("utf8")), qPrintable(grab));
    server.command("request-clipboard");
    const QString data = server.waitLine(QStringLiteral("AGENT clipboard utf8"));
    QVERIFY2(data.startsWith(QLatin1String("AGENT clipboard utf8 from saffron ")), qPrintable(data));
}

void TestTestServerSession::clipboardImageGuestToClient() {
    QTemporaryDir dir;
    const QByteArray png = pngOf(clipboardPicture(1));
    const QString file = dir.filePath(QStringLiteral("guest.png"));
    QFile f(file);
    QVERIFY(f.open(QIODevice::WriteOnly) && f.write(png) == png.size());
    f.close();
    TestServer server({});
    Session session(optionsFor(server.port()));
    QSignalSpy grabbed(&session, &Session::guestClipboardGrabbed);
    QSignalSpy image(&session, &Session::guestClipboardImage);
    QVERIFY(startWithAgent(session, server));
    server.command("clipboard-file png " + file.toUtf8());
    QVERIFY(grabbed.wait(10000));
    // The guest offered only PNG: the request must ask for PNG, not text.
    session.requestGuestClipboard();
    QVERIFY(image.wait(10000));
    QCOMPARE(image.first().first().toByteArray(), png);
}

void TestTestServerSession::clipboardImageClientToGuest() {
    TestServer server({});
    Session session(optionsFor(server.port()));
    QVERIFY(startWithAgent(session, server));
    const QByteArray png = pngOf(clipboardPicture(2));
    session.setClientClipboardImage(png);
    const QString grab = server.waitLine(QStringLiteral("AGENT clipboard-grab"));
    QVERIFY2(grab.endsWith(QLatin1String("png")), qPrintable(grab));
    server.command("request-clipboard png");
    const QString data = server.waitLine(QStringLiteral("AGENT clipboard png"));
    QCOMPARE(data, QStringLiteral("AGENT clipboard png ") + binaryClipboardLine(png));
    // Text copied afterwards replaces the image, and a request for the image gets nothing.
    session.setClientClipboardText(QStringLiteral("text now"));
    QVERIFY(server.waitLine(QStringLiteral("AGENT clipboard-grab")).endsWith(QLatin1String("utf8")));
    server.command("request-clipboard png");
    QCOMPARE(server.waitLine(QStringLiteral("AGENT clipboard png")),
             QStringLiteral("AGENT clipboard png 0 bytes fnv1a=cbf29ce484222325"));
}

// The shell's bridge between the local clipboard (QClipboard, offscreen platform) and the
// session: a guest PNG lands as an image on this machine, and a local image reaches the guest
// as PNG, both encoded/decoded off the GUI thread.
void TestTestServerSession::clipboardBridgeImagesBothWays() {
    QTemporaryDir dir;
    const QImage guestPicture = clipboardPicture(3);
    const QString file = dir.filePath(QStringLiteral("guest.png"));
    QVERIFY(guestPicture.save(file, "PNG"));
    TestServer server({});
    Session session(optionsFor(server.port()));
    ClipboardBridge bridge(QGuiApplication::clipboard());
    bridge.setSession(&session);
    QSignalSpy applied(&bridge, &ClipboardBridge::guestImageApplied);
    QSignalSpy offered(&bridge, &ClipboardBridge::localImageOffered);
    QVERIFY(startWithAgent(session, server));

    server.command("clipboard-file png " + file.toUtf8());
    QVERIFY(applied.wait(10000));
    QCOMPARE(QGuiApplication::clipboard()->image().convertToFormat(QImage::Format_RGB32), guestPicture);
    // Applying the guest's image must not bounce it back as a grab of ours.
    QVERIFY(server.waitLine(QStringLiteral("AGENT clipboard-grab"), 500).isEmpty());

    const QImage localPicture = clipboardPicture(4);
    QGuiApplication::clipboard()->setImage(localPicture);
    QVERIFY(offered.wait(10000));
    QVERIFY(server.waitLine(QStringLiteral("AGENT clipboard-grab")).endsWith(QLatin1String("png")));
    server.command("request-clipboard png");
    const QString line = server.waitLine(QStringLiteral("AGENT clipboard png"));
    QCOMPARE(line, QStringLiteral("AGENT clipboard png ") + binaryClipboardLine(pngOf(localPicture)));
}

// Text copied on this machine before connecting is offered to the guest once its agent is
// there, without a new copy.
void TestTestServerSession::clipboardBridgeOffersWhatWasCopiedBefore() {
    QGuiApplication::clipboard()->setText(QStringLiteral("copied before connecting"));
    TestServer server({});
    Session session(optionsFor(server.port()));
    ClipboardBridge bridge(QGuiApplication::clipboard());
    bridge.setSession(&session);
    QVERIFY(startWithAgent(session, server));
    const QString grab = server.waitLine(QStringLiteral("AGENT clipboard-grab"));
    QVERIFY2(grab.contains(QLatin1String("utf8")), qPrintable(grab));
    server.command("request-clipboard");
    QCOMPARE(server.waitLine(QStringLiteral("AGENT clipboard utf8")),
             QStringLiteral("AGENT clipboard utf8 copied before connecting"));
    QGuiApplication::clipboard()->clear();
}

void TestTestServerSession::clipboardBridgeRefusesHostileImages() {
    QString why;
    // A BMP whose header declares 60000 x 60000 pixels (10 GiB as 24-bit): refused from the
    // header, before any pixel is allocated.
    QByteArray huge;
    const auto le = [&huge](quint32 v, int bytes) {
        for (int i = 0; i < bytes; ++i)
            huge.append(char((v >> (8 * i)) & 0xff));
    };
    huge.append("BM");
    le(14 + 40 + 64, 4); // file size (a lie, like the rest)
    le(0, 4);
    le(14 + 40, 4); // pixel data offset
    le(40, 4);      // BITMAPINFOHEADER
    le(60000, 4);
    le(60000, 4);
    le(1, 2);
    le(24, 2);
    le(0, 4); // BI_RGB
    le(0, 4);
    le(2835, 4);
    le(2835, 4);
    le(0, 4);
    le(0, 4);
    huge.append(64, '\x7f');
    QVERIFY(ClipboardBridge::decodeGuestImage(huge, &why).isNull());
    QVERIFY2(why.contains(QLatin1String("refused")), qPrintable(why));
    // A real PNG one pixel wider than the limit: refused by our check on the header's size.
    QImage wide(ClipboardBridge::kMaxImageSide + 1, 1, QImage::Format_RGB32);
    wide.fill(Qt::red);
    QVERIFY(ClipboardBridge::decodeGuestImage(pngOf(wide), &why).isNull());
    QCOMPARE(why, QStringLiteral("image size %1x1 refused").arg(ClipboardBridge::kMaxImageSide + 1));
    QVERIFY(ClipboardBridge::decodeGuestImage(QByteArray(100, 'x'), &why).isNull());
    QVERIFY(ClipboardBridge::decodeGuestImage(pngOf(clipboardPicture(6)).left(60), &why).isNull());
    QVERIFY(!ClipboardBridge::decodeGuestImage(pngOf(clipboardPicture(6)), &why).isNull());
}

// The clipboard bridge needs a QGuiApplication; the offscreen platform gives it without a display.
int main(int argc, char** argv) {
    qputenv("QT_QPA_PLATFORM", "offscreen");
    QGuiApplication app(argc, argv);
    TestTestServerSession t;
    return QTest::qExec(&t, argc, argv);
}
#include "test_testserver_session.moc"
