#include "common/appliance/ReconnectBackoff.h"

#include <QRandomGenerator>
#include <algorithm>
#include <cmath>

namespace saffron {

ReconnectBackoff::ReconnectBackoff(Milliseconds min, Milliseconds max, RandomSource random)
    : min_(std::max(min, Milliseconds(1))), max_(std::max(max, min_)), random_(std::move(random)) {
    if (!random_)
        random_ = [] { return QRandomGenerator::global()->generateDouble(); };
}

ReconnectBackoff::Milliseconds ReconnectBackoff::nextDelay() {
    // Doubling stops once the step reaches max, so neither the shift nor the counter overflows
    // however long the server stays away.
    qint64 step = min_.count();
    for (int i = 0; i < attempts_ && step < max_.count(); ++i)
        step *= 2;
    step = std::min<qint64>(step, max_.count());
    if (attempts_ < 1'000'000) // only reported by attempts(); the step is capped above
        ++attempts_;

    const double r = std::clamp(random_(), 0.0, 1.0);
    const qint64 half = step / 2;
    const qint64 delay = half + static_cast<qint64>(std::llround(r * static_cast<double>(step - half)));
    return Milliseconds(std::clamp<qint64>(delay, min_.count(), max_.count()));
}

} // namespace saffron
