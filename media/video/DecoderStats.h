#pragma once

#include <cstdint>
#include <string>

namespace saffron {

// A consistent snapshot of one VideoDecoder's counters (VideoDecoder::stats(), thread safe), in
// the spirit of moonlight-qt's per-window video statistics.
struct DecoderStats {
    uint64_t submitted = 0; // submit() calls
    uint64_t decoded = 0;   // frames delivered to the frame callback
    // Frames that never came out: refused because the queue was full or while waiting for a key
    // frame, lost in a failed pipeline or a reset, or swallowed by the decoder.
    uint64_t dropped = 0;
    uint64_t rejected = 0;      // not plausibly a frame of the codec (also counted in dropped)
    uint64_t errors = 0;        // pipeline errors reported through the error callback
    uint64_t fallbacks = 0;     // switches to another decoder element after an error
    uint64_t decodeNsTotal = 0; // over `decoded` frames, submit() -> frame callback
    uint64_t decodeNsMax = 0;
    uint32_t queueDepth = 0;  // submitted, neither delivered nor dropped yet
    uint32_t sourceQueue = 0; // of which still waiting in appsrc (what the bounded queue limits)
    std::string decoder;      // current element, empty when none works
    bool hardware = false;

    double decodeMsAverage() const {
        return decoded ? static_cast<double>(decodeNsTotal) / static_cast<double>(decoded) / 1e6 : 0.0;
    }
    double decodeMsMax() const { return static_cast<double>(decodeNsMax) / 1e6; }
};

} // namespace saffron
