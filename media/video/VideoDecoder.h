#pragma once

#include "AccessUnit.h"
#include "DecodedFrame.h"
#include "DecoderStats.h"
#include "VideoCodec.h"

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>

struct _GstSample; // GStreamer's GstSample, kept out of this header

namespace saffron {

class DecoderSelector;
class DecodePipeline;
struct DecoderCandidate;

struct VideoDecoderOptions {
    // Frames waiting in appsrc before the decoder takes them. From `softQueueLimit` on, submit()
    // still queues but answers Backlogged; at `hardQueueLimit` it refuses the frame (Dropped) and
    // waits for the next key frame, so the caller is never blocked by a decoder that cannot keep up.
    int softQueueLimit = 4;
    int hardQueueLimit = 16;
    // Largest picture accepted from a stream header (checked before the decoder allocates).
    int maxWidth = 8192;
    int maxHeight = 8192;
    // Live appsrc: decoders pick their low-latency mode (see PipelineOptions::live).
    bool lowLatency = true;
    // GstVideoDecoder max-errors for our decoders: 0 turns the first undecodable frame into a
    // pipeline error (reported, then fallback), instead of concealing it forever. SPICE runs over
    // TCP, so a decode error is a broken stream or a broken decoder, never packet loss.
    int maxDecodeErrors = 0;
    // After dropping or switching decoders, frames are held back until a random-access frame; if
    // none is recognised within this many frames, feed anyway (guards against a stream whose key
    // frames we fail to recognise).
    int maxFramesAwaitingKey = 300;
};

enum class SubmitResult {
    Queued,     // accepted
    Backlogged, // accepted, but the decoder is falling behind (softQueueLimit reached)
    Dropped,    // not decoded: queue full, waiting for a key frame, or the push failed
    Rejected,   // not a plausible frame of this codec (error callback called too)
    NoDecoder,  // no working decoder for this codec here
};
const char* submitResultName(SubmitResult result);

struct VideoDecoderError {
    std::string decoder; // element that failed ("" for rejected input)
    std::string message; // "element: GStreamer message" or why the input was rejected
};

struct VideoDecoderCallbacks {
    // A decoded picture. Runs on a GStreamer streaming thread (never the caller's): keep it short
    // (upload or copy, then return) and do not call back into this VideoDecoder from it.
    std::function<void(std::shared_ptr<const DecodedFrame>)> frame;
    // A decode error. Runs on a GStreamer thread, except for Rejected input where it runs inside
    // submit() on the caller's thread. Same restriction: do not call into the decoder.
    std::function<void(const VideoDecoderError&)> error;
};

// Decodes one video stream: submit() encoded frames (one access unit / JPEG / VP8 or VP9 frame
// each, H.264/H.265 as Annex-B byte-stream) with a caller tag; decoded pictures come back through
// the frame callback carrying that tag. Decoding is asynchronous and submit() never waits for the
// decoder.
//
// The decoder element comes from the DecoderSelector (hardware first, probed). When the pipeline
// reports an error mid-stream, the next submit() switches to the next working candidate for the
// codec (wrapping round to the first one: a fresh pipeline) and resumes at the next key frame.
//
// submit(), reset(), drain(), waitForSpace() and the destructor are meant for one thread (the
// display channel's); stats() and currentDecoder() may be called from anywhere.
class VideoDecoder {
public:
    VideoDecoder(VideoCodec codec, std::shared_ptr<DecoderSelector> selector,
                 VideoDecoderOptions options = {});
    explicit VideoDecoder(VideoCodec codec);
    ~VideoDecoder();
    VideoDecoder(const VideoDecoder&) = delete;
    VideoDecoder& operator=(const VideoDecoder&) = delete;

    // Replaces the callbacks; a callback already running finishes with the old ones.
    void setCallbacks(VideoDecoderCallbacks callbacks);

    SubmitResult submit(std::span<const uint8_t> data, uint64_t tag);

    // Waits until submit() would not refuse a frame for a full queue (true), or `timeout` passes.
    // For callers that prefer waiting to dropping (benchmarks, file playback); the display channel
    // should not wait.
    bool waitForSpace(std::chrono::milliseconds timeout);

    // End of stream: waits until every submitted frame has been delivered (or dropped), at most
    // `timeout`. The pipeline is then restarted; the next frame must be a key frame.
    bool drain(std::chrono::milliseconds timeout);

    // Forgets the current stream (queued and in-flight frames are discarded without callbacks) so
    // the decoder can take a new stream, of any size. Goes back to the selector's current choice
    // if a fallback had switched elements. Blocks until the streaming thread has stopped.
    void reset();

    VideoCodec codec() const { return m_codec; }
    std::string currentDecoder() const;
    DecoderStats stats() const;

private:
    struct Pending {
        uint64_t index;
        uint64_t tag;
        std::chrono::steady_clock::time_point submitted;
    };
    struct PipelineContext; // per-pipeline state touched by the streaming thread

    bool createPipelineLocked(const DecoderCandidate& first);
    void switchAfterErrorLocked();
    // A new pipeline of `candidate` because the stream declared a format the current one does
    // not decode (or a better one does); no error counted.
    void switchForFormatLocked(const DecoderCandidate& candidate);
    // Forgets what is in flight (counted as dropped); decoding resumes at the next key frame.
    void startFromKeyFrameLocked();
    // Tears the pipeline down as well (a createPipelineLocked() follows).
    void dropPipelineLocked();
    void onSample(PipelineContext& context, ::_GstSample* sample);
    void onError(const std::string& element, const std::string& message);
    void reportRejected(const std::string& why);
    std::shared_ptr<const VideoDecoderCallbacks> callbacks() const;

    const VideoCodec m_codec;
    const std::shared_ptr<DecoderSelector> m_selector;
    const VideoDecoderOptions m_options;

    // Caller-side state: the pipeline and stream position. Only the API thread takes m_mutex; the
    // streaming thread never does, so stopping a pipeline under it cannot deadlock.
    mutable std::mutex m_mutex;
    std::unique_ptr<PipelineContext> m_context;
    std::unique_ptr<DecodePipeline> m_pipeline;
    bool m_awaitRandomAccess = true;
    int m_framesAwaitingKey = 0;
    // The chroma format the stream last declared (SPS / VP9 key frame). Kept across reset(): a
    // pooled decoder's next stream is most likely what the last one was (a server encodes every
    // stream of a surface alike).
    ChromaFormat m_format = ChromaFormat::Unknown;
    uint64_t m_nextIndex = 1;
    uint64_t m_pushedSinceStart = 0; // frames given to the current pipeline since it (re)started

    // Shared with the streaming thread: pending frames (tag map) and counters.
    mutable std::mutex m_flowMutex;
    std::condition_variable m_flowChanged;
    std::deque<Pending> m_pending;
    DecoderStats m_stats;
    bool m_endOfStream = false;

    mutable std::mutex m_callbackMutex;
    std::shared_ptr<const VideoDecoderCallbacks> m_callbacks;
};

} // namespace saffron
