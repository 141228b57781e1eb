// libFuzzer target for the playback and record channels (session/channels/PlaybackChannel,
// RecordChannel): MODE/START/DATA/STOP/VOLUME/MUTE/LATENCY in any order, raw and Opus. Audio
// output is disabled (setAudioEnabled(false)): parsing and decoding run, PipeWire is never
// opened. Input: tests/fuzz-session/SessionFuzzing.h records; each goes to both channels.
#include "../fuzz-session/SessionFuzzing.h"
#include "channels/PlaybackChannel.h"
#include "channels/RecordChannel.h"

#include <QLoggingCategory>

using namespace saffron;

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    QLoggingCategory::setFilterRules(QStringLiteral("*=false"));
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static const std::vector<uint16_t> types = [] {
        std::vector<uint16_t> out(std::begin(fuzz::kBaseTypes), std::end(fuzz::kBaseTypes));
        for (uint16_t t = SPICE_MSG_PLAYBACK_DATA; t < SPICE_MSG_END_PLAYBACK; ++t) {
            out.push_back(t); // record types 101..104 are a subset of these numbers
        }
        return out;
    }();
    const SessionOptions options;
    PlaybackChannel playback(options, 0);
    playback.setAudioEnabled(false);
    RecordChannel record(options, 0);
    record.setAudioEnabled(false);
    fuzz::forEachRecord({data, size}, types, [&](const fuzz::Record& r) {
        playback.dispatch(r.type, r.body);
        record.dispatch(r.type, r.body);
    });
    // A record body is at most 65535 bytes: raw mono gives at most 32767 frames, one Opus packet at
    // most 5760 (120 ms). More means a size check is wrong.
    if (playback.playbackStats().framesDecoded > playback.playbackStats().packets * 32767) {
        __builtin_trap();
    }
    return 0;
}
