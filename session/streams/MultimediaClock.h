#pragma once

#include <QElapsedTimer>
#include <cstdint>

namespace saffron {

// The session's estimate of the server's multimedia time (milliseconds, wrapping at 2^32).
// spice-server stamps every stream frame and audio packet with its mm-time, and tells the
// client its current mm-time in MAIN_INIT and MAIN_MULTI_MEDIA_TIME (spice_protocol.txt
// "multimedia time"), less a latency margin (~400 ms on QEMU) so that frames are due that much
// after they arrive. Between those messages the clock runs on a local monotonic timer, as
// spice-gtk's spice_session_get_mm_time does.
//
// While audio plays there is a second, better clock for lip-sync: the mm-time of the sample
// being heard now (a packet's stamp less the audio queued ahead of it, see PlaybackChannel).
// A video frame shown when its stamp is heard is in step with the sound, and waits only as
// long as the audio buffer (tens of ms) instead of the server's margin.
// Used from the session thread only.
class MultimediaClock {
public:
    // An audio anchor older than this means the sound stopped (packets come every 10-20 ms).
    static constexpr int64_t kHeardFreshMs = 250;

    void sync(uint32_t serverMmTime) {
        base_ = serverMmTime;
        since_.start();
    }
    bool valid() const { return since_.isValid(); }
    uint32_t now() const { return valid() ? base_ + uint32_t(since_.elapsed()) : 0; }
    // frameMmTime - now(), as a signed distance on the wrapping clock (positive: in the future).
    int32_t until(uint32_t frameMmTime) const { return int32_t(frameMmTime - now()); }

    // Audio playback: `heardMmTime` is what the listener hears at this moment.
    void syncHeard(uint32_t heardMmTime) {
        heardBase_ = heardMmTime;
        heardSince_.start();
    }
    // The sound stopped (PLAYBACK_STOP, the stream went away): video goes back to its own mode.
    void audioStopped() { heardSince_.invalidate(); }
    // Audio is playing (anchored within kHeardFreshMs).
    bool audioPlaying() const { return heardSince_.isValid() && heardSince_.elapsed() <= kHeardFreshMs; }
    uint32_t heardNow() const {
        return heardBase_ + uint32_t(heardSince_.isValid() ? heardSince_.elapsed() : 0);
    }
    // frameMmTime - heardNow() (positive: the sound of that moment is still to come).
    int32_t untilHeard(uint32_t frameMmTime) const { return int32_t(frameMmTime - heardNow()); }

private:
    QElapsedTimer since_;
    uint32_t base_ = 0;
    QElapsedTimer heardSince_;
    uint32_t heardBase_ = 0;
};

} // namespace saffron
