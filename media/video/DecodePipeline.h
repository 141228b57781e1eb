#pragma once

#include "ElementRegistry.h"
#include "GstHandles.h"
#include "VideoCodec.h"

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>

namespace saffron {

struct PipelineOptions {
    // A live appsrc makes decoders choose low-latency behaviour (gst-libav uses slice threading
    // only, instead of frame threading which holds back one frame per thread). Right for a remote
    // desktop where every frame is displayed as soon as it is decoded.
    bool live = true;
    // Decode errors the decoder may swallow before failing (GstVideoDecoder max-errors, applied
    // when the element has that property). -1 keeps the element's default: conceal and go on.
    int maxDecodeErrors = -1;
    // Largest picture accepted. The parser's caps (from the SPS / frame header) are checked before
    // the decoder sees them, so a hostile header cannot make it allocate gigabytes.
    int maxWidth = 8192;
    int maxHeight = 8192;
};

// One explicit pipeline: appsrc ! [parser] ! decoder ! appsink, no decodebin, no videoconvert.
// Callbacks run on GStreamer streaming threads; none runs once the destructor has returned.
class DecodePipeline {
public:
    struct Callbacks {
        std::function<void(SamplePtr)> sample;         // a decoded picture at the appsink
        std::function<void(const std::string&)> error; // "element: message"; pipeline is dead
        std::function<void()> endOfStream;             // everything pushed has been drained
        std::function<void()> dequeued;                // appsrc handed a buffer downstream
    };

    // Builds and starts the pipeline; nullptr with `error` filled when an element is missing, the
    // elements do not link or the pipeline refuses to start.
    static std::unique_ptr<DecodePipeline> create(const ElementFactoryRegistry& registry, VideoCodec codec,
                                                  const std::string& decoderElement,
                                                  const PipelineOptions& options, Callbacks callbacks,
                                                  std::string* error);
    ~DecodePipeline();
    DecodePipeline(const DecodePipeline&) = delete;
    DecodePipeline& operator=(const DecodePipeline&) = delete;

    // Copies `data` into a new buffer stamped with `pts` and queues it in appsrc. Never blocks.
    bool push(std::span<const uint8_t> data, uint64_t pts);
    void endOfStream();
    // Buffers queued in appsrc, not yet taken by the streaming thread.
    uint64_t queuedBuffers() const;
    // After an error the pipeline delivers nothing more; the owner replaces or restarts it.
    bool failed() const { return m_failed.load(std::memory_order_acquire); }
    // The first error's "element: message", empty while none happened.
    std::string firstError() const;
    // Back to READY and PLAYING again: drops everything queued or inside the decoder and clears an
    // error, ready for a new stream (new caps, new size). Blocks until the streaming thread has
    // stopped. Returns false if the pipeline does not start again.
    bool restart();

    const std::string& decoderElement() const { return m_decoderName; }
    VideoCodec codec() const { return m_codec; }

private:
    DecodePipeline(VideoCodec codec, std::string decoderName, Callbacks callbacks);
    static GstBusSyncReply onBusMessage(GstBus* bus, GstMessage* message, gpointer self);
    static GstFlowReturn onNewSample(GstAppSink* sink, gpointer self);
    static GstPadProbeReturn onBufferLeavesSource(GstPad* pad, GstPadProbeInfo* info, gpointer self);
    static GstPadProbeReturn onDecoderInputEvent(GstPad* pad, GstPadProbeInfo* info, gpointer self);
    // Records the first error and reports it; later ones are ignored.
    void fail(const std::string& text);

    VideoCodec m_codec;
    std::string m_decoderName;
    Callbacks m_callbacks;
    ElementPtr m_pipeline;
    ElementPtr m_source;
    ElementPtr m_sink;
    BusPtr m_bus;
    int m_maxWidth = 0;
    int m_maxHeight = 0;
    std::atomic<bool> m_failed{false};
    mutable std::mutex m_errorMutex;
    std::string m_firstError;
};

} // namespace saffron
