#pragma once

#include "DecodedFrame.h"

#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <vector>

namespace saffron {

// CPU conversion of decoded pictures to the engine's pixel layout (0xAARRGGBB words, alpha 0xff),
// for platforms without a GPU path (offscreen rendering, screenshots, Qt's software renderer).
// At the frame's own size, I420/Y42B/Y444/NV12 with a BT.601/709/2020 matrix (either range) go
// through libyuv's SIMD row functions (4:2:0 and 4:2:2 chroma upsampled bilinearly, except NV12:
// nearest): a 1080p picture in 0.4-0.7 ms here against GstVideoConverter's 2.1-2.4 ms. Its 8-bit
// coefficients put studio-range BT.709/2020 saturated blues up to ~15 levels off (1-3 elsewhere,
// test_media's simdConversionMatchesGStreamer); the GPU path converts exactly. Everything
// else (scaling, grey, other matrices) uses GStreamer's GstVideoConverter with the frame's own
// colorimetry (matrix, range, chroma siting); those converters are cached per (format, size,
// colorimetry, output size), a few at a time. Thread safe (one GStreamer conversion at a time per
// FrameConverter).
class FrameConverter {
public:
    enum class Paths {
        Fastest,       // libyuv where it applies
        GStreamerOnly, // GstVideoConverter for everything (tests compare the two)
    };
    // threads: worker threads per GStreamer conversion (GST_VIDEO_CONVERTER_OPT_THREADS); 0 = up
    // to 4, bounded by the CPU count.
    explicit FrameConverter(unsigned threads = 0, Paths paths = Paths::Fastest);
    ~FrameConverter();
    FrameConverter(const FrameConverter&) = delete;
    FrameConverter& operator=(const FrameConverter&) = delete;

    // Writes the frame, scaled to dstWidth x dstHeight, into `dst`: row y starts at
    // dst[y * dstStride] (stride in pixels, >= dstWidth). Returns false (dst untouched) when dst is
    // too small or the conversion cannot be set up.
    bool convert(const DecodedFrame& frame, std::span<uint32_t> dst, int dstStride, int dstWidth,
                 int dstHeight);
    // Where the picture's first row goes: to dst's first row, or (Reversed, for pictures stored
    // bottom-up) to its last one, turned over on the way rather than in a pass of its own.
    enum class RowOrder { Same, Reversed };
    // A stream's order: bottom-up pictures (spice-server leaves SPICE_STREAM_FLAGS_TOP_DOWN unset
    // when the guest's bitmaps are stored bottom-up) put their first row at the bottom.
    static RowOrder rowOrder(bool topDown) { return topDown ? RowOrder::Same : RowOrder::Reversed; }
    // Same, at the frame's own size.
    bool convert(const DecodedFrame& frame, std::span<uint32_t> dst, int dstStride,
                 RowOrder order = RowOrder::Same);
    // Same, for a picture whose first `shownRows` rows are shown (an encoder pads below them):
    // Reversed turns just those over, the padding rows stay below them.
    bool convertShown(const DecodedFrame& frame, std::span<uint32_t> dst, int dstStride, int shownRows,
                      RowOrder order);

    // Turns the first `rows` rows of `width` pixels over in place (row y starts at
    // pixels[y * stride]): for a converter that could only write top-down, and for pictures
    // whose padding rows must stay below the turned ones.
    static void turnRowsOver(std::span<uint32_t> pixels, int stride, int width, int rows);

    size_t cachedConverters() const;
    static constexpr size_t kMaxCached = 4;

private:
    struct Entry;
    // The libyuv path; false when it does not apply to this frame (nothing written).
    static bool convertSimd(const DecodedFrame& frame, std::span<uint32_t> dst, int dstStride,
                            RowOrder order);

    mutable std::mutex m_mutex;
    unsigned m_threads;
    Paths m_paths;
    std::vector<std::unique_ptr<Entry>> m_cache; // most recently used first
};

} // namespace saffron
