#pragma once

#include "AccessUnit.h"
#include "ElementRegistry.h"
#include "VideoCodec.h"

#include <chrono>
#include <string>

namespace saffron {

struct ProbeResult {
    bool ok = false;
    std::string detail; // "ok", or why not: "absent", "does not link ...", "error: ...", "timeout"
};

// Decodes the codec's embedded sample (SampleStreams.h) through the real pipeline with the given
// decoder and checks that every frame comes back at the sample's size. A decoder that is present
// but cannot decode (no device, wrong driver, unsupported profile) is caught here rather than on
// the first real stream. Blocks the calling thread for at most `timeout`. `format` Yuv444 uses
// the 4:4:4 sample (sampleFrames444) instead; other formats have none.
ProbeResult probeDecoder(const ElementFactoryRegistry& registry, VideoCodec codec, const std::string& element,
                         std::chrono::milliseconds timeout = std::chrono::seconds(10),
                         ChromaFormat format = ChromaFormat::Yuv420);

} // namespace saffron
