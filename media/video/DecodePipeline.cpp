#include "DecodePipeline.h"

#include "DecoderCandidates.h"
#include "MediaLog.h"

#include <cstring>

namespace saffron {

namespace {

CapsPtr capsFrom(std::string_view text) {
    return CapsPtr(gst_caps_from_string(std::string(text).c_str()));
}

bool hasProperty(GstElement* element, const char* name) {
    return g_object_class_find_property(G_OBJECT_GET_CLASS(element), name) != nullptr;
}

} // namespace

DecodePipeline::DecodePipeline(VideoCodec codec, std::string decoderName, Callbacks callbacks)
    : m_codec(codec), m_decoderName(std::move(decoderName)), m_callbacks(std::move(callbacks)) {}

std::unique_ptr<DecodePipeline> DecodePipeline::create(const ElementFactoryRegistry& registry,
                                                       VideoCodec codec, const std::string& decoderElement,
                                                       const PipelineOptions& options, Callbacks callbacks,
                                                       std::string* error) {
    auto giveUp = [&](std::string why) -> std::unique_ptr<DecodePipeline> {
        if (error) {
            *error = std::move(why);
        }
        return nullptr;
    };
    if (!ensureGstInitialized()) {
        return giveUp("GStreamer is not available");
    }
    const CodecPipelineTraits traits = pipelineTraits(codec);

    std::unique_ptr<DecodePipeline> self(new DecodePipeline(codec, decoderElement, std::move(callbacks)));
    self->m_pipeline = adoptElement(gst_pipeline_new(nullptr));
    self->m_source = adoptElement(gst_element_factory_make("appsrc", "src"));
    self->m_sink = adoptElement(gst_element_factory_make("appsink", "sink"));
    ElementPtr decoder = adoptElement(registry.make(decoderElement));
    if (!self->m_pipeline || !self->m_source || !self->m_sink) {
        return giveUp("core elements appsrc/appsink missing");
    }
    if (!decoder) {
        return giveUp(decoderElement + " cannot be created");
    }
    // The decoder keeps its factory name so bus errors read "vah264dec: ...".
    gst_object_set_name(GST_OBJECT(decoder.get()), decoderElement.c_str());

    // Parsers give hardware decoders the caps they need (alignment, profile, size); without one
    // (VP8, or a parser plugin missing here) the decoder gets the stream directly and the probe
    // tells whether it copes.
    ElementPtr parser;
    if (!traits.parser.empty()) {
        parser = adoptElement(gst_element_factory_make(std::string(traits.parser).c_str(), "parser"));
        if (!parser) {
            qCDebug(lcMedia) << traits.parser.data() << "missing; feeding" << decoderElement.c_str()
                             << "directly";
        }
    }

    GstAppSrc* src = GST_APP_SRC(self->m_source.get());
    CapsPtr srcCaps = capsFrom(traits.sourceCaps);
    gst_app_src_set_caps(src, srcCaps.get());
    gst_app_src_set_stream_type(src, GST_APP_STREAM_TYPE_STREAM);
    // Unlimited here: VideoDecoder bounds the queue itself and refuses frames instead of blocking.
    gst_app_src_set_max_bytes(src, 0);
    gst_app_src_set_max_buffers(src, 0);
    g_object_set(src, "format", GST_FORMAT_TIME, "is-live", options.live ? TRUE : FALSE, "block", FALSE,
                 "emit-signals", FALSE, nullptr);

    GstAppSink* sink = GST_APP_SINK(self->m_sink.get());
    CapsPtr sinkCaps =
        capsFrom(std::string(traits.sinkCaps) + ",width=(int)[1," + std::to_string(options.maxWidth) +
                 "],height=(int)[1," + std::to_string(options.maxHeight) + "]");
    gst_app_sink_set_caps(sink, sinkCaps.get());
    // sync=false: frames go out as soon as they are decoded (we display them, the server paces
    // them). async=false: no preroll wait, the pipeline is PLAYING at once. No last-sample: it
    // would keep a decoder buffer out of the pool.
    g_object_set(sink, "sync", FALSE, "async", FALSE, "enable-last-sample", FALSE, "qos", FALSE, nullptr);
    GstAppSinkCallbacks sinkCallbacks{};
    sinkCallbacks.new_sample = &DecodePipeline::onNewSample;
    gst_app_sink_set_callbacks(sink, &sinkCallbacks, self.get(), nullptr);

    if (options.maxDecodeErrors >= 0 && hasProperty(decoder.get(), "max-errors")) {
        g_object_set(decoder.get(), "max-errors", options.maxDecodeErrors, nullptr);
    }

    GstBin* bin = GST_BIN(self->m_pipeline.get());
    gst_bin_add_many(bin, self->m_source.get(), decoder.get(), self->m_sink.get(), nullptr);
    if (parser) {
        gst_bin_add(bin, parser.get());
    }
    const bool linked =
        parser ? gst_element_link_many(self->m_source.get(), parser.get(), decoder.get(), self->m_sink.get(),
                                       nullptr)
               : gst_element_link_many(self->m_source.get(), decoder.get(), self->m_sink.get(), nullptr);
    if (!linked) {
        return giveUp(decoderElement + " does not link between " +
                      std::string(parser ? traits.parser : std::string_view("appsrc")) + " and appsink");
    }

    self->m_bus.reset(gst_element_get_bus(self->m_pipeline.get()));
    // A sync handler sees errors on the thread that posts them and lets us drop every message:
    // nobody pops this bus, so anything left on it would pile up for the pipeline's lifetime.
    gst_bus_set_sync_handler(self->m_bus.get(), &DecodePipeline::onBusMessage, self.get(), nullptr);

    self->m_maxWidth = options.maxWidth;
    self->m_maxHeight = options.maxHeight;
    PadPtr decoderSink(gst_element_get_static_pad(decoder.get(), "sink"));
    if (decoderSink) {
        gst_pad_add_probe(decoderSink.get(), GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM,
                          &DecodePipeline::onDecoderInputEvent, self.get(), nullptr);
    }

    PadPtr srcPad(gst_element_get_static_pad(self->m_source.get(), "src"));
    gst_pad_add_probe(srcPad.get(), GST_PAD_PROBE_TYPE_BUFFER, &DecodePipeline::onBufferLeavesSource,
                      self.get(), nullptr);

    if (gst_element_set_state(self->m_pipeline.get(), GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
        const std::string why = self->firstError();
        return giveUp(decoderElement + " does not start" + (why.empty() ? std::string() : ": " + why));
    }
    return self;
}

DecodePipeline::~DecodePipeline() {
    if (m_pipeline) {
        // NULL waits for every streaming thread to stop: after this no callback can run.
        gst_element_set_state(m_pipeline.get(), GST_STATE_NULL);
    }
    if (m_bus) {
        gst_bus_set_sync_handler(m_bus.get(), nullptr, nullptr, nullptr);
    }
}

bool DecodePipeline::push(std::span<const uint8_t> data, uint64_t pts) {
    if (failed()) {
        return false;
    }
    GstBuffer* buffer = gst_buffer_new_allocate(nullptr, data.size(), nullptr);
    if (!buffer) {
        return false;
    }
    if (!data.empty()) {
        gst_buffer_fill(buffer, 0, data.data(), data.size());
    }
    GST_BUFFER_PTS(buffer) = pts;
    GST_BUFFER_DTS(buffer) = pts;
    // push_buffer takes the buffer whatever it returns.
    return gst_app_src_push_buffer(GST_APP_SRC(m_source.get()), buffer) == GST_FLOW_OK;
}

void DecodePipeline::endOfStream() {
    gst_app_src_end_of_stream(GST_APP_SRC(m_source.get()));
}

uint64_t DecodePipeline::queuedBuffers() const {
    return gst_app_src_get_current_level_buffers(GST_APP_SRC(m_source.get()));
}

std::string DecodePipeline::firstError() const {
    std::lock_guard lock(m_errorMutex);
    return m_firstError;
}

bool DecodePipeline::restart() {
    gst_element_set_state(m_pipeline.get(), GST_STATE_READY);
    {
        std::lock_guard lock(m_errorMutex);
        m_firstError.clear();
        m_failed.store(false, std::memory_order_release);
    }
    return gst_element_set_state(m_pipeline.get(), GST_STATE_PLAYING) != GST_STATE_CHANGE_FAILURE;
}

GstBusSyncReply DecodePipeline::onBusMessage(GstBus*, GstMessage* message, gpointer data) {
    auto* self = static_cast<DecodePipeline*>(data);
    switch (GST_MESSAGE_TYPE(message)) {
    case GST_MESSAGE_ERROR: {
        self->fail(describeGstMessage(message));
        break;
    }
    case GST_MESSAGE_WARNING:
        qCDebug(lcMedia) << "warning:" << describeGstMessage(message).c_str();
        break;
    case GST_MESSAGE_EOS:
        if (self->m_callbacks.endOfStream) {
            self->m_callbacks.endOfStream();
        }
        break;
    default:
        break;
    }
    // A sync handler that drops a message owns it (GstBusSyncHandler's contract): without this
    // unref every message the pipeline ever posted stayed allocated, ~130 KB per 10 minutes of
    // H.264 (heaptrack, and GStreamer's leaks tracer: state changes, latency, tags from appsink).
    gst_message_unref(message);
    return GST_BUS_DROP;
}

void DecodePipeline::fail(const std::string& text) {
    // Only the first error counts: elements often post a second "internal data stream error"
    // from the source once the decoder has failed.
    {
        std::lock_guard lock(m_errorMutex);
        if (m_failed.load(std::memory_order_relaxed)) {
            return;
        }
        m_firstError = text;
        m_failed.store(true, std::memory_order_release);
    }
    if (m_callbacks.error) {
        m_callbacks.error(text);
    }
}

GstPadProbeReturn DecodePipeline::onDecoderInputEvent(GstPad*, GstPadProbeInfo* info, gpointer data) {
    auto* self = static_cast<DecodePipeline*>(data);
    GstEvent* event = GST_PAD_PROBE_INFO_EVENT(info);
    if (GST_EVENT_TYPE(event) != GST_EVENT_CAPS) {
        return GST_PAD_PROBE_OK;
    }
    GstCaps* caps = nullptr;
    gst_event_parse_caps(event, &caps);
    const GstStructure* st = caps && gst_caps_get_size(caps) > 0 ? gst_caps_get_structure(caps, 0) : nullptr;
    int width = 0;
    int height = 0;
    if (st && gst_structure_get_int(st, "width", &width) && gst_structure_get_int(st, "height", &height) &&
        (width <= 0 || height <= 0 || width > self->m_maxWidth || height > self->m_maxHeight)) {
        // Dropping the caps leaves the decoder unconfigured: it refuses the data that follows
        // (not-negotiated), and the stream is reported broken here, before any allocation.
        self->fail(self->m_decoderName + ": stream declares " + std::to_string(width) + "x" +
                   std::to_string(height) + ", over the " + std::to_string(self->m_maxWidth) + "x" +
                   std::to_string(self->m_maxHeight) + " limit");
        return GST_PAD_PROBE_DROP;
    }
    return GST_PAD_PROBE_OK;
}

GstFlowReturn DecodePipeline::onNewSample(GstAppSink* sink, gpointer data) {
    auto* self = static_cast<DecodePipeline*>(data);
    SamplePtr sample(gst_app_sink_pull_sample(sink));
    if (sample && self->m_callbacks.sample) {
        self->m_callbacks.sample(std::move(sample));
    }
    return GST_FLOW_OK;
}

GstPadProbeReturn DecodePipeline::onBufferLeavesSource(GstPad*, GstPadProbeInfo*, gpointer data) {
    auto* self = static_cast<DecodePipeline*>(data);
    if (self->m_callbacks.dequeued) {
        self->m_callbacks.dequeued();
    }
    return GST_PAD_PROBE_OK;
}

} // namespace saffron
