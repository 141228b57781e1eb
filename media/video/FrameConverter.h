#pragma once

#include "DecodedFrame.h"

#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <vector>

namespace saffron {

// CPU conversion of decoded pictures to the engine's pixel layout (0xAARRGGBB words, alpha 0xff),
// for platforms without a GPU path (offscreen rendering, screenshots). Uses GStreamer's
// GstVideoConverter with the frame's own colorimetry (matrix, range, chroma siting), scaling when
// the destination size differs. Converters are cached per (format, size, colorimetry, output
// size), a few at a time. Thread safe (one conversion at a time per FrameConverter).
class FrameConverter {
public:
    // threads: worker threads per conversion (GST_VIDEO_CONVERTER_OPT_THREADS); 0 = up to 4,
    // bounded by the CPU count.
    explicit FrameConverter(unsigned threads = 0);
    ~FrameConverter();
    FrameConverter(const FrameConverter&) = delete;
    FrameConverter& operator=(const FrameConverter&) = delete;

    // Writes the frame, scaled to dstWidth x dstHeight, into `dst`: row y starts at
    // dst[y * dstStride] (stride in pixels, >= dstWidth). Returns false (dst untouched) when dst is
    // too small or the conversion cannot be set up.
    bool convert(const DecodedFrame& frame, std::span<uint32_t> dst, int dstStride, int dstWidth,
                 int dstHeight);
    // Same, at the frame's own size.
    bool convert(const DecodedFrame& frame, std::span<uint32_t> dst, int dstStride);

    size_t cachedConverters() const;
    static constexpr size_t kMaxCached = 4;

private:
    struct Entry;
    mutable std::mutex m_mutex;
    unsigned m_threads;
    std::vector<std::unique_ptr<Entry>> m_cache; // most recently used first
};

} // namespace saffron
