#pragma once

#include <QElapsedTimer>
#include <cstdint>

namespace saffron {

// The session's estimate of the server's multimedia time (milliseconds, wrapping at 2^32).
// spice-server stamps every stream frame and audio packet with the mm-time at which it should
// be presented, and tells the client its current mm-time in MAIN_INIT and MAIN_MULTI_MEDIA_TIME
// (spice_protocol.txt "multimedia time"). Between those messages the client's clock runs on a
// local monotonic timer, as spice-gtk's spice_session_get_mm_time does.
// Used from the session thread only.
class MultimediaClock {
public:
    void sync(uint32_t serverMmTime) {
        base_ = serverMmTime;
        since_.start();
    }
    bool valid() const { return since_.isValid(); }
    uint32_t now() const { return valid() ? base_ + uint32_t(since_.elapsed()) : 0; }
    // frameMmTime - now(), as a signed distance on the wrapping clock (positive: in the future).
    int32_t until(uint32_t frameMmTime) const { return int32_t(frameMmTime - now()); }

private:
    QElapsedTimer since_;
    uint32_t base_ = 0;
};

} // namespace saffron
