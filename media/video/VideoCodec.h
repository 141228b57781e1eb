#pragma once

#include <array>
#include <optional>
#include <string_view>

namespace saffron {

// The SPICE video codecs (SPICE_VIDEO_CODEC_TYPE_*). Values are our own; the session maps them
// to the protocol's numbers.
enum class VideoCodec { Mjpeg, Vp8, Vp9, H264, H265 };

inline constexpr std::array<VideoCodec, 5> kAllVideoCodecs = {
    VideoCodec::Mjpeg, VideoCodec::Vp8, VideoCodec::Vp9, VideoCodec::H264, VideoCodec::H265};

// "mjpeg", "vp8", "vp9", "h264", "h265" (the names spice-server uses in its video-codecs option).
std::string_view videoCodecName(VideoCodec codec);
// Inverse of videoCodecName, case-insensitive; "h.264"/"avc"/"hevc"/"jpeg" are accepted too.
std::optional<VideoCodec> videoCodecFromName(std::string_view name);

} // namespace saffron
