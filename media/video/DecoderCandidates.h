#pragma once

#include "VideoCodec.h"

#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace saffron {

struct DecoderCandidate {
    std::string element; // GStreamer factory name, e.g. "vah264dec"
    bool hardware = false;
    bool forced = false; // put first by a SAFFRON_VIDEO_DECODER / config override

    bool operator==(const DecoderCandidate&) const = default;
};

// The built-in candidates for a codec, best first: the va plugin (GStreamer's current VA-API
// decoders; rank NONE in 1.22 so decodebin never picks them, which is why we build pipelines
// explicitly), gstreamer-vaapi, NVIDIA nvcodec, V4L2 stateless then stateful (ARM SoCs), then
// software.
std::vector<DecoderCandidate> builtinCandidates(VideoCodec codec);

// How the encoded stream enters the pipeline: appsrc caps (SPICE sends H.264/H.265 as Annex-B
// byte-stream, one access unit per message) and the parser placed before the decoder ("" when the
// codec has none in GStreamer 1.22, i.e. VP8).
struct CodecPipelineTraits {
    std::string_view sourceCaps;
    std::string_view parser;
    // Raw formats accepted at the appsink. NV12/I420 only, except MJPEG: JPEG decoders output the
    // JPEG's own chroma layout (4:2:2, 4:4:4 or grey from avdec_mjpeg/hardware) and cannot convert,
    // and a videoconvert in the decode path is what we avoid.
    std::string_view sinkCaps;
};
CodecPipelineTraits pipelineTraits(VideoCodec codec);

} // namespace saffron
