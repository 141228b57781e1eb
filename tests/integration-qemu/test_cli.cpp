// saffron-cli against QEMU, as an administrator or a script would use it.
#include "QemuInstance.h"
#include "TestUtil.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

using namespace saffron::test;

namespace {
QString cli;

struct Run {
    int exitCode = -1;
    bool crashed = false;
    QByteArray out;
    QByteArray err;
    // For failure messages: how it ended and the end of stderr (where a sanitizer report or
    // the final error is; QTest truncates long messages).
    QByteArray why() const {
        return (crashed ? QByteArray("crashed; ") : "exit " + QByteArray::number(exitCode) + "; ") +
               "stderr ends: " + err.right(700);
    }
};

Run runCli(const QStringList& args) {
    QProcess p;
    p.start(cli, args);
    Run r;
    if (!p.waitForFinished(60000)) {
        p.kill();
        p.waitForFinished();
    }
    r.exitCode = p.exitCode();
    r.crashed = p.exitStatus() == QProcess::CrashExit;
    r.out = p.readAllStandardOutput();
    r.err = p.readAllStandardError();
    return r;
}

QJsonObject lastJsonLine(const QByteArray& out) {
    const QList<QByteArray> lines = out.trimmed().split('\n');
    return QJsonDocument::fromJson(lines.last()).object();
}
} // namespace

class TestCli : public QObject {
    Q_OBJECT
private slots:
    void initTestCase() {
        cli = qEnvironmentVariable("SAFFRON_CLI");
        QVERIFY2(QFile::exists(cli), "SAFFRON_CLI must name the saffron-cli binary");
        QVERIFY2(qemu.start(), qPrintable(qemu.errorString()));
        QVERIFY(!qemu.waitForBiosScreen().isNull());
        uri = QStringLiteral("spice://127.0.0.1:%1").arg(qemu.port());
    }

    // spice-server takes a moment to tear down the previous client's channels after its process
    // exits; a new client arriving meanwhile may have a channel closed under it. Each case starts
    // once HMP lists no channel (bounded: a leftover is then the case's own problem to report).
    void init() {
        waitUntil(
            [&] {
                return !qemu.qmp()
                            .humanMonitorCommand(QStringLiteral("info spice"))
                            .contains(QLatin1String("channel name:"));
            },
            10000);
    }

    void infoJson() {
        const Run r = runCli({QStringLiteral("info"), uri, QStringLiteral("--json")});
        QVERIFY2(r.exitCode == 0 && !r.crashed, r.why().constData());
        const QJsonObject o = lastJsonLine(r.out);
        QCOMPARE(o[QStringLiteral("surfaceWidth")].toInt(), 720);
        QCOMPARE(o[QStringLiteral("surfaceHeight")].toInt(), 400);
        QVERIFY(o[QStringLiteral("serverName")].toString().startsWith(QLatin1String("QEMU")));
        QVERIFY(o[QStringLiteral("firstFrameMs")].toInt() > 0);
        QStringList names;
        for (const auto& c : o[QStringLiteral("channels")].toArray())
            names << c.toObject()[QStringLiteral("name")].toString();
        QVERIFY(names.contains(QLatin1String("main:0")) && names.contains(QLatin1String("display:0")));
    }

    void screenshotEqualsScreendump() {
        QTemporaryDir dir;
        const QString png = dir.filePath(QStringLiteral("shot.png"));
        // SeaBIOS blinks its text cursor, and the screendump is taken a process lifetime after our
        // screenshot: a few tries usually land in the same phase. When none does (a loaded
        // machine stretches every run), the only difference allowed is inside one 9x16 text cell.
        int best = INT_MAX;
        QRect bestBox;
        for (int attempt = 0; attempt < 10 && best != 0; ++attempt) {
            const Run r = runCli({QStringLiteral("screenshot"), uri, png});
            QVERIFY2(r.exitCode == 0 && !r.crashed, r.why().constData());
            const QImage dump = qemu.qmp().screendump().convertToFormat(QImage::Format_RGB32);
            const QImage ours = QImage(png).convertToFormat(QImage::Format_RGB32);
            QCOMPARE(ours.size(), dump.size());
            const int differing = differingPixels(ours, dump);
            if (differing < best) {
                best = differing;
                bestBox = QRect();
                for (int y = 0; y < ours.height(); ++y)
                    for (int x = 0; x < ours.width(); ++x)
                        if ((ours.pixel(x, y) ^ dump.pixel(x, y)) & 0xffffffu)
                            bestBox |= QRect(x, y, 1, 1);
            }
        }
        QVERIFY2(best == 0 || (bestBox.width() <= 9 && bestBox.height() <= 16),
                 qPrintable(QStringLiteral("%1 pixels differ in %2,%3 %4x%5")
                                .arg(best)
                                .arg(bestBox.x())
                                .arg(bestBox.y())
                                .arg(bestBox.width())
                                .arg(bestBox.height())));
    }

    void stats() {
        const Run r = runCli({QStringLiteral("stats"), uri, QStringLiteral("--seconds"), QStringLiteral("2"),
                              QStringLiteral("--json")});
        QVERIFY2(r.exitCode == 0 && !r.crashed, r.why().constData());
        const QJsonObject o = lastJsonLine(r.out);
        QVERIFY(o[QStringLiteral("seconds")].toDouble() > 0);
        QVERIFY(o.contains(QStringLiteral("framesPerSecond")));
        QVERIFY(o.contains(QStringLiteral("bytesPerSecond")));
        QVERIFY(o.contains(QStringLiteral("decodeMsPerDraw")));
    }

    void vvFileIsDeletedAfterUse() {
        QTemporaryDir dir;
        const QString vv = dir.filePath(QStringLiteral("console.vv"));
        QFile f(vv);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(QStringLiteral(
                    "[virt-viewer]\ntype=spice\nhost=127.0.0.1\nport=%1\ndelete-this-file=1\ntitle=test vm\n")
                    .arg(qemu.port())
                    .toUtf8());
        f.close();
        const Run r = runCli({QStringLiteral("info"), vv});
        QVERIFY2(r.exitCode == 0 && !r.crashed, r.why().constData());
        QVERIFY(r.out.contains("surface:       720x400"));
        QVERIFY(!QFile::exists(vv));
    }

    void badTargetsGiveClearErrors() {
        Run r = runCli({QStringLiteral("info"), QStringLiteral("spice://127.0.0.1:1")});
        QVERIFY(r.exitCode != 0);
        QVERIFY2(r.err.contains("refused"), r.err.constData());
        QTemporaryDir dir;
        const QString vv = dir.filePath(QStringLiteral("bad.vv"));
        QFile f(vv);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write("[virt-viewer]\ntype=spice\nhost=127.0.0.1\nprot=5900\n");
        f.close();
        r = runCli({QStringLiteral("info"), vv});
        QCOMPARE(r.exitCode, 2);
        QVERIFY2(r.err.contains("prot"), r.err.constData());
    }

private:
    QemuInstance qemu;
    QString uri;
};

QTEST_GUILESS_MAIN(TestCli)
#include "test_cli.moc"
