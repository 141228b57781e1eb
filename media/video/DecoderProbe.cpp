#include "DecoderProbe.h"

#include "DecodePipeline.h"
#include "SampleStreams.h"

#include <condition_variable>
#include <mutex>

namespace saffron {

namespace {

// Shared with the streaming thread; outlives the pipeline (declared before it).
struct ProbeState {
    std::mutex mutex;
    std::condition_variable changed;
    int frames = 0;
    bool done = false;
    std::string problem;
};

} // namespace

ProbeResult probeDecoder(const ElementFactoryRegistry& registry, VideoCodec codec, const std::string& element,
                         std::chrono::milliseconds timeout, ChromaFormat format) {
    const bool yuv444 = format == ChromaFormat::Yuv444;
    const auto frames = yuv444 ? sampleFrames444(codec) : sampleFrames(codec);
    if (frames.empty()) {
        return {false, "no " + std::string(yuv444 ? "4:4:4 " : "") + "probe sample for " +
                           std::string(videoCodecName(codec))};
    }
    if (!registry.exists(element)) {
        return {false, "absent"};
    }
    ProbeState state;
    DecodePipeline::Callbacks callbacks;
    callbacks.sample = [&state](SamplePtr sample) {
        GstVideoInfo info;
        const bool parsed = gst_video_info_from_caps(&info, gst_sample_get_caps(sample.get()));
        std::lock_guard lock(state.mutex);
        if (!parsed) {
            state.problem = "output caps unreadable";
        } else if (GST_VIDEO_INFO_WIDTH(&info) != kSampleWidth ||
                   GST_VIDEO_INFO_HEIGHT(&info) != kSampleHeight) {
            state.problem = "wrong picture size " + std::to_string(GST_VIDEO_INFO_WIDTH(&info)) + "x" +
                            std::to_string(GST_VIDEO_INFO_HEIGHT(&info));
        }
        ++state.frames;
        state.changed.notify_all();
    };
    callbacks.error = [&state](const std::string& message) {
        std::lock_guard lock(state.mutex);
        if (state.problem.empty()) {
            state.problem = "error: " + message;
        }
        state.done = true;
        state.changed.notify_all();
    };
    callbacks.endOfStream = [&state] {
        std::lock_guard lock(state.mutex);
        state.done = true;
        state.changed.notify_all();
    };

    std::string createError;
    // Not live: the probe wants every frame decoded, latency does not matter here.
    PipelineOptions options;
    options.live = false;
    auto pipeline = DecodePipeline::create(registry, codec, element, options, callbacks, &createError);
    if (!pipeline) {
        return {false, createError};
    }
    uint64_t pts = 0;
    for (auto frame : frames) {
        pipeline->push(frame, pts);
        pts += GST_MSECOND;
    }
    pipeline->endOfStream();

    std::unique_lock lock(state.mutex);
    const bool finished = state.changed.wait_for(lock, timeout, [&] { return state.done; });
    ProbeResult result;
    if (!state.problem.empty()) {
        result = {false, state.problem};
    } else if (!finished) {
        result = {false, "timeout after " + std::to_string(timeout.count()) + " ms"};
    } else if (state.frames != static_cast<int>(frames.size())) {
        result = {false,
                  std::to_string(state.frames) + " of " + std::to_string(frames.size()) + " frames decoded"};
    } else {
        result = {true, "ok"};
    }
    lock.unlock();
    pipeline.reset(); // stops the streaming threads before `state` goes away
    return result;
}

} // namespace saffron
