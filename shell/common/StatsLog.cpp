#include "StatsLog.h"

#include "SessionRates.h"

#include <cstdio>
#include <ctime>

namespace saffron {

namespace {

qint64 clockMs(clockid_t clock) {
    timespec ts{};
    clock_gettime(clock, &ts);
    return qint64(ts.tv_sec) * 1000 + ts.tv_nsec / 1'000'000;
}

} // namespace

std::unique_ptr<StatsLog> StatsLog::fromEnvironment(SessionGetter session, QObject* parent) {
    if (!qEnvironmentVariableIsSet("SAFFRON_STATS_LOG"))
        return nullptr;
    bool ok = false;
    int period = qEnvironmentVariableIntValue("SAFFRON_STATS_LOG", &ok);
    if (!ok || period < 100 || period > 60000)
        period = 1000;
    return std::make_unique<StatsLog>(std::move(session), period, parent);
}

StatsLog::StatsLog(SessionGetter session, int periodMs, QObject* parent)
    : QObject(parent), session_(std::move(session)) {
    timer_.setInterval(periodMs);
    connect(&timer_, &QTimer::timeout, this, &StatsLog::write);
    timer_.start();
}

QByteArray StatsLog::line(const SessionInfo& info, qint64 monotonicMs, qint64 cpuMs) {
    const VideoStats& v = info.display.video;
    QByteArray out = "saffron-stats";
    const auto field = [&out](const char* name, qint64 value) {
        out += ' ';
        out += name;
        out += '=';
        out += QByteArray::number(value);
    };
    field("t_ms", monotonicMs);
    field("cpu_ms", cpuMs);
    field("bytes_in", qint64(bytesIn(info)));
    field("draws", qint64(info.display.draws));
    field("received", qint64(v.framesReceived));
    field("decoded", qint64(v.framesDecoded));
    field("presented", qint64(v.framesPresented));
    field("as_layer", qint64(v.framesAsLayer));
    field("drops_decoder", qint64(v.dropsDecoder));
    field("drops_late", qint64(v.dropsLate));
    field("decoded_late", qint64(v.decodedLate));
    field("decode_errors", qint64(v.decodeErrors));
    field("decode_ns", qint64(v.decodeNs));
    field("queue_ns", qint64(v.queueNs));
    field("render_ns", qint64(v.renderNs));
    field("arrival_to_present_ns", qint64(v.arrivalToPresentNs));
    field("arrival_to_present_max_ns", qint64(v.arrivalToPresentMaxNs));
    return out;
}

void StatsLog::write() {
    const Session* session = session_ ? session_() : nullptr;
    if (!session)
        return;
    const QByteArray text =
        line(session->info(), clockMs(CLOCK_MONOTONIC), clockMs(CLOCK_PROCESS_CPUTIME_ID));
    std::fprintf(stderr, "%s\n", text.constData());
    std::fflush(stderr);
}

} // namespace saffron
