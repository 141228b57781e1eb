#include "VideoCodec.h"

#include <algorithm>
#include <cctype>
#include <string>

namespace saffron {

std::string_view videoCodecName(VideoCodec codec) {
    switch (codec) {
    case VideoCodec::Mjpeg:
        return "mjpeg";
    case VideoCodec::Vp8:
        return "vp8";
    case VideoCodec::Vp9:
        return "vp9";
    case VideoCodec::H264:
        return "h264";
    case VideoCodec::H265:
        return "h265";
    }
    return "unknown";
}

std::optional<VideoCodec> videoCodecFromName(std::string_view name) {
    std::string lower(name);
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    for (VideoCodec codec : kAllVideoCodecs) {
        if (lower == videoCodecName(codec)) {
            return codec;
        }
    }
    if (lower == "h.264" || lower == "avc") {
        return VideoCodec::H264;
    }
    if (lower == "h.265" || lower == "hevc") {
        return VideoCodec::H265;
    }
    if (lower == "jpeg") {
        return VideoCodec::Mjpeg;
    }
    return std::nullopt;
}

} // namespace saffron
