// Smoke test of saffron-test-server against nothing but a TCP socket: it must listen, answer
// a SPICE link request for the main channel (spice/protocol.h SpiceLinkHeader +
// SpiceLinkMess -> SpiceLinkReply), render each workload's first frames into its primary
// surface exactly as --dump-expected predicts, and exit cleanly.

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
        QTest::newRow("static") << "static"
                                << "1024x768" << 1;
        QTest::newRow("photo") << "photo"
                               << "640x480" << 1;
        QTest::newRow("scroll") << "scroll"
                                << "320x200" << 12;
        QTest::newRow("cursor") << "cursor"
                                << "256x192" << 3;
        QTest::newRow("video") << "video"
                               << "320x240" << 5;
    }

    void renderedSurfaceMatchesExpected() {
        QFETCH(QString, workload);
        QFETCH(QString, size);
        QFETCH(int, frames);
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const QStringList common{QStringLiteral("--workload"), workload,
                                 QStringLiteral("--size"),     size,
                                 QStringLiteral("--frames"),   QString::number(frames)};

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
