#pragma once

#include "VideoCodec.h"

#include <cstdint>
#include <span>

namespace saffron {

// Probe bitstreams embedded at build time (media/video/samples, see make-samples.sh): two frames
// of 75% colour bars per codec, one access unit / frame per span. Empty when no sample could be
// made for the codec (its encoder was missing), which makes the codec undecodable here.
inline constexpr int kSampleWidth = 176;
inline constexpr int kSampleHeight = 144;
std::span<const std::span<const uint8_t>> sampleFrames(VideoCodec codec);
// The same bars in 4:4:4 (H.264 High 4:4:4 Predictive, H.265 Main 4:4:4, VP9 profile 1); empty
// for VP8 and MJPEG, whose streams here are never 4:4:4.
std::span<const std::span<const uint8_t>> sampleFrames444(VideoCodec codec);

} // namespace saffron
