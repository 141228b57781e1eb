#pragma once

#include "VideoCodec.h"
#include "VideoDecoder.h"

#include <map>
#include <memory>
#include <mutex>
#include <vector>

namespace saffron {

class DecoderSelector;

// Keeps idle VideoDecoders so short-lived streams do not build a pipeline (and open a hardware
// decoder) each time: QEMU splits a full-screen video into about ten band streams and re-creates
// them whenever the video region changes.
//
// acquire() hands out a decoder for a codec (an idle one, reset, or a new one); destroying the
// handle gives it back: its callbacks are cleared, it is reset, and kept if fewer than
// `keepPerCodec` of that codec are idle, destroyed otherwise. Handles may outlive the pool (they
// then just destroy their decoder). Thread safe.
class VideoDecoderPool {
    struct Shared;

public:
    struct Return {
        std::weak_ptr<Shared> pool;
        void operator()(VideoDecoder* decoder) const;
    };
    using Handle = std::unique_ptr<VideoDecoder, Return>;

    explicit VideoDecoderPool(std::shared_ptr<DecoderSelector> selector, VideoDecoderOptions options = {},
                              size_t keepPerCodec = 12);
    VideoDecoderPool();
    ~VideoDecoderPool();

    // A decoder with the given callbacks set.
    Handle acquire(VideoCodec codec, VideoDecoderCallbacks callbacks);
    size_t idle(VideoCodec codec) const;
    // Destroys every idle decoder (e.g. when the display channel closes).
    void clear();

private:
    struct Shared {
        std::shared_ptr<DecoderSelector> selector;
        VideoDecoderOptions options;
        size_t keepPerCodec = 0;
        mutable std::mutex mutex;
        std::map<VideoCodec, std::vector<std::unique_ptr<VideoDecoder>>> idle;
    };
    std::shared_ptr<Shared> m_shared;
};

} // namespace saffron
