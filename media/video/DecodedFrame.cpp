#include "DecodedFrame.h"

#include "DecodedFrameNative.h"

#include <algorithm>
#include <stdexcept>

namespace saffron {

const char* pixelFormatName(PixelFormat format) {
    switch (format) {
    case PixelFormat::Nv12:
        return "NV12";
    case PixelFormat::I420:
        return "I420";
    case PixelFormat::Y42B:
        return "Y42B";
    case PixelFormat::Y444:
        return "Y444";
    case PixelFormat::Gray8:
        return "GRAY8";
    }
    return "?";
}

std::optional<PixelFormat> pixelFormatFromGst(GstVideoFormat format) {
    switch (format) {
    case GST_VIDEO_FORMAT_NV12:
        return PixelFormat::Nv12;
    case GST_VIDEO_FORMAT_I420:
        return PixelFormat::I420;
    case GST_VIDEO_FORMAT_Y42B:
        return PixelFormat::Y42B;
    case GST_VIDEO_FORMAT_Y444:
        return PixelFormat::Y444;
    case GST_VIDEO_FORMAT_GRAY8:
        return PixelFormat::Gray8;
    default:
        return std::nullopt;
    }
}

Colorimetry colorimetryFromGst(const GstVideoColorimetry& colorimetry) {
    Colorimetry c;
    switch (colorimetry.matrix) {
    case GST_VIDEO_COLOR_MATRIX_BT601:
    case GST_VIDEO_COLOR_MATRIX_FCC:
    case GST_VIDEO_COLOR_MATRIX_SMPTE240M: // close enough for the GPU path; conversion uses the caps
        c.matrix = ColorMatrix::Bt601;
        break;
    case GST_VIDEO_COLOR_MATRIX_BT709:
        c.matrix = ColorMatrix::Bt709;
        break;
    case GST_VIDEO_COLOR_MATRIX_BT2020:
        c.matrix = ColorMatrix::Bt2020;
        break;
    default:
        c.matrix = ColorMatrix::Other;
        break;
    }
    c.fullRange = colorimetry.range == GST_VIDEO_COLOR_RANGE_0_255;
    return c;
}

DecodedFrame::DecodedFrame(std::unique_ptr<DecodedFrameNative> native, uint64_t tag, uint64_t decodeNs,
                           std::string decoder)
    : m_native(std::move(native)), m_tag(tag), m_decodeNs(decodeNs), m_decoder(std::move(decoder)) {
    if (!m_native || !m_native->frame.isMapped()) {
        throw std::invalid_argument("DecodedFrame needs a mapped video frame");
    }
    const GstVideoFrame* f = m_native->frame.get();
    const GstVideoFormatInfo* finfo = f->info.finfo;
    const auto format = pixelFormatFromGst(GST_VIDEO_FORMAT_INFO_FORMAT(finfo));
    if (!format) {
        throw std::invalid_argument("DecodedFrame: unexpected pixel format");
    }
    m_format = *format;
    m_width = GST_VIDEO_FRAME_WIDTH(f);
    m_height = GST_VIDEO_FRAME_HEIGHT(f);
    m_colorimetry = colorimetryFromGst(f->info.colorimetry);
    m_planeCount = std::min<int>(GST_VIDEO_FRAME_N_PLANES(f), static_cast<int>(m_planes.size()));
    for (int p = 0; p < m_planeCount; ++p) {
        // The plane's first component gives its size in samples; NV12's UV plane holds two
        // components, so its row is comp-width * pixel-stride bytes.
        gint comps[GST_VIDEO_MAX_COMPONENTS];
        gst_video_format_info_component(finfo, static_cast<guint>(p), comps);
        const int comp = comps[0];
        const int compWidth = GST_VIDEO_FRAME_COMP_WIDTH(f, comp);
        const int compHeight = GST_VIDEO_FRAME_COMP_HEIGHT(f, comp);
        const int pixelStride = GST_VIDEO_FRAME_COMP_PSTRIDE(f, comp);
        const int stride = GST_VIDEO_FRAME_PLANE_STRIDE(f, p);
        if (stride <= 0 || compWidth <= 0 || pixelStride <= 0 ||
            static_cast<size_t>(stride) < static_cast<size_t>(compWidth) * static_cast<size_t>(pixelStride)) {
            throw std::invalid_argument("DecodedFrame: implausible plane layout");
        }
        const size_t rowBytes = static_cast<size_t>(compWidth) * static_cast<size_t>(pixelStride);
        const size_t bytes =
            compHeight > 0 ? static_cast<size_t>(stride) * static_cast<size_t>(compHeight - 1) + rowBytes : 0;
        const auto* data = static_cast<const uint8_t*>(GST_VIDEO_FRAME_PLANE_DATA(f, p));
        FramePlane& plane = m_planes[static_cast<size_t>(p)];
        plane.data = std::span<const uint8_t>(data, bytes);
        plane.stride = stride;
        plane.width = compWidth;
        plane.height = compHeight;
    }
}

DecodedFrame::~DecodedFrame() = default;

} // namespace saffron
