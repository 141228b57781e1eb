#include "DecoderCandidates.h"

namespace saffron {

namespace {

std::vector<DecoderCandidate> hardwareFirst(std::string_view codecPart, std::string_view jpegV4l2Name,
                                            std::initializer_list<std::string_view> software) {
    std::vector<DecoderCandidate> list;
    const std::string c(codecPart);
    list.push_back({"va" + c + "dec", true});
    list.push_back({"vaapi" + c + "dec", true});
    list.push_back({"nv" + c + "dec", true});
    if (jpegV4l2Name.empty()) {
        // The V4L2 stateless API has no JPEG decoder; only stateful M2M devices decode JPEG.
        list.push_back({"v4l2sl" + c + "dec", true});
        list.push_back({"v4l2" + c + "dec", true});
    } else {
        list.push_back({std::string(jpegV4l2Name), true});
    }
    for (std::string_view name : software) {
        list.push_back({std::string(name), false});
    }
    return list;
}

} // namespace

std::vector<DecoderCandidate> builtinCandidates(VideoCodec codec) {
    switch (codec) {
    case VideoCodec::Mjpeg:
        // avdec_mjpeg after jpegdec: a second software decoder to fall back to after an error.
        return hardwareFirst("jpeg", "v4l2jpegdec", {"jpegdec", "avdec_mjpeg"});
    case VideoCodec::Vp8:
        return hardwareFirst("vp8", "", {"vp8dec", "avdec_vp8"});
    case VideoCodec::Vp9:
        return hardwareFirst("vp9", "", {"vp9dec", "avdec_vp9"});
    case VideoCodec::H264:
        return hardwareFirst("h264", "", {"avdec_h264"});
    case VideoCodec::H265:
        return hardwareFirst("h265", "", {"avdec_h265"});
    }
    return {};
}

CodecPipelineTraits pipelineTraits(VideoCodec codec) {
    // 4:2:0 is what hardware decoders give, but spice-server's GStreamer encoders are fed BGRx and
    // videoconvert hands x264enc/vp9enc 4:4:4 (H.264 High 4:4:4, VP9 profile 1) when they take it,
    // so 4:2:2/4:4:4 must be accepted too (converted by FrameConverter or the GPU like the rest).
    static constexpr std::string_view kYuv420 = "video/x-raw,format=(string){NV12,I420,Y42B,Y444}";
    switch (codec) {
    case VideoCodec::Mjpeg:
        return {"image/jpeg", "jpegparse", "video/x-raw,format=(string){NV12,I420,Y42B,Y444,GRAY8}"};
    case VideoCodec::Vp8:
        return {"video/x-vp8", "", kYuv420};
    case VideoCodec::Vp9:
        return {"video/x-vp9", "vp9parse", kYuv420};
    case VideoCodec::H264:
        return {"video/x-h264,stream-format=(string)byte-stream,alignment=(string)au", "h264parse", kYuv420};
    case VideoCodec::H265:
        return {"video/x-h265,stream-format=(string)byte-stream,alignment=(string)au", "h265parse", kYuv420};
    }
    return {};
}

} // namespace saffron
