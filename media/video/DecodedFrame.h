#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

namespace saffron {

// Raw layouts a VideoDecoder hands out. NV12 and I420 for every codec; MJPEG decoders may also
// give the JPEG's own 4:2:2 / 4:4:4 / grey layout (see CodecPipelineTraits::sinkCaps).
enum class PixelFormat { Nv12, I420, Y42B, Y444, Gray8 };
const char* pixelFormatName(PixelFormat format);

// YCbCr -> RGB matrix the stream declares (or GStreamer's default for its size when it declares
// none: BT.601 below 720 lines, BT.709 from there on).
enum class ColorMatrix { Bt601, Bt709, Bt2020, Other };
struct Colorimetry {
    ColorMatrix matrix = ColorMatrix::Bt601;
    bool fullRange = false; // false: limited "TV" range (Y 16..235)

    bool operator==(const Colorimetry&) const = default;
};

// One plane of a decoded picture: `data` covers rows 0..height-1 (the last row only up to its
// last sample), `stride` bytes apart. width/height are in samples of that plane (NV12's UV plane:
// width/2 pairs, i.e. `width` bytes, height/2 rows).
struct FramePlane {
    std::span<const uint8_t> data;
    int stride = 0;
    int width = 0;
    int height = 0;
};

struct DecodedFrameNative; // GStreamer side (mapped buffer, video info): DecodedFrameNative.h

// A decoded picture straight from the decoder's buffer (zero copy: the GstBuffer the appsink
// received, mapped read-only). The planes stay valid as long as this object lives; it is always
// handed out as std::shared_ptr<const DecodedFrame>, so whoever keeps a reference keeps the
// buffer. Hold frames briefly: hardware decoders have small buffer pools and stall while their
// buffers are out.
class DecodedFrame {
public:
    DecodedFrame(std::unique_ptr<DecodedFrameNative> native, uint64_t tag, uint64_t decodeNs,
                 std::string decoder);
    ~DecodedFrame();
    DecodedFrame(const DecodedFrame&) = delete;
    DecodedFrame& operator=(const DecodedFrame&) = delete;

    uint64_t tag() const { return m_tag; }           // the caller's tag given to submit()
    uint64_t decodeNs() const { return m_decodeNs; } // submit() -> frame out, nanoseconds
    int width() const { return m_width; }
    int height() const { return m_height; }
    PixelFormat format() const { return m_format; }
    Colorimetry colorimetry() const { return m_colorimetry; }
    int planeCount() const { return m_planeCount; }
    const FramePlane& plane(int index) const { return m_planes.at(static_cast<size_t>(index)); }
    const std::string& decoder() const { return m_decoder; } // element that decoded it

    const DecodedFrameNative& native() const { return *m_native; }

private:
    std::unique_ptr<DecodedFrameNative> m_native;
    uint64_t m_tag;
    uint64_t m_decodeNs;
    std::string m_decoder;
    int m_width = 0;
    int m_height = 0;
    PixelFormat m_format = PixelFormat::I420;
    Colorimetry m_colorimetry;
    int m_planeCount = 0;
    std::array<FramePlane, 3> m_planes{};
};

} // namespace saffron
