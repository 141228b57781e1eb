#pragma once

// The GStreamer half of a DecodedFrame (internal to saffron_media and its tests).

#include "DecodedFrame.h"
#include "GstHandles.h"

#include <optional>

namespace saffron {

struct DecodedFrameNative {
    SamplePtr sample;       // keeps the buffer (and its pool) alive
    GstVideoInfo info{};    // from the sample's caps
    MappedVideoFrame frame; // read-only mapping of the sample's buffer
};

std::optional<PixelFormat> pixelFormatFromGst(GstVideoFormat format);
Colorimetry colorimetryFromGst(const GstVideoColorimetry& colorimetry);

} // namespace saffron
