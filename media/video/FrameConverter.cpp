#include "FrameConverter.h"

#include "DecodedFrameNative.h"
#include "MediaLog.h"

#include <algorithm>
#include <libyuv/convert_argb.h>
#include <thread>

namespace saffron {

namespace {

// 0xAARRGGBB as a native-endian uint32 is B,G,R,A in memory on little-endian machines.
constexpr GstVideoFormat kOutputFormat =
    G_BYTE_ORDER == G_LITTLE_ENDIAN ? GST_VIDEO_FORMAT_BGRA : GST_VIDEO_FORMAT_ARGB;

bool sameInput(const GstVideoInfo& a, const GstVideoInfo& b) {
    return GST_VIDEO_INFO_FORMAT(&a) == GST_VIDEO_INFO_FORMAT(&b) &&
           GST_VIDEO_INFO_WIDTH(&a) == GST_VIDEO_INFO_WIDTH(&b) &&
           GST_VIDEO_INFO_HEIGHT(&a) == GST_VIDEO_INFO_HEIGHT(&b) &&
           gst_video_colorimetry_is_equal(&a.colorimetry, &b.colorimetry) && a.chroma_site == b.chroma_site;
}

// The converter insists that frame rate and interlacing match its input; they describe the
// stream, not the pixels, so they are copied.
GstVideoInfo outputInfo(const GstVideoInfo& input, int width, int height) {
    GstVideoInfo out;
    gst_video_info_set_format(&out, kOutputFormat, static_cast<guint>(width), static_cast<guint>(height));
    out.fps_n = input.fps_n;
    out.fps_d = input.fps_d;
    out.interlace_mode = input.interlace_mode;
    return out;
}

// libyuv's name for a matrix and range; nullptr for what it has no constants for.
const libyuv::YuvConstants* yuvConstants(Colorimetry c) {
    switch (c.matrix) {
    case ColorMatrix::Bt601:
        return c.fullRange ? &libyuv::kYuvJPEGConstants : &libyuv::kYuvI601Constants;
    case ColorMatrix::Bt709:
        return c.fullRange ? &libyuv::kYuvF709Constants : &libyuv::kYuvH709Constants;
    case ColorMatrix::Bt2020:
        return c.fullRange ? &libyuv::kYuvV2020Constants : &libyuv::kYuv2020Constants;
    case ColorMatrix::Other:
        break;
    }
    return nullptr;
}

} // namespace

struct FrameConverter::Entry {
    GstVideoInfo input{};
    int outWidth = 0;
    int outHeight = 0;
    VideoConverterPtr converter;
};

FrameConverter::FrameConverter(unsigned threads, Paths paths) : m_threads(threads), m_paths(paths) {
    if (m_threads == 0) {
        m_threads = std::clamp(std::thread::hardware_concurrency(), 1u, 4u);
    }
}

FrameConverter::~FrameConverter() = default;

size_t FrameConverter::cachedConverters() const {
    std::lock_guard lock(m_mutex);
    return m_cache.size();
}

bool FrameConverter::convert(const DecodedFrame& frame, std::span<uint32_t> dst, int dstStride,
                             RowOrder order) {
    const int w = frame.width(), h = frame.height();
    if (order == RowOrder::Same)
        return convert(frame, dst, dstStride, w, h);
    if (w <= 0 || h <= 0 || dstStride < w || dst.size() < size_t(dstStride) * size_t(h - 1) + size_t(w))
        return false;
    if (m_paths == Paths::Fastest && convertSimd(frame, dst, dstStride, order))
        return true;
    // GstVideoConverter writes top-down only: the rows are turned over afterwards.
    if (!convert(frame, dst, dstStride, w, h))
        return false;
    turnRowsOver(dst, dstStride, w, h);
    return true;
}

bool FrameConverter::convertShown(const DecodedFrame& frame, std::span<uint32_t> dst, int dstStride,
                                  int shownRows, RowOrder order) {
    // Every row shown: turned over by the conversion itself, at no extra cost.
    if (order == RowOrder::Same || shownRows >= frame.height())
        return convert(frame, dst, dstStride, order);
    if (!convert(frame, dst, dstStride, RowOrder::Same))
        return false;
    turnRowsOver(dst, dstStride, frame.width(), std::max(shownRows, 0));
    return true;
}

void FrameConverter::turnRowsOver(std::span<uint32_t> pixels, int stride, int width, int rows) {
    if (width <= 0 || rows <= 1 || stride < width ||
        pixels.size() < size_t(stride) * size_t(rows - 1) + size_t(width))
        return;
    for (int y = 0; y < rows / 2; ++y) {
        const auto top = pixels.subspan(size_t(y) * size_t(stride), size_t(width));
        const auto bottom = pixels.subspan(size_t(rows - 1 - y) * size_t(stride), size_t(width));
        std::swap_ranges(top.begin(), top.end(), bottom.begin());
    }
}

bool FrameConverter::convert(const DecodedFrame& frame, std::span<uint32_t> dst, int dstStride, int dstWidth,
                             int dstHeight) {
    if (dstWidth <= 0 || dstHeight <= 0 || dstStride < dstWidth) {
        return false;
    }
    const size_t needed =
        static_cast<size_t>(dstStride) * static_cast<size_t>(dstHeight - 1) + static_cast<size_t>(dstWidth);
    if (dst.size() < needed) {
        return false;
    }
    if (m_paths == Paths::Fastest && dstWidth == frame.width() && dstHeight == frame.height() &&
        convertSimd(frame, dst, dstStride, RowOrder::Same)) {
        return true;
    }
    const DecodedFrameNative& native = frame.native();

    std::lock_guard lock(m_mutex);
    auto it = std::find_if(m_cache.begin(), m_cache.end(), [&](const auto& e) {
        return e->outWidth == dstWidth && e->outHeight == dstHeight && sameInput(e->input, native.info);
    });
    if (it == m_cache.end()) {
        auto entry = std::make_unique<Entry>();
        entry->input = native.info;
        entry->outWidth = dstWidth;
        entry->outHeight = dstHeight;
        GstVideoInfo out = outputInfo(entry->input, dstWidth, dstHeight);
        // Dithering is for reducing depth; 8-bit YUV to 8-bit RGB does not need it and it costs.
        GstStructure* config =
            gst_structure_new("GstVideoConverter", GST_VIDEO_CONVERTER_OPT_THREADS, G_TYPE_UINT, m_threads,
                              GST_VIDEO_CONVERTER_OPT_DITHER_METHOD, GST_TYPE_VIDEO_DITHER_METHOD,
                              GST_VIDEO_DITHER_NONE, nullptr);
        // Takes ownership of config.
        entry->converter.reset(gst_video_converter_new(&entry->input, &out, config));
        if (!entry->converter) {
            qCWarning(lcMedia) << "no converter from" << pixelFormatName(frame.format()) << frame.width()
                               << "x" << frame.height() << "to" << dstWidth << "x" << dstHeight;
            return false;
        }
        m_cache.insert(m_cache.begin(), std::move(entry));
        if (m_cache.size() > kMaxCached) {
            m_cache.pop_back();
        }
        it = m_cache.begin();
    } else if (it != m_cache.begin()) {
        std::rotate(m_cache.begin(), it, std::next(it));
        it = m_cache.begin();
    }
    Entry& entry = **it;

    // Wrap the caller's memory as the destination frame: no copy, no ownership (no free function).
    GstVideoInfo out = outputInfo(native.info, dstWidth, dstHeight);
    out.stride[0] = dstStride * 4;
    out.size = needed * sizeof(uint32_t);
    BufferPtr wrapped(gst_buffer_new_wrapped_full(static_cast<GstMemoryFlags>(0), dst.data(), out.size, 0,
                                                  out.size, nullptr, nullptr));
    MappedVideoFrame target;
    if (!wrapped || !target.map(out, wrapped.get(), GST_MAP_WRITE)) {
        return false;
    }
    gst_video_converter_frame(entry.converter.get(), native.frame.get(), target.get());
    return true;
}

bool FrameConverter::convertSimd(const DecodedFrame& frame, std::span<uint32_t> dst, int dstStride,
                                 RowOrder order) {
    const libyuv::YuvConstants* matrix = yuvConstants(frame.colorimetry());
    if (!matrix) {
        return false;
    }
    const int w = frame.width(), h = frame.height();
    const int planes = frame.planeCount();
    // libyuv reads each plane row by row, `stride` apart, up to the plane's width: exactly what a
    // FramePlane promises (DecodedFrame.h). Its ARGB is the 0xAARRGGBB word of a little-endian
    // host (B,G,R,A in memory), which is the engine's layout.
    // `width` in samples of `bytes` bytes (NV12's UV plane counts pairs, DecodedFrame.h).
    const auto planeOk = [&](int i, int width, int height, int bytes = 1) {
        if (i >= planes) {
            return false;
        }
        const FramePlane& p = frame.plane(i);
        const size_t row = size_t(width) * size_t(bytes);
        return p.width >= width && p.height >= height && size_t(p.stride) >= row &&
               p.data.size() >= size_t(p.stride) * size_t(height - 1) + row;
    };
    if (G_BYTE_ORDER != G_LITTLE_ENDIAN || w <= 0 || h <= 0) {
        return false;
    }
    const int cw2 = (w + 1) / 2, ch2 = (h + 1) / 2;
    const auto& y = frame.plane(0);
    auto* out = reinterpret_cast<uint8_t*>(dst.data());
    const int outStride = dstStride * 4;
    // libyuv's convention: a negative height writes the output bottom row first (it starts at
    // the last row of `out` and steps back by the stride), at no extra cost.
    const int outHeight = order == RowOrder::Reversed ? -h : h;
    // The three-plane layouts differ only in their chroma planes' size and libyuv's function.
    const auto planar = [&](auto convert, int chromaWidth, int chromaHeight, auto... filter) {
        if (!planeOk(0, w, h) || !planeOk(1, chromaWidth, chromaHeight) ||
            !planeOk(2, chromaWidth, chromaHeight)) {
            return -1;
        }
        const FramePlane& u = frame.plane(1);
        const FramePlane& v = frame.plane(2);
        return convert(y.data.data(), y.stride, u.data.data(), u.stride, v.data.data(), v.stride, out,
                       outStride, matrix, w, outHeight, filter...);
    };
    int rc = -1;
    switch (frame.format()) {
    case PixelFormat::Y444:
        rc = planar(libyuv::I444ToARGBMatrix, w, h);
        break;
    case PixelFormat::Y42B:
        rc = planar(libyuv::I422ToARGBMatrixFilter, cw2, h, libyuv::kFilterBilinear);
        break;
    case PixelFormat::I420:
        rc = planar(libyuv::I420ToARGBMatrixFilter, cw2, ch2, libyuv::kFilterBilinear);
        break;
    case PixelFormat::Nv12:
        if (planeOk(0, w, h) && planeOk(1, cw2, ch2, 2)) {
            rc = libyuv::NV12ToARGBMatrix(y.data.data(), y.stride, frame.plane(1).data.data(),
                                          frame.plane(1).stride, out, outStride, matrix, w, outHeight);
        }
        break;
    case PixelFormat::Gray8:
        break;
    }
    return rc == 0;
}

} // namespace saffron
