#pragma once

// Shared by the media unit tests and the video fuzzer: a fake element registry that pretends
// hardware decoders exist (or fail), test clips encoded with GStreamer's own encoders, and a
// collector for decoder callbacks.

#include "video/DecodedFrame.h"
#include "video/ElementRegistry.h"
#include "video/FrameConverter.h"
#include "video/GstHandles.h"
#include "video/VideoDecoder.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

namespace saffron::test {

using Bytes = std::vector<uint8_t>;

// Pretends to be GStreamer's registry. Names given to alias()/bin()/brokenProbe() exist and make
// the given real element or bin; names of hardware decoders not given are absent (so the tests
// behave the same on a machine that has a GPU); every other name is looked up in the real
// registry (software decoders, parsers).
class FakeRegistry final : public ElementFactoryRegistry {
public:
    // `name` makes the real element `real` (e.g. vah264dec -> avdec_h264: "hardware that works").
    void alias(const std::string& name, const std::string& real, bool hardware = true) {
        m_entries[name] = {real, false, hardware};
    }
    // `name` makes a bin from a gst-launch description with ghost pads, e.g.
    // "identity error-after=1 ! avdec_h264": "hardware that fails".
    void bin(const std::string& name, const std::string& description, bool hardware = true) {
        m_entries[name] = {description, true, hardware};
    }
    // Hide a name that the real registry has.
    void hide(const std::string& name) { m_hidden.insert(name); }

    bool exists(const std::string& factory) const override {
        if (m_hidden.count(factory)) {
            return false;
        }
        if (m_entries.count(factory)) {
            return true;
        }
        if (looksHardware(factory)) {
            return false;
        }
        return m_real.exists(factory);
    }
    GstElement* make(const std::string& factory) const override {
        ++m_makes;
        if (!exists(factory)) {
            return nullptr;
        }
        auto it = m_entries.find(factory);
        if (it == m_entries.end()) {
            return m_real.make(factory);
        }
        if (!it->second.isBin) {
            return m_real.make(it->second.target);
        }
        GError* raw = nullptr;
        GstElement* made = gst_parse_bin_from_description(it->second.target.c_str(), TRUE, &raw);
        GErrorPtr error(raw);
        return made;
    }
    bool isHardware(const std::string& factory) const override {
        auto it = m_entries.find(factory);
        return it != m_entries.end() ? it->second.hardware : m_real.isHardware(factory);
    }
    int makes() const { return m_makes.load(); }

private:
    static bool looksHardware(const std::string& name) {
        for (const char* prefix : {"va", "nv", "v4l2"}) {
            if (name.rfind(prefix, 0) == 0) {
                return true;
            }
        }
        return false;
    }
    struct Entry {
        std::string target;
        bool isBin = false;
        bool hardware = true;
    };
    std::map<std::string, Entry> m_entries;
    std::set<std::string> m_hidden;
    GstElementFactoryRegistry m_real;
    mutable std::atomic<int> m_makes{0};
};

// Encodes `frames` frames of videotestsrc through `encoderChain` (gst-launch syntax) and returns
// one buffer per encoded frame. Empty when an element of the chain is missing.
inline std::vector<Bytes> encodeClip(const std::string& encoderChain, int width, int height, int frames,
                                     const std::string& sourceProps = "pattern=smpte75") {
    if (!ensureGstInitialized()) {
        return {};
    }
    const std::string description = "videotestsrc num-buffers=" + std::to_string(frames) + " " + sourceProps +
                                    " ! video/x-raw,format=I420,width=" + std::to_string(width) +
                                    ",height=" + std::to_string(height) + ",framerate=30/1 ! " +
                                    encoderChain + " ! appsink name=out sync=false";
    GError* raw = nullptr;
    ElementPtr pipeline = adoptElement(gst_parse_launch(description.c_str(), &raw));
    GErrorPtr error(raw);
    if (!pipeline || error) {
        return {};
    }
    ElementPtr sink(gst_bin_get_by_name(GST_BIN(pipeline.get()), "out"));
    gst_element_set_state(pipeline.get(), GST_STATE_PLAYING);
    std::vector<Bytes> out;
    while (SamplePtr sample{gst_app_sink_try_pull_sample(GST_APP_SINK(sink.get()), 60 * GST_SECOND)}) {
        GstBuffer* buffer = gst_sample_get_buffer(sample.get());
        GstMapInfo map;
        if (buffer && gst_buffer_map(buffer, &map, GST_MAP_READ)) {
            out.emplace_back(map.data, map.data + map.size);
            gst_buffer_unmap(buffer, &map);
        }
    }
    gst_element_set_state(pipeline.get(), GST_STATE_NULL);
    return out;
}

inline const char* encoderElement(VideoCodec codec) {
    switch (codec) {
    case VideoCodec::H264:
        return "x264enc";
    case VideoCodec::H265:
        return "x265enc";
    case VideoCodec::Vp8:
        return "vp8enc";
    case VideoCodec::Vp9:
        return "vp9enc";
    case VideoCodec::Mjpeg:
        return "jpegenc";
    }
    return "";
}

inline bool haveElement(const char* name) {
    GstObjectPtr<GstElementFactory> f(gst_element_factory_find(name));
    return f != nullptr;
}

// The encoder chain that makes a codec's stream like the SPICE servers' (see make-samples.sh).
inline std::string encoderFor(VideoCodec codec, const std::string& h264Extra = {}) {
    switch (codec) {
    case VideoCodec::H264:
        return "x264enc byte-stream=true aud=true tune=zerolatency speed-preset=ultrafast " + h264Extra +
               " ! video/x-h264,stream-format=byte-stream,alignment=au";
    case VideoCodec::H265:
        return "x265enc tune=zerolatency speed-preset=ultrafast option-string=info=0 ! h265parse ! "
               "video/x-h265,stream-format=byte-stream,alignment=au";
    // Bitrates well above libvpx's 256 kbit/s default: at that rate its rate control shifts a
    // flat colour by 15 levels in the second frame, which is the encoder's doing, not ours.
    case VideoCodec::Vp8:
        return "vp8enc deadline=1 lag-in-frames=0 target-bitrate=4000000";
    case VideoCodec::Vp9:
        return "vp9enc deadline=1 lag-in-frames=0 target-bitrate=4000000";
    case VideoCodec::Mjpeg:
        // Full-range 4:2:0 JFIF, as spice-server's libjpeg encoder makes from RGB (see make-samples.sh).
        return "videoconvert ! video/x-raw,format=RGB ! videoconvert ! "
               "video/x-raw,format=I420,colorimetry=1:4:0:0 ! "
               "jpegenc";
    }
    return {};
}

// Collects what a VideoDecoder delivers. Waits are bounded only so that a broken decoder fails
// the test instead of hanging it; no test asserts how long anything took.
struct Collector {
    std::mutex mutex;
    std::condition_variable changed;
    std::vector<std::shared_ptr<const DecodedFrame>> frames;
    std::vector<VideoDecoderError> errors;
    bool keepFrames = true;
    int frameCount = 0;

    VideoDecoderCallbacks callbacks() {
        VideoDecoderCallbacks cb;
        cb.frame = [this](std::shared_ptr<const DecodedFrame> frame) {
            std::lock_guard lock(mutex);
            ++frameCount;
            if (keepFrames) {
                frames.push_back(std::move(frame));
            }
            changed.notify_all();
        };
        cb.error = [this](const VideoDecoderError& error) {
            std::lock_guard lock(mutex);
            errors.push_back(error);
            changed.notify_all();
        };
        return cb;
    }
    bool waitFrames(int n, std::chrono::seconds limit = std::chrono::seconds(60)) {
        std::unique_lock lock(mutex);
        return changed.wait_for(lock, limit, [&] { return frameCount >= n; });
    }
    bool waitErrors(size_t n, std::chrono::seconds limit = std::chrono::seconds(60)) {
        std::unique_lock lock(mutex);
        return changed.wait_for(lock, limit, [&] { return errors.size() >= n; });
    }
    int framesNow() {
        std::lock_guard lock(mutex);
        return frameCount;
    }
    size_t errorsNow() {
        std::lock_guard lock(mutex);
        return errors.size();
    }
};

struct Rgb {
    int r = 0, g = 0, b = 0;
};
inline Rgb rgbOf(uint32_t argb) {
    return {static_cast<int>((argb >> 16) & 0xff), static_cast<int>((argb >> 8) & 0xff),
            static_cast<int>(argb & 0xff)};
}
inline bool near(Rgb a, Rgb b, int tolerance) {
    return std::abs(a.r - b.r) <= tolerance && std::abs(a.g - b.g) <= tolerance &&
           std::abs(a.b - b.b) <= tolerance;
}

} // namespace saffron::test
