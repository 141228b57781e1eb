// saffron-cli: headless access to a SPICE server for administrators, tests and benchmarks.
//   saffron-cli info URI|FILE.vv            channels, capabilities, server, surface size
//   saffron-cli screenshot URI|FILE.vv OUT  the first complete frame, as PNG
//   saffron-cli stats URI|FILE.vv --seconds N
#include "Session.h"
#include "SessionRates.h"
#include "common/ConnectionTarget.h"
#include "common/EngineOptions.h"
#include "common/StatsLog.h"
#include "common/SurfaceImage.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QElapsedTimer>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTimer>
#include <chrono>
#include <cstdio>
#include <spice/enums.h>

using namespace saffron;

namespace {

void out(const QString& s) {
    std::fputs(qPrintable(s + QLatin1Char('\n')), stdout);
    std::fflush(stdout);
}

void fatal(const QString& s) {
    std::fputs(qPrintable(QStringLiteral("saffron-cli: ") + s + QLatin1Char('\n')), stderr);
    std::fflush(stderr);
}

QString capsText(const std::vector<uint32_t>& words) {
    QStringList bits;
    for (size_t w = 0; w < words.size(); ++w)
        for (int b = 0; b < 32; ++b)
            if (words[w] >> b & 1)
                bits << QString::number(w * 32 + size_t(b));
    return bits.join(QLatin1Char(','));
}

QJsonObject infoJson(const SessionInfo& info) {
    QJsonObject o;
    o[QStringLiteral("connected")] = info.connected;
    o[QStringLiteral("sessionId")] = qint64(info.sessionId);
    o[QStringLiteral("serverName")] = info.serverName;
    o[QStringLiteral("serverUuid")] = info.serverUuid;
    o[QStringLiteral("mouseMode")] =
        info.mouseMode == SPICE_MOUSE_MODE_CLIENT ? QStringLiteral("client") : QStringLiteral("server");
    o[QStringLiteral("agentConnected")] = info.agentConnected;
    o[QStringLiteral("surfaceWidth")] = info.primarySize.width();
    o[QStringLiteral("surfaceHeight")] = info.primarySize.height();
    QJsonArray channels;
    for (const ChannelInfo& c : info.channels) {
        QJsonObject ch;
        ch[QStringLiteral("name")] = c.name;
        ch[QStringLiteral("state")] = c.state;
        ch[QStringLiteral("tls")] = c.tls;
        ch[QStringLiteral("commonCaps")] = capsText(c.commonCaps);
        ch[QStringLiteral("channelCaps")] = capsText(c.channelCaps);
        ch[QStringLiteral("bytesIn")] = qint64(c.stats.bytesIn);
        ch[QStringLiteral("messagesIn")] = qint64(c.stats.messagesIn);
        ch[QStringLiteral("badMessages")] = qint64(c.stats.badMessages);
        channels.append(ch);
    }
    o[QStringLiteral("channels")] = channels;
    o[QStringLiteral("notOpened")] = QJsonArray::fromStringList(info.unsupportedChannels);
    return o;
}

void printInfo(const SessionInfo& info) {
    out(QStringLiteral("server:        %1 %2")
            .arg(info.serverName.isEmpty() ? QStringLiteral("(no name)") : info.serverName, info.serverUuid));
    out(QStringLiteral("session id:    %1").arg(info.sessionId));
    out(QStringLiteral("mouse mode:    %1")
            .arg(info.mouseMode == SPICE_MOUSE_MODE_CLIENT ? QStringLiteral("client")
                                                           : QStringLiteral("server")));
    out(QStringLiteral("agent:         %1")
            .arg(info.agentConnected ? QStringLiteral("connected") : QStringLiteral("none")));
    out(QStringLiteral("surface:       %1x%2").arg(info.primarySize.width()).arg(info.primarySize.height()));
    for (const ChannelInfo& c : info.channels)
        out(QStringLiteral("channel %1 %2%3 common-caps=[%4] caps=[%5]")
                .arg(c.name, -12)
                .arg(c.state)
                .arg(c.tls ? QStringLiteral(" tls") : QString())
                .arg(capsText(c.commonCaps), capsText(c.channelCaps)));
    if (!info.unsupportedChannels.isEmpty())
        out(QStringLiteral("not opened:    %1").arg(info.unsupportedChannels.join(QLatin1Char(' '))));
}

} // namespace

int main(int argc, char** argv) {
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("saffron-cli"));
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("Headless SPICE client: info, screenshot, stats"));
    parser.addHelpOption();
    parser.addPositionalArgument(QStringLiteral("command"), QStringLiteral("info | screenshot | stats"));
    parser.addPositionalArgument(QStringLiteral("target"), QStringLiteral("spice:// URI or .vv file"));
    parser.addPositionalArgument(QStringLiteral("output"), QStringLiteral("PNG file (screenshot)"));
    QCommandLineOption seconds(QStringLiteral("seconds"), QStringLiteral("stats: how long to measure"),
                               QStringLiteral("N"), QStringLiteral("10"));
    QCommandLineOption timeout(QStringLiteral("timeout"),
                               QStringLiteral("give up after N seconds (default 30)"), QStringLiteral("N"),
                               QStringLiteral("30"));
    QCommandLineOption settle(
        QStringLiteral("settle"),
        QStringLiteral("screenshot: wait until the screen is quiet for MS milliseconds"),
        QStringLiteral("MS"), QStringLiteral("0"));
    QCommandLineOption settleMax(
        QStringLiteral("settle-max"),
        QStringLiteral("screenshot: take it after MS milliseconds even if the screen still changes"),
        QStringLiteral("MS"), QStringLiteral("5000"));
    QCommandLineOption caFile(QStringLiteral("ca-file"), QStringLiteral("CA certificate(s) for TLS"),
                              QStringLiteral("PEM"));
    QCommandLineOption hostSubject(QStringLiteral("host-subject"),
                                   QStringLiteral("expected certificate subject"), QStringLiteral("SUBJECT"));
    QCommandLineOption json(QStringLiteral("json"), QStringLiteral("machine-readable output"));
    const EngineOptionSet engine;
    parser.addOptions({seconds, timeout, settle, settleMax, caFile, hostSubject, json});
    engine.addTo(parser);
    parser.process(app);

    const QStringList args = parser.positionalArguments();
    if (args.size() < 2) {
        parser.showHelp(2);
    }
    const QString command = args[0];
    if (command != QLatin1String("info") && command != QLatin1String("screenshot") &&
        command != QLatin1String("stats")) {
        fatal(QStringLiteral("unknown command \"%1\"").arg(command));
        return 2;
    }
    if (command == QLatin1String("screenshot") && args.size() < 3) {
        fatal(QStringLiteral("screenshot needs an output file"));
        return 2;
    }

    QString error;
    auto target = loadConnectionTarget(args[1], &error);
    if (!target) {
        fatal(error);
        return 2;
    }
    SessionOptions options = target->options;
    QString engineError;
    const std::optional<EngineOptions> engineOptions = engine.read(parser, &engineError);
    if (!engineOptions) {
        fatal(engineError);
        return 2;
    }
    engineOptions->applyTo(options);
    if (parser.isSet(caFile)) {
        options.caCertificates = QSslCertificate::fromPath(parser.value(caFile));
        if (options.caCertificates.isEmpty()) {
            fatal(QStringLiteral("no certificate in %1").arg(parser.value(caFile)));
            return 2;
        }
    }
    if (parser.isSet(hostSubject))
        options.hostSubject = parser.value(hostSubject);

    Session session(options);
    const auto statsLog = StatsLog::fromEnvironment([&session] { return &session; });
    QElapsedTimer clock;
    clock.start();
    int exitCode = 0;
    qint64 firstFrameMs = -1;
    auto finish = [&](int code) {
        exitCode = code;
        QTimer::singleShot(0, &app, [&app, code] { app.exit(code); });
    };

    QObject::connect(&session, &Session::disconnected, &app, [&](const QString& e) {
        fatal(e.isEmpty() ? QStringLiteral("server ended the session") : e);
        finish(1);
    });
    QTimer::singleShot(parser.value(timeout).toInt() * 1000, &app, [&] {
        fatal(QStringLiteral("timed out after %1 s").arg(parser.value(timeout)));
        finish(3);
    });

    // Quiet-period tracking for screenshots of screens that are still drawing.
    QTimer quiet;
    quiet.setSingleShot(true);
    const int settleMs = parser.value(settle).toInt();
    auto takeScreenshot = [&] {
        SurfacePtr surface = session.primarySurface();
        if (!surface) {
            fatal(QStringLiteral("no primary surface"));
            finish(1);
            return;
        }
        const QImage img = copySurface(*surface);
        if (!img.save(args[2], "PNG")) {
            fatal(QStringLiteral("cannot write %1").arg(args[2]));
            finish(1);
            return;
        }
        out(QStringLiteral("screenshot %1x%2 saved to %3 (first frame after %4 ms, saved after %5 ms)")
                .arg(img.width())
                .arg(img.height())
                .arg(args[2])
                .arg(firstFrameMs)
                .arg(clock.elapsed()));
        finish(0);
    };
    QObject::connect(&quiet, &QTimer::timeout, &app, takeScreenshot);

    quint64 updates = 0;
    QObject::connect(&session, &Session::primaryUpdated, &app, [&] {
        ++updates;
        if (firstFrameMs >= 0 && settleMs > 0)
            quiet.start(settleMs);
    });

    // info reports every channel linked (or failed): the session links inputs, cursor, sound and
    // USB only once the first picture is drawn, so it waits for them after the first frame.
    bool infoPrinted = false;
    qint64 firstFrameMonotonicNs = 0; // CLOCK_MONOTONIC, for benches timing from the spawn
    const auto printInfoWhenLinked = [&] {
        if (infoPrinted || firstFrameMs < 0)
            return;
        const SessionInfo info = session.info();
        for (const ChannelInfo& c : info.channels)
            if (c.state != QLatin1String("Ready") && c.state != QLatin1String("Closed"))
                return;
        infoPrinted = true;
        if (parser.isSet(json)) {
            QJsonObject o = infoJson(info);
            o[QStringLiteral("firstFrameMs")] = firstFrameMs;
            o[QStringLiteral("firstFrameMonotonicNs")] = firstFrameMonotonicNs;
            out(QString::fromUtf8(QJsonDocument(o).toJson(QJsonDocument::Compact)));
        } else {
            printInfo(info);
            out(QStringLiteral("first frame:   %1 ms").arg(firstFrameMs));
        }
        finish(0);
    };
    if (command == QLatin1String("info")) {
        QObject::connect(&session, &Session::channelReady, &app, printInfoWhenLinked);
        QObject::connect(&session, &Session::channelClosed, &app, printInfoWhenLinked);
    }

    QObject::connect(&session, &Session::displayMarked, &app, [&] {
        firstFrameMs = clock.elapsed();
        // steady_clock is CLOCK_MONOTONIC on Linux (libstdc++).
        firstFrameMonotonicNs = std::chrono::duration_cast<std::chrono::nanoseconds>(
                                    std::chrono::steady_clock::now().time_since_epoch())
                                    .count();
        if (command == QLatin1String("info")) {
            printInfoWhenLinked();
        } else if (command == QLatin1String("screenshot")) {
            if (settleMs > 0) {
                // A blinking text cursor never lets the screen go quiet: cap the wait.
                quiet.start(settleMs);
                QTimer::singleShot(parser.value(settleMax).toInt(), &quiet, [&] {
                    if (quiet.isActive()) {
                        quiet.stop();
                        takeScreenshot();
                    }
                });
            } else
                takeScreenshot();
        } else {
            const quint64 updatesAtStart = updates;
            const SessionInfo start = session.info();
            const int secs = std::max(1, parser.value(seconds).toInt());
            QElapsedTimer window;
            window.start();
            // Precise: a coarse timer may end the window up to 5% early.
            QTimer::singleShot(secs * 1000, Qt::PreciseTimer, &app, [&, updatesAtStart, start, window] {
                const SessionRates r = sessionRates(start, session.info(), double(window.elapsed()) / 1000.0);
                const double s = r.seconds;
                const quint64 frames = updates - updatesAtStart;
                const quint64 bytes = r.bytesIn;
                const quint64 draws = r.draws;
                QJsonObject o;
                o[QStringLiteral("seconds")] = s;
                o[QStringLiteral("frames")] = qint64(frames);
                o[QStringLiteral("framesPerSecond")] = double(frames) / s;
                o[QStringLiteral("bytes")] = qint64(bytes);
                o[QStringLiteral("bytesPerSecond")] = r.bytesPerSecond;
                o[QStringLiteral("draws")] = qint64(draws);
                o[QStringLiteral("drawsPerSecond")] = r.drawsPerSecond;
                o[QStringLiteral("streamFrames")] = qint64(r.streamFrames);
                o[QStringLiteral("decodeMs")] = double(r.decodeNs) / 1e6;
                o[QStringLiteral("decodeMsPerDraw")] = r.decodeMsPerDraw;
                o[QStringLiteral("firstFrameMs")] = firstFrameMs;
                // Video streams, moonlight-style: incoming/decoded/presented fps, drops by cause,
                // and where a frame's time goes (decode, queue, render, arrival to screen).
                const SessionRates::Video& rv = r.video;
                QJsonObject video;
                video[QStringLiteral("streams")] = qint64(rv.streams);
                video[QStringLiteral("receivedPerSecond")] = rv.receivedPerSecond;
                video[QStringLiteral("decodedPerSecond")] = rv.decodedPerSecond;
                video[QStringLiteral("presentedPerSecond")] = rv.presentedPerSecond;
                video[QStringLiteral("presented")] = qint64(rv.presented);
                video[QStringLiteral("dropsDecoder")] = qint64(rv.dropsDecoder);
                video[QStringLiteral("dropsLate")] = qint64(rv.dropsLate);
                video[QStringLiteral("decodedLate")] = qint64(rv.decodedLate);
                video[QStringLiteral("decodeErrors")] = qint64(rv.decodeErrors);
                video[QStringLiteral("decodeMs")] = rv.decodeMs;
                video[QStringLiteral("queueMs")] = rv.queueMs;
                video[QStringLiteral("renderMs")] = rv.renderMs;
                video[QStringLiteral("arrivalToPresentMs")] = rv.arrivalToPresentMs;
                video[QStringLiteral("arrivalToPresentMaxMs")] = rv.arrivalToPresentMaxMs;
                video[QStringLiteral("lipSynced")] = qint64(rv.lipSynced);
                video[QStringLiteral("avOffsetMs")] = rv.avOffsetMs;
                video[QStringLiteral("avOffsetMaxAbsMs")] = rv.avOffsetMaxAbsMs;
                video[QStringLiteral("decoders")] = rv.decoders;
                o[QStringLiteral("video")] = video;
                if (parser.isSet(json)) {
                    out(QString::fromUtf8(QJsonDocument(o).toJson(QJsonDocument::Compact)));
                } else {
                    out(QStringLiteral("measured %1 s").arg(s, 0, 'f', 2));
                    out(QStringLiteral("frames:  %1 (%2/s)").arg(frames).arg(double(frames) / s, 0, 'f', 1));
                    out(QStringLiteral("draws:   %1 (%2/s)").arg(draws).arg(double(draws) / s, 0, 'f', 1));
                    out(QStringLiteral("bytes:   %1 (%2 KiB/s)")
                            .arg(bytes)
                            .arg(double(bytes) / s / 1024, 0, 'f', 1));
                    out(QStringLiteral("decode:  %1 ms total, %2 ms per draw")
                            .arg(double(r.decodeNs) / 1e6, 0, 'f', 2)
                            .arg(r.decodeMsPerDraw, 0, 'f', 3));
                    if (rv.streams || rv.decoded || rv.presented) {
                        out(QStringLiteral("video:   %1 streams, fps in %2 decoded %3 presented %4; "
                                           "drops %5 decoder %6 late; %7 decoded late; %8 errors")
                                .arg(rv.streams)
                                .arg(video[QStringLiteral("receivedPerSecond")].toDouble(), 0, 'f', 1)
                                .arg(video[QStringLiteral("decodedPerSecond")].toDouble(), 0, 'f', 1)
                                .arg(video[QStringLiteral("presentedPerSecond")].toDouble(), 0, 'f', 1)
                                .arg(rv.dropsDecoder)
                                .arg(rv.dropsLate)
                                .arg(rv.decodedLate)
                                .arg(rv.decodeErrors));
                        out(QStringLiteral("         ms per frame: decode %1, queue %2, render %3, "
                                           "arrival to present %4 (max %5); %6")
                                .arg(video[QStringLiteral("decodeMs")].toDouble(), 0, 'f', 2)
                                .arg(video[QStringLiteral("queueMs")].toDouble(), 0, 'f', 2)
                                .arg(video[QStringLiteral("renderMs")].toDouble(), 0, 'f', 2)
                                .arg(video[QStringLiteral("arrivalToPresentMs")].toDouble(), 0, 'f', 2)
                                .arg(video[QStringLiteral("arrivalToPresentMaxMs")].toDouble(), 0, 'f', 1)
                                .arg(rv.decoders));
                        if (rv.lipSynced)
                            out(QStringLiteral(
                                    "         lip-sync with the sound: %1 frames, video %2 ms after "
                                    "its audio on average (at most %3 ms apart)")
                                    .arg(rv.lipSynced)
                                    .arg(rv.avOffsetMs, 0, 'f', 1)
                                    .arg(rv.avOffsetMaxAbsMs, 0, 'f', 0));
                    }
                }
                finish(0);
            });
        }
    });

    session.start();
    const int rc = app.exec();
    return exitCode ? exitCode : rc;
}
