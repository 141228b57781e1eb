#include "Session.h"
#include "TestUtil.h"
#include "common/SurfaceImage.h"

#include <QProcess>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>
#include <spice/enums.h>

using namespace saffron;

namespace {

// One saffron-test-server process, talked to over stdin/stdout as its README describes.
class TestServer {
public:
    explicit TestServer(QStringList args) {
        proc_.setProgram(qEnvironmentVariable("SAFFRON_TEST_SERVER"));
        proc_.setArguments(QStringList{QStringLiteral("--port"), QStringLiteral("0")} + args);
        proc_.setProcessChannelMode(QProcess::SeparateChannels);
        proc_.start();
    }
    ~TestServer() {
        if (proc_.state() != QProcess::NotRunning) {
            command("quit");
            if (!proc_.waitForFinished(5000))
                proc_.kill();
            proc_.waitForFinished();
        }
    }
    // Waits for a stdout line starting with `prefix`; returns it.
    QString waitLine(const QString& prefix, int ms = 20000) {
        QDeadlineTimer deadline(ms);
        while (!deadline.hasExpired()) {
            while (proc_.canReadLine()) {
                const QString line = QString::fromUtf8(proc_.readLine()).trimmed();
                lines_ << line;
                if (line.startsWith(prefix))
                    return line;
            }
            QTest::qWait(20);
        }
        return {};
    }
    void command(const QByteArray& c) { proc_.write(c + '\n'); }
    quint16 port() {
        const QString ready = waitLine(QStringLiteral("READY"));
        const auto m = QRegularExpression(QStringLiteral("port=(\\d+)")).match(ready);
        return quint16(m.captured(1).toUInt());
    }
    QStringList lines() const { return lines_; }

private:
    QProcess proc_;
    QStringList lines_;
};

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
    QSignalSpy marked(&session, &Session::displayMarked);
    QSignalSpy agent(&session, &Session::agentConnectedChanged);
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
    QSignalSpy agent(&session, &Session::agentConnectedChanged);
    QSignalSpy grabbed(&session, &Session::guestClipboardGrabbed);
    QSignalSpy text(&session, &Session::guestClipboardText);
    session.start();
    QVERIFY(agent.wait(20000));
    QVERIFY(!server.waitLine(QStringLiteral("AGENT announce-capabilities")).isEmpty());
    server.command("clipboard Grüße from the guest\\nline two");
    QVERIFY(grabbed.wait(10000));
    session.requestGuestClipboard();
    QVERIFY(text.wait(10000));
    QCOMPARE(text.first().first().toString(), QStringLiteral("Grüße from the guest\nline two"));
}

void TestTestServerSession::clipboardClientToGuest() {
    TestServer server({});
    Session session(optionsFor(server.port()));
    QSignalSpy agent(&session, &Session::agentConnectedChanged);
    session.start();
    QVERIFY(agent.wait(20000));
    QVERIFY(!server.waitLine(QStringLiteral("AGENT announce-capabilities")).isEmpty());
    // Possibly before the agent's capabilities reached the client: it then offers the text as
    // soon as they do.
    session.setClientClipboardText(QStringLiteral("from saffron ✓"));
    const QString grab = server.waitLine(QStringLiteral("AGENT clipboard-grab"));
    QVERIFY2(grab.contains(QLatin1String("utf8")), qPrintable(grab));
    server.command("request-clipboard");
    const QString data = server.waitLine(QStringLiteral("AGENT clipboard utf8"));
    QVERIFY2(data.startsWith(QLatin1String("AGENT clipboard utf8 from saffron ")), qPrintable(data));
}

QTEST_GUILESS_MAIN(TestTestServerSession)
#include "test_testserver_session.moc"
