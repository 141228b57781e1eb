// Smoke test of saffron-test-server against nothing but a TCP socket: it must listen, answer
// a SPICE link request for the main channel (spice/protocol.h SpiceLinkHeader +
// SpiceLinkMess -> SpiceLinkReply), render each workload's first frames into its primary
// surface exactly as --dump-expected predicts, and exit cleanly.

#include "Workload.h"
#include "wire/Reader.h"
#include "wire/Writer.h"

#include <QFile>
#include <QProcess>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QtTest>
#include <memory>
#include <span>
#include <spice/enums.h>
#include <spice/protocol.h>

namespace {

constexpr int kWaitMs = 60000; // a generous bound for a loaded, shared machine

// The server process with line-based access to its stdout.
class ServerProcess {
public:
    ~ServerProcess() {
        if (process_.state() != QProcess::NotRunning) {
            process_.kill();
            process_.waitForFinished(kWaitMs);
        }
    }

    bool start(const QStringList& args) {
        process_.setProcessChannelMode(QProcess::ForwardedErrorChannel);
        process_.start(QStringLiteral(SAFFRON_TEST_SERVER), args);
        if (!process_.waitForStarted(kWaitMs))
            return false;
        const QString ready = waitForLine("READY ");
        const auto match = QRegularExpression(QStringLiteral("port=(\\d+)")).match(ready);
        if (!match.hasMatch())
            return false;
        port_ = match.captured(1).toUShort();
        return true;
    }

    // Returns the first line starting with `prefix` (earlier lines are skipped), or an empty
    // string if the process ends or stays silent.
    QString waitForLine(const QString& prefix) {
        for (;;) {
            while (process_.canReadLine()) {
                const QString line = QString::fromUtf8(process_.readLine()).trimmed();
                if (line.startsWith(prefix))
                    return line;
            }
            if (process_.state() == QProcess::NotRunning || !process_.waitForReadyRead(kWaitMs))
                return {};
        }
    }

    void send(const QByteArray& line) {
        process_.write(line + '\n');
        process_.waitForBytesWritten(kWaitMs);
    }

    // Sends "quit" and returns the exit code (-1 if it did not exit normally).
    int quit() {
        send("quit");
        if (!process_.waitForFinished(kWaitMs))
            return -1;
        return process_.exitStatus() == QProcess::NormalExit ? process_.exitCode() : -1;
    }

    quint16 port() const { return port_; }

private:
    QProcess process_;
    quint16 port_ = 0;
};

QByteArray toBytes(const std::vector<uint8_t>& v) {
    return QByteArray(reinterpret_cast<const char*>(v.data()), static_cast<qsizetype>(v.size()));
}

// Link request for the main channel, connection id 0, with the auth-selection and
// mini-header common capabilities (what every current client sends).
QByteArray mainLinkRequest() {
    saffron::Writer body;
    body.u32(0);                 // connection_id: new session
    body.u8(SPICE_CHANNEL_MAIN); // channel_type
    body.u8(0);                  // channel_id
    body.u32(1);                 // num_common_caps
    body.u32(0);                 // num_channel_caps
    body.u32(18);                // caps_offset: right after this 18-byte SpiceLinkMess
    body.u32((1u << SPICE_COMMON_CAP_PROTOCOL_AUTH_SELECTION) | (1u << SPICE_COMMON_CAP_MINI_HEADER));
    saffron::Writer header;
    header.u32(SPICE_MAGIC).u32(SPICE_VERSION_MAJOR).u32(SPICE_VERSION_MINOR);
    header.u32(static_cast<uint32_t>(body.size()));
    return toBytes(header.data()) + toBytes(body.data());
}

bool readExactly(QTcpSocket& socket, qsizetype n, QByteArray& out) {
    out.clear();
    while (out.size() < n) {
        if (socket.bytesAvailable() == 0 && !socket.waitForReadyRead(kWaitMs))
            return false;
        out += socket.read(n - out.size());
    }
    return true;
}

std::span<const uint8_t> asSpan(const QByteArray& b) {
    return {reinterpret_cast<const uint8_t*>(b.constData()), static_cast<size_t>(b.size())};
}

QByteArray readFile(const QString& path) {
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly))
        return {};
    return f.readAll();
}

// A binary PPM as written by --dump-expected / dump-surface ("P6\nW H\n255\n" + RGB).
saffron::Pixmap parsePpm(const QByteArray& data) {
    const QList<QByteArray> fields = data.left(64).split('\n');
    if (fields.size() < 4 || fields[0] != "P6" || fields[2] != "255")
        return {};
    const QList<QByteArray> size = fields[1].split(' ');
    if (size.size() != 2)
        return {};
    const int w = size[0].toInt();
    const int h = size[1].toInt();
    const qsizetype offset = fields[0].size() + fields[1].size() + fields[2].size() + 3;
    if (w <= 0 || h <= 0 || data.size() != offset + qsizetype(w) * h * 3)
        return {};
    saffron::Pixmap p(w, h);
    const auto* rgb = reinterpret_cast<const uint8_t*>(data.constData() + offset);
    for (size_t i = 0; i < p.pixels.size(); ++i)
        p.pixels[i] =
            0xFF000000u | uint32_t(rgb[i * 3]) << 16 | uint32_t(rgb[i * 3 + 1]) << 8 | rgb[i * 3 + 2];
    return p;
}

// Pixels that differ inside and outside `area`.
std::pair<int, int> differences(const saffron::Pixmap& a, const saffron::Pixmap& b,
                                const saffron::testserver::Rect& area) {
    int inside = 0;
    int outside = 0;
    for (int y = 0; y < a.height; ++y)
        for (int x = 0; x < a.width; ++x)
            if (a.at(x, y) != b.at(x, y))
                ++(x >= area.left && x < area.right && y >= area.top && y < area.bottom ? inside : outside);
    return {inside, outside};
}

int runExpected(const QStringList& args) {
    QProcess p;
    p.setProcessChannelMode(QProcess::ForwardedChannels);
    p.start(QStringLiteral(SAFFRON_TEST_SERVER), args);
    if (!p.waitForFinished(kWaitMs) || p.exitStatus() != QProcess::NormalExit)
        return -1;
    return p.exitCode();
}

} // namespace

class TestServerSmoke : public QObject {
    Q_OBJECT

private slots:
    void linkReply_data() {
        QTest::addColumn<QStringList>("extraArgs");
        QTest::newRow("no-auth") << QStringList();
        QTest::newRow("password") << QStringList{QStringLiteral("--password"), QStringLiteral("s3cret")};
    }

    void linkReply() {
        QFETCH(QStringList, extraArgs);
        ServerProcess server;
        QVERIFY(server.start(QStringList{QStringLiteral("--port"), QStringLiteral("0")} + extraArgs));

        QTcpSocket socket;
        socket.connectToHost(QStringLiteral("127.0.0.1"), server.port());
        QVERIFY(socket.waitForConnected(kWaitMs));
        socket.write(mainLinkRequest());
        QVERIFY(socket.waitForBytesWritten(kWaitMs));

        QByteArray headerBytes;
        QVERIFY(readExactly(socket, 16, headerBytes));
        saffron::Reader header(asSpan(headerBytes));
        QCOMPARE(header.u32(), uint32_t(SPICE_MAGIC));
        QCOMPARE(header.u32(), uint32_t(SPICE_VERSION_MAJOR));
        QCOMPARE(header.u32(), uint32_t(SPICE_VERSION_MINOR));
        const uint32_t size = header.u32();
        QVERIFY(size >= 4 + SPICE_TICKET_PUBKEY_BYTES + 12);
        QVERIFY(size < 4096);

        QByteArray replyBytes;
        QVERIFY(readExactly(socket, size, replyBytes));
        saffron::Reader reply(asSpan(replyBytes));
        QCOMPARE(reply.u32(), uint32_t(SPICE_LINK_ERR_OK));
        const auto pubKey = reply.bytes(SPICE_TICKET_PUBKEY_BYTES);
        // An RSA public key in DER: a SEQUENCE tag first.
        QCOMPARE(pubKey[0], uint8_t(0x30));
        const uint32_t commonCaps = reply.u32();
        const uint32_t channelCaps = reply.u32();
        const uint32_t capsOffset = reply.u32();
        QVERIFY(commonCaps >= 1);
        saffron::Reader caps = reply.at(capsOffset);
        const auto words = caps.array(uint64_t(commonCaps) + channelCaps, 4);
        QCOMPARE(words.size(), size_t(commonCaps + channelCaps) * 4);
        // The server offers the spice auth mechanism selection we asked for.
        QVERIFY(saffron::Reader(words).u32() & (1u << SPICE_COMMON_CAP_PROTOCOL_AUTH_SELECTION));

        socket.close();
        QCOMPARE(server.quit(), 0);
    }

    // The server's own rendering of our QXL commands (read back with spice_qxl_update_area)
    // must equal the software replay behind --dump-expected, pixel for pixel.
    void renderedSurfaceMatchesExpected_data() {
        QTest::addColumn<QString>("workload");
        QTest::addColumn<QString>("size");
        QTest::addColumn<int>("frames");
        QTest::addColumn<QStringList>("extraArgs");
        QTest::newRow("static") << "static"
                                << "1024x768" << 1 << QStringList();
        QTest::newRow("photo") << "photo"
                               << "640x480" << 1 << QStringList();
        QTest::newRow("scroll") << "scroll"
                                << "320x200" << 12 << QStringList();
        QTest::newRow("cursor") << "cursor"
                                << "256x192" << 3 << QStringList();
        QTest::newRow("video") << "video"
                               << "320x240" << 5 << QStringList();
        QTest::newRow("video-moving") << "video-moving"
                                      << "320x240" << 6 << QStringList{"--fps", "60"};
        QTest::newRow("video-moving rect") << "video-moving"
                                           << "320x240" << 4 << QStringList{"--video-rect", "10,20,200,100"};
        QTest::newRow("video-noise fullscreen") << "video-noise"
                                                << "256x192" << 3 << QStringList{"--video-fullscreen"};
    }

    void renderedSurfaceMatchesExpected() {
        QFETCH(QString, workload);
        QFETCH(QString, size);
        QFETCH(int, frames);
        QFETCH(QStringList, extraArgs);
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const QStringList common = QStringList{QStringLiteral("--workload"), workload,
                                               QStringLiteral("--size"),     size,
                                               QStringLiteral("--frames"),   QString::number(frames)} +
                                   extraArgs;

        ServerProcess server;
        QVERIFY(server.start(QStringList{QStringLiteral("--port"), QStringLiteral("0")} + common));
        QVERIFY(!server.waitForLine(QStringLiteral("FRAME %1").arg(frames)).isEmpty());
        const QString actual = dir.filePath(QStringLiteral("actual.ppm"));
        server.send("dump-surface " + actual.toUtf8());
        QCOMPARE(server.waitForLine(QStringLiteral("DUMPED")), QStringLiteral("DUMPED ") + actual);
        QCOMPARE(server.quit(), 0);

        const QString expected = dir.filePath(QStringLiteral("expected.ppm"));
        QCOMPARE(runExpected(common + QStringList{QStringLiteral("--dump-expected"), expected}), 0);

        const QByteArray want = readFile(expected);
        const QByteArray got = readFile(actual);
        const QByteArray wantHeader = "P6\n" + size.toUtf8().replace('x', ' ') + "\n255\n";
        QVERIFY(want.startsWith(wantHeader));
        QCOMPARE(got.size(), want.size());
        if (got != want) {
            qsizetype firstDiff = 0;
            while (got[firstDiff] == want[firstDiff])
                ++firstDiff;
            QFAIL(qPrintable(
                QStringLiteral("surface differs from the expected image at byte %1").arg(firstDiff)));
        }
    }

    // --dump-expected of the new video workloads: a pure function of the frame number, the
    // whole picture changing inside the video area only, with the frame number readable
    // from its frame code. No server, no codec.
    void videoWorkloadsAreDeterministic_data() {
        QTest::addColumn<QString>("workload");
        QTest::addColumn<QStringList>("extraArgs");
        QTest::addColumn<QString>("rect"); // x,y,w,h the workload must use
        QTest::newRow("moving centre") << "video-moving" << QStringList() << "80,60,160,120";
        QTest::newRow("moving rect") << "video-moving" << QStringList{"--video-rect", "8,16,300,200"}
                                     << "8,16,300,200";
        QTest::newRow("noise centre") << "video-noise" << QStringList() << "80,60,160,120";
        QTest::newRow("noise fullscreen")
            << "video-noise" << QStringList{"--video-fullscreen"} << "0,0,320,240";
    }

    void videoWorkloadsAreDeterministic() {
        QFETCH(QString, workload);
        QFETCH(QStringList, extraArgs);
        QFETCH(QString, rect);
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const auto dump = [&](int frames, const QString& name) {
            const QString path = dir.filePath(name);
            const QStringList args = QStringList{QStringLiteral("--workload"),      workload,
                                                 QStringLiteral("--size"),          QStringLiteral("320x240"),
                                                 QStringLiteral("--frames"),        QString::number(frames),
                                                 QStringLiteral("--dump-expected"), path} +
                                     extraArgs;
            return runExpected(args) == 0 ? parsePpm(readFile(path)) : saffron::Pixmap();
        };
        const QStringList r = rect.split(',');
        const saffron::testserver::Rect area{r[0].toInt(), r[1].toInt(), r[0].toInt() + r[2].toInt(),
                                             r[1].toInt() + r[3].toInt()};

        const saffron::Pixmap first = dump(37, QStringLiteral("a.ppm"));
        const saffron::Pixmap again = dump(37, QStringLiteral("b.ppm"));
        const saffron::Pixmap next = dump(38, QStringLiteral("c.ppm"));
        const saffron::Pixmap later = dump(1000, QStringLiteral("d.ppm"));
        QCOMPARE(first.width, 320);
        QCOMPARE(first.height, 240);
        QVERIFY(first.pixels == again.pixels);
        QCOMPARE(next.width, 320);
        QCOMPARE(later.width, 320);

        // Frames differ, and only inside the video area.
        const auto [inside, outside] = differences(first, next, area);
        QCOMPARE(outside, 0);
        QVERIFY2(inside > area.width() * area.height() / 20, qPrintable(QString::number(inside)));
        QCOMPARE(differences(first, later, area).second, 0);

        // The frame code tells which frame a picture shows.
        QCOMPARE(saffron::testserver::readFrameCode(first, area), std::optional<int>(37));
        QCOMPARE(saffron::testserver::readFrameCode(next, area), std::optional<int>(38));
        QCOMPARE(saffron::testserver::readFrameCode(later, area), std::optional<int>(1000));
    }

    void badVideoOptions_data() {
        QTest::addColumn<QStringList>("args");
        QTest::addColumn<QString>("message");
        QTest::newRow("rect outside") << QStringList{"--size", "320x240", "--video-rect", "300,0,40,40"}
                                      << "is not inside the 320x240 surface";
        QTest::newRow("rect empty") << QStringList{"--video-rect", "0,0,0,10"} << "bad video rectangle";
        QTest::newRow("rect short") << QStringList{"--video-rect", "0,0,10"} << "bad video rectangle";
        QTest::newRow("rect and fullscreen")
            << QStringList{"--video-fullscreen", "--video-rect", "0,0,10,10"} << "exclude each other";
        QTest::newRow("spice vp8") << QStringList{"--video-codecs", "gstreamer:vp8;spice:vp8"}
                                   << "built-in encoder only does spice:mjpeg";
        QTest::newRow("fps 0") << QStringList{"--fps", "0"} << "bad frame rate";
        QTest::newRow("fps 61") << QStringList{"--fps", "61"} << "bad frame rate";
    }

    void badVideoOptions() {
        QFETCH(QStringList, args);
        QFETCH(QString, message);
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const QString path = dir.filePath(QStringLiteral("x.ppm"));
        QProcess p;
        p.start(QStringLiteral(SAFFRON_TEST_SERVER),
                args + QStringList{"--workload", "video-moving", "--dump-expected", path});
        QVERIFY(p.waitForFinished(kWaitMs));
        QCOMPARE(p.exitStatus(), QProcess::NormalExit);
        QCOMPARE(p.exitCode(), 2);
        const QString error = QString::fromUtf8(p.readAllStandardError());
        QVERIFY2(error.contains(message), qPrintable(error));
        QVERIFY(!QFile::exists(path));
    }

    // The VIDEO line reports where the video plays, also after a resize that leaves the
    // requested rectangle outside the surface (then the centre quarter is used).
    void videoLineFollowsResize() {
        ServerProcess server;
        QVERIFY(server.start({"--port", "0", "--size", "640x480", "--workload", "video-moving",
                              "--video-rect", "400,300,200,150", "--fps", "30", "--frames", "2"}));
        QCOMPARE(server.waitForLine(QStringLiteral("VIDEO")),
                 QStringLiteral("VIDEO rect=400,300,200,150 fps=30"));
        server.send("resize 320x240");
        QCOMPARE(server.waitForLine(QStringLiteral("RESIZED")), QStringLiteral("RESIZED 320x240"));
        QCOMPARE(server.waitForLine(QStringLiteral("VIDEO")),
                 QStringLiteral("VIDEO rect=80,60,160,120 fps=30"));
        QCOMPARE(server.quit(), 0);
    }

    void statusAndResizeCommands() {
        ServerProcess server;
        QVERIFY(server.start({QStringLiteral("--port"), QStringLiteral("0"), QStringLiteral("--size"),
                              QStringLiteral("640x480")}));
        server.send("resize 800x600");
        QCOMPARE(server.waitForLine(QStringLiteral("RESIZED")), QStringLiteral("RESIZED 800x600"));
        server.send("resize 800x600");
        QCOMPARE(server.waitForLine(QStringLiteral("RESIZED")), QStringLiteral("RESIZED 800x600 unchanged"));
        server.send("status");
        QCOMPARE(server.waitForLine(QStringLiteral("STATUS")).section(' ', 1, 2),
                 QStringLiteral("frame=1 size=800x600"));
        server.send("bogus");
        QVERIFY(server.waitForLine(QStringLiteral("ERROR")).contains(QStringLiteral("bogus")));
        QCOMPARE(server.quit(), 0);
    }
};

QTEST_GUILESS_MAIN(TestServerSmoke)
#include "test_server_smoke.moc"
