#pragma once

// Small signal measurements for the audio tests: our own estimates, so a test does not trust
// the code under test to measure itself.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace saffron::test {

// One channel out of interleaved samples.
inline std::vector<double> channelOf(std::span<const int16_t> interleaved, unsigned channels,
                                     unsigned channel) {
    std::vector<double> out;
    out.reserve(interleaved.size() / channels);
    for (size_t i = channel; i < interleaved.size(); i += channels) {
        out.push_back(interleaved[i]);
    }
    return out;
}

// Frequency from rising zero crossings, each located to a fraction of a sample by linear
// interpolation: the sample rate over the median period between successive crossings. The median
// ignores the odd period around a dropout or a splice (a starved PipeWire graph on a loaded CI
// machine skips a cycle now and then; gaps are measured separately with longestQuietRun), so the
// figure is the tone's own frequency. Returns 0 when there are fewer than 3 crossings.
inline double zeroCrossingFrequency(std::span<const double> x, double rate) {
    std::vector<double> periods;
    double previous = -1;
    for (size_t i = 1; i < x.size(); ++i) {
        if (x[i - 1] < 0 && x[i] >= 0) {
            const double t = double(i - 1) + (-x[i - 1]) / (x[i] - x[i - 1]);
            if (previous >= 0)
                periods.push_back(t - previous);
            previous = t;
        }
    }
    if (periods.size() < 2)
        return 0;
    std::nth_element(periods.begin(), periods.begin() + std::ptrdiff_t(periods.size() / 2), periods.end());
    const double median = periods[periods.size() / 2];
    return median > 0 ? rate / median : 0;
}

inline double rms(std::span<const double> x) {
    if (x.empty()) {
        return 0;
    }
    double sum = 0;
    for (double v : x) {
        sum += v * v;
    }
    return std::sqrt(sum / double(x.size()));
}

// First and one-past-last index whose magnitude reaches `threshold` ({0, 0} when none does).
inline std::pair<size_t, size_t> activeRange(std::span<const double> x, double threshold) {
    size_t begin = x.size();
    size_t end = 0;
    for (size_t i = 0; i < x.size(); ++i) {
        if (std::abs(x[i]) >= threshold) {
            begin = std::min(begin, i);
            end = i + 1;
        }
    }
    return begin < end ? std::pair{begin, end} : std::pair<size_t, size_t>{0, 0};
}

// Longest run of samples below `threshold` in magnitude: a sine only dips below a small
// threshold for a sample or two at each zero crossing, a dropout for much longer.
inline size_t longestQuietRun(std::span<const double> x, double threshold) {
    size_t best = 0;
    size_t run = 0;
    for (double v : x) {
        run = std::abs(v) < threshold ? run + 1 : 0;
        best = std::max(best, run);
    }
    return best;
}

// Interleaved sine, continuing from `phase` (radians, updated).
inline void appendSine(std::vector<int16_t>& out, size_t frames, unsigned channels, double frequency,
                       double rate, double amplitude, double& phase) {
    const double step = 2 * M_PI * frequency / rate;
    for (size_t i = 0; i < frames; ++i) {
        const auto v = int16_t(std::lround(amplitude * std::sin(phase)));
        for (unsigned c = 0; c < channels; ++c) {
            out.push_back(v);
        }
        phase = std::fmod(phase + step, 2 * M_PI);
    }
}

} // namespace saffron::test
