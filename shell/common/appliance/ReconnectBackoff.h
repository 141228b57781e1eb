#pragma once

#include <chrono>
#include <functional>

namespace saffron {

// Delays between reconnection attempts: exponential growth from `min` to `max` with "equal
// jitter" (half of the step fixed, half random), so a room of thin clients that lost the same
// server does not reconnect in lock step, and a client never waits less than `min` or more
// than `max`. reset() after a successful connection starts again from `min`.
//
// Attempt n (0-based) has the step s = min(max, min * 2^n) and waits uniformly in [s/2, s],
// clamped to [min, max].
class ReconnectBackoff {
public:
    using Milliseconds = std::chrono::milliseconds;
    // Returns a uniformly distributed number in [0, 1); injected by tests for determinism.
    using RandomSource = std::function<double()>;

    static constexpr Milliseconds kDefaultMin{1000};
    static constexpr Milliseconds kDefaultMax{30000};

    // min is raised to 1 ms and max to min when given out of order. An empty random source
    // uses QRandomGenerator::global().
    explicit ReconnectBackoff(Milliseconds min = kDefaultMin, Milliseconds max = kDefaultMax,
                              RandomSource random = {});

    // The delay before the next attempt; each call counts one attempt.
    Milliseconds nextDelay();
    // A connection succeeded: the next failure waits about `min` again.
    void reset() { attempts_ = 0; }

    int attempts() const { return attempts_; }
    Milliseconds min() const { return min_; }
    Milliseconds max() const { return max_; }

private:
    Milliseconds min_;
    Milliseconds max_;
    RandomSource random_;
    int attempts_ = 0;
};

} // namespace saffron
