#pragma once

#include "audio/AudioCapture.h"

#include <string>

namespace saffron::test {

// Records what a null sink plays (its monitor). `pinned` keeps the tap on that sink when the
// default sink changes: WirePlumber, like PulseAudio, moves a stream whose target equals the
// default along with the default (see AudioCaptureOptions::pinToTarget).
inline AudioCaptureOptions sinkMonitorTap(const std::string& sink = "test-sink", bool pinned = false) {
    AudioCaptureOptions options;
    options.target = sink;
    options.captureSinkMonitor = true;
    options.pinToTarget = pinned;
    options.streamName = "test monitor " + sink;
    return options;
}

} // namespace saffron::test
