#include "VideoDecoder.h"

#include "AccessUnit.h"
#include "DecodePipeline.h"
#include "DecodedFrameNative.h"
#include "DecoderSelector.h"
#include "MediaLog.h"

#include <algorithm>
#include <set>
#include <stdexcept>

namespace saffron {

namespace {

// PTS step between frames. Only an identifier: appsink does not sync, so the value just has to
// increase; 1 ms keeps it readable in GST_DEBUG logs.
constexpr uint64_t kPtsStep = GST_MSECOND;
// Pending entries kept at most: frames a decoder swallowed without output are only noticed when
// a later frame comes out, so a decoder that outputs nothing must not grow the list forever.
constexpr size_t kMaxPending = 512;

uint64_t nanosSince(std::chrono::steady_clock::time_point t) {
    const auto d = std::chrono::steady_clock::now() - t;
    return static_cast<uint64_t>(
        std::max<int64_t>(0, std::chrono::duration_cast<std::chrono::nanoseconds>(d).count()));
}

} // namespace

const char* submitResultName(SubmitResult result) {
    switch (result) {
    case SubmitResult::Queued:
        return "queued";
    case SubmitResult::Backlogged:
        return "backlogged";
    case SubmitResult::Dropped:
        return "dropped";
    case SubmitResult::Rejected:
        return "rejected";
    case SubmitResult::NoDecoder:
        return "no decoder";
    }
    return "?";
}

// Streaming-thread state of one pipeline: the element it runs and the video info of its current
// output caps (re-parsed only when the caps change, i.e. on a new size).
struct VideoDecoder::PipelineContext {
    std::string element;
    bool hardware = false;
    GstCaps* lastCaps = nullptr; // identity only, never dereferenced after the sample is gone
    CapsPtr caps;
    GstVideoInfo info{};
};

VideoDecoder::VideoDecoder(VideoCodec codec, std::shared_ptr<DecoderSelector> selector,
                           VideoDecoderOptions options)
    : m_codec(codec), m_selector(std::move(selector)), m_options(options) {
    if (!m_selector) {
        throw std::invalid_argument("VideoDecoder needs a DecoderSelector");
    }
}

VideoDecoder::VideoDecoder(VideoCodec codec) : VideoDecoder(codec, DecoderSelector::processDefault()) {}

VideoDecoder::~VideoDecoder() {
    std::lock_guard lock(m_mutex);
    m_pipeline.reset(); // joins the streaming threads before the members they use go away
}

void VideoDecoder::setCallbacks(VideoDecoderCallbacks callbacks) {
    auto shared = std::make_shared<const VideoDecoderCallbacks>(std::move(callbacks));
    std::lock_guard lock(m_callbackMutex);
    m_callbacks = std::move(shared);
}

std::shared_ptr<const VideoDecoderCallbacks> VideoDecoder::callbacks() const {
    std::lock_guard lock(m_callbackMutex);
    return m_callbacks;
}

std::string VideoDecoder::currentDecoder() const {
    std::lock_guard lock(m_flowMutex);
    return m_stats.decoder;
}

DecoderStats VideoDecoder::stats() const {
    std::lock_guard lock(m_flowMutex);
    DecoderStats s = m_stats;
    s.queueDepth = static_cast<uint32_t>(m_pending.size());
    return s;
}

bool VideoDecoder::createPipelineLocked(const DecoderCandidate& first) {
    std::optional<DecoderCandidate> candidate = first;
    std::set<std::string> tried;
    // A candidate that passed its probe can still fail to start now (a hardware decoder out of
    // sessions while other streams hold them): move down the list rather than give up.
    while (candidate) {
        auto context = std::make_unique<PipelineContext>();
        context->element = candidate->element;
        context->hardware = candidate->hardware;
        PipelineContext* ctx = context.get();

        DecodePipeline::Callbacks callbacks;
        callbacks.sample = [this, ctx](SamplePtr sample) { onSample(*ctx, sample.get()); };
        callbacks.error = [this, element = candidate->element](const std::string& message) {
            onError(element, message);
        };
        callbacks.endOfStream = [this] {
            std::lock_guard lock(m_flowMutex);
            m_endOfStream = true;
            m_flowChanged.notify_all();
        };
        callbacks.dequeued = [this] { m_flowChanged.notify_all(); };

        PipelineOptions options;
        options.live = m_options.lowLatency;
        options.maxDecodeErrors = m_options.maxDecodeErrors;
        options.maxWidth = m_options.maxWidth;
        options.maxHeight = m_options.maxHeight;
        std::string error;
        m_pipeline = DecodePipeline::create(m_selector->registry(), m_codec, candidate->element, options,
                                            std::move(callbacks), &error);
        if (m_pipeline) {
            m_context = std::move(context);
            m_pushedSinceStart = 0;
            std::lock_guard lock(m_flowMutex);
            m_stats.decoder = candidate->element;
            m_stats.hardware = candidate->hardware;
            return true;
        }
        qCWarning(lcMedia).noquote() << QString::fromUtf8(videoCodecName(m_codec).data()) + ":"
                                     << "cannot start" << QString::fromStdString(candidate->element) + ":"
                                     << QString::fromStdString(error);
        tried.insert(candidate->element);
        m_selector->reportStreamError(m_codec, candidate->element, error);
        candidate = m_selector->next(m_codec, candidate->element);
        if (candidate && tried.count(candidate->element)) {
            break;
        }
    }
    std::lock_guard lock(m_flowMutex);
    m_stats.decoder.clear();
    m_stats.hardware = false;
    return false;
}

void VideoDecoder::startFromKeyFrameLocked() {
    {
        std::lock_guard lock(m_flowMutex);
        m_stats.dropped += m_pending.size();
        m_pending.clear();
        m_stats.sourceQueue = 0;
        m_endOfStream = false;
    }
    m_awaitRandomAccess = true;
    m_framesAwaitingKey = 0;
}

void VideoDecoder::dropPipelineLocked() {
    m_pipeline.reset();
    m_context.reset();
    startFromKeyFrameLocked();
}

void VideoDecoder::switchAfterErrorLocked() {
    const std::string failed = m_context ? m_context->element : std::string();
    const std::string message = m_pipeline ? m_pipeline->firstError() : std::string();
    dropPipelineLocked();
    m_selector->reportStreamError(m_codec, failed, message);
    // Next candidate, or round again from the best one: a fresh pipeline of the same element is
    // still the right answer to a corrupt frame when it is the only decoder there is.
    std::optional<DecoderCandidate> next = m_selector->next(m_codec, failed, m_format);
    if (!next) {
        next = m_selector->select(m_codec, m_format);
    }
    {
        std::lock_guard lock(m_flowMutex);
        ++m_stats.fallbacks;
    }
    if (next) {
        qCInfo(lcMedia).noquote() << QString::fromUtf8(videoCodecName(m_codec).data()) + ":"
                                  << "stream continues on" << QString::fromStdString(next->element) << "after"
                                  << QString::fromStdString(failed) << "failed, from the next key frame";
        createPipelineLocked(*next);
    }
}

void VideoDecoder::switchForFormatLocked(const DecoderCandidate& candidate) {
    qCInfo(lcMedia).noquote() << QString::fromUtf8(videoCodecName(m_codec).data()) + ":"
                              << "stream is" << QString::fromUtf8(chromaFormatName(m_format).data()) + ","
                              << "moving from" << QString::fromStdString(m_context->element) << "to"
                              << QString::fromStdString(candidate.element);
    // The unit that declared the format carries its parameter sets: decoding starts there.
    dropPipelineLocked();
    createPipelineLocked(candidate);
}

void VideoDecoder::reportRejected(const std::string& why) {
    if (auto cb = callbacks(); cb && cb->error) {
        cb->error(VideoDecoderError{"", why});
    }
}

SubmitResult VideoDecoder::submit(std::span<const uint8_t> data, uint64_t tag) {
    const AccessUnitInfo unit = inspectAccessUnit(m_codec, data);
    std::string rejection;
    if (!unit.plausible) {
        rejection = std::string(videoCodecName(m_codec)) + ": " + unit.problem;
    } else if (unit.width > m_options.maxWidth || unit.height > m_options.maxHeight) {
        rejection = std::string(videoCodecName(m_codec)) + ": frame declares " + std::to_string(unit.width) +
                    "x" + std::to_string(unit.height) + ", over the limit";
    }
    if (!rejection.empty()) {
        {
            std::lock_guard lock(m_flowMutex);
            ++m_stats.submitted;
            ++m_stats.rejected;
            ++m_stats.dropped;
        }
        reportRejected(rejection);
        return SubmitResult::Rejected;
    }

    std::lock_guard lock(m_mutex);
    auto countDropped = [this] {
        std::lock_guard flow(m_flowMutex);
        ++m_stats.submitted;
        ++m_stats.dropped;
    };
    const bool formatChanged = unit.chroma != ChromaFormat::Unknown && unit.chroma != m_format;
    if (unit.chroma != ChromaFormat::Unknown) {
        m_format = unit.chroma;
    }
    if (m_pipeline && m_pipeline->failed()) {
        switchAfterErrorLocked();
    } else if (!m_pipeline) {
        if (auto candidate = m_selector->select(m_codec, m_format)) {
            createPipelineLocked(*candidate);
        }
    } else if (formatChanged && m_context) {
        // Before the decoder sees the new parameter sets: NVDEC, for one, takes H.264 and VP9
        // 4:2:0 only and would fail on spice-server's 4:4:4 streams (its sink caps refuse
        // profile high-4:4:4), losing pictures until the next key frame; and back to hardware
        // when a 4:2:0 stream follows.
        if (auto best = m_selector->select(m_codec, m_format); best && best->element != m_context->element) {
            switchForFormatLocked(*best);
        }
    }
    if (!m_pipeline) {
        countDropped();
        return SubmitResult::NoDecoder;
    }

    if (m_awaitRandomAccess) {
        if (unit.randomAccess || unit.hasParameterSets ||
            ++m_framesAwaitingKey > m_options.maxFramesAwaitingKey) {
            if (!unit.randomAccess && !unit.hasParameterSets) {
                qCWarning(lcMedia) << videoCodecName(m_codec).data() << "no key frame recognised in"
                                   << m_options.maxFramesAwaitingKey << "frames; feeding the decoder anyway";
            }
            m_awaitRandomAccess = false;
            m_framesAwaitingKey = 0;
        } else {
            countDropped();
            return SubmitResult::Dropped;
        }
    }

    const uint64_t queued = m_pipeline->queuedBuffers();
    if (queued >= static_cast<uint64_t>(m_options.hardQueueLimit)) {
        // Refusing one frame breaks the reference chain: skip to the next key frame rather than
        // feed the decoder frames it cannot reconstruct.
        m_awaitRandomAccess = true;
        m_framesAwaitingKey = 0;
        countDropped();
        return SubmitResult::Dropped;
    }

    const uint64_t index = m_nextIndex++;
    {
        std::lock_guard flow(m_flowMutex);
        ++m_stats.submitted;
        m_pending.push_back({index, tag, std::chrono::steady_clock::now()});
        while (m_pending.size() > kMaxPending) {
            m_pending.pop_front();
            ++m_stats.dropped;
        }
        m_stats.sourceQueue = static_cast<uint32_t>(queued + 1);
    }
    ++m_pushedSinceStart;
    if (!m_pipeline->push(data, index * kPtsStep)) {
        std::lock_guard flow(m_flowMutex);
        auto it = std::find_if(m_pending.begin(), m_pending.end(),
                               [&](const Pending& p) { return p.index == index; });
        if (it != m_pending.end()) {
            m_pending.erase(it);
            ++m_stats.dropped;
        }
        m_awaitRandomAccess = true;
        return SubmitResult::Dropped;
    }
    return queued + 1 >= static_cast<uint64_t>(m_options.softQueueLimit) ? SubmitResult::Backlogged
                                                                         : SubmitResult::Queued;
}

bool VideoDecoder::waitForSpace(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::lock_guard lock(m_mutex);
    while (m_pipeline && !m_pipeline->failed() &&
           m_pipeline->queuedBuffers() >= static_cast<uint64_t>(m_options.hardQueueLimit)) {
        if (std::chrono::steady_clock::now() >= deadline) {
            return false;
        }
        // The appsrc level is read outside m_flowMutex, so wake up regularly instead of relying
        // on the notification alone.
        std::unique_lock flow(m_flowMutex);
        m_flowChanged.wait_for(flow, std::chrono::milliseconds(2));
    }
    return true;
}

bool VideoDecoder::drain(std::chrono::milliseconds timeout) {
    std::lock_guard lock(m_mutex);
    // Nothing given to this pipeline: nothing to wait for, and an EOS would only make parsers
    // complain that they found no frame.
    if (!m_pipeline || m_pushedSinceStart == 0) {
        return true;
    }
    {
        std::lock_guard flow(m_flowMutex);
        m_endOfStream = false;
    }
    m_pipeline->endOfStream();
    bool drained = false;
    {
        std::unique_lock flow(m_flowMutex);
        drained =
            m_flowChanged.wait_for(flow, timeout, [&] { return m_endOfStream || m_pipeline->failed(); });
    }
    if (!m_pipeline->failed()) {
        m_pipeline->restart();
        m_pushedSinceStart = 0;
    }
    startFromKeyFrameLocked();
    return drained;
}

void VideoDecoder::reset() {
    std::lock_guard lock(m_mutex);
    const std::optional<DecoderCandidate> best = m_selector->select(m_codec, m_format);
    const bool sameElement = m_pipeline && m_context && best && best->element == m_context->element;
    if (sameElement && m_pipeline->restart()) {
        // READY drops what appsrc queued and what the decoder held; PLAYING again takes new caps.
        m_pushedSinceStart = 0;
        startFromKeyFrameLocked();
    } else {
        dropPipelineLocked();
        if (best) {
            createPipelineLocked(*best);
        }
    }
}

void VideoDecoder::onError(const std::string& element, const std::string& message) {
    {
        std::lock_guard lock(m_flowMutex);
        ++m_stats.errors;
        // Whatever the failed pipeline still held will not come out.
        m_stats.dropped += m_pending.size();
        m_pending.clear();
        m_flowChanged.notify_all();
    }
    qCWarning(lcMedia).noquote() << QString::fromUtf8(videoCodecName(m_codec).data()) + ":"
                                 << "decoder error:" << QString::fromStdString(message);
    if (auto cb = callbacks(); cb && cb->error) {
        cb->error(VideoDecoderError{element, message});
    }
}

void VideoDecoder::onSample(PipelineContext& context, GstSample* sample) {
    GstBuffer* buffer = gst_sample_get_buffer(sample);
    GstCaps* caps = gst_sample_get_caps(sample);
    if (!buffer || !caps) {
        return;
    }
    if (caps != context.lastCaps || !context.caps || !gst_caps_is_equal(caps, context.caps.get())) {
        if (!gst_video_info_from_caps(&context.info, caps)) {
            onError(context.element, context.element + ": unreadable output caps");
            return;
        }
        context.caps.reset(gst_caps_ref(caps));
        context.lastCaps = caps;
    }

    // Match the frame to its submit() by PTS. Decoders output in submission order here (SPICE
    // encoders use no B-frames), so entries older than this frame were swallowed by the decoder.
    uint64_t tag = 0;
    uint64_t decodeNs = 0;
    const GstClockTime pts = GST_BUFFER_PTS(buffer);
    {
        std::lock_guard lock(m_flowMutex);
        const uint64_t index = GST_CLOCK_TIME_IS_VALID(pts) ? pts / kPtsStep : 0;
        while (!m_pending.empty() && m_pending.front().index < index) {
            m_pending.pop_front();
            ++m_stats.dropped;
        }
        if (!m_pending.empty()) {
            // Exact match, or (PTS lost by the element) the oldest frame still pending.
            tag = m_pending.front().tag;
            decodeNs = nanosSince(m_pending.front().submitted);
            m_pending.pop_front();
        }
    }

    auto native = std::make_unique<DecodedFrameNative>();
    native->sample.reset(gst_sample_ref(sample));
    native->info = context.info;
    if (!native->frame.map(native->info, buffer, GST_MAP_READ)) {
        onError(context.element, context.element + ": cannot map a decoded buffer");
        return;
    }
    std::shared_ptr<const DecodedFrame> frame;
    try {
        frame = std::make_shared<const DecodedFrame>(std::move(native), tag, decodeNs, context.element);
    } catch (const std::exception& e) {
        onError(context.element, context.element + ": " + e.what());
        return;
    }
    {
        std::lock_guard lock(m_flowMutex);
        ++m_stats.decoded;
        m_stats.decodeNsTotal += decodeNs;
        m_stats.decodeNsMax = std::max(m_stats.decodeNsMax, decodeNs);
        m_flowChanged.notify_all();
    }
    if (auto cb = callbacks(); cb && cb->frame) {
        cb->frame(std::move(frame));
    }
}

} // namespace saffron
