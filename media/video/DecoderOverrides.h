#pragma once

#include "VideoCodec.h"

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace saffron {

// Forced decoders: "h264=avdec_h264,vp8=vp8dec" (codec names as videoCodecFromName accepts,
// element = a GStreamer factory name). Spaces around items are ignored; a malformed item or an
// unknown codec is reported in `problems` and skipped, the rest still applies.
struct DecoderOverrides {
    std::map<VideoCodec, std::string> forced;

    static DecoderOverrides parse(std::string_view text, std::vector<std::string>* problems = nullptr);

    // The environment wins over the configuration: SAFFRON_VIDEO_DECODER is the per-run knob a
    // user or a bug report reaches for ("does it work with the software decoder?") without
    // editing the persistent config; entries for other codecs are merged.
    static DecoderOverrides merge(const DecoderOverrides& config, const DecoderOverrides& environment);

    // Config string plus the SAFFRON_VIDEO_DECODER variable, parsed, merged, problems logged.
    static DecoderOverrides fromConfigAndEnvironment(std::string_view config);

    bool operator==(const DecoderOverrides&) const = default;
};

inline constexpr const char* kDecoderOverrideEnv = "SAFFRON_VIDEO_DECODER";

} // namespace saffron
