#include "VideoDecoderPool.h"

#include "DecoderSelector.h"

namespace saffron {

VideoDecoderPool::VideoDecoderPool(std::shared_ptr<DecoderSelector> selector, VideoDecoderOptions options,
                                   size_t keepPerCodec)
    : m_shared(std::make_shared<Shared>()) {
    m_shared->selector = std::move(selector);
    m_shared->options = options;
    m_shared->keepPerCodec = keepPerCodec;
}

VideoDecoderPool::VideoDecoderPool() : VideoDecoderPool(DecoderSelector::processDefault()) {}

VideoDecoderPool::~VideoDecoderPool() {
    clear();
}

VideoDecoderPool::Handle VideoDecoderPool::acquire(VideoCodec codec, VideoDecoderCallbacks callbacks) {
    std::unique_ptr<VideoDecoder> decoder;
    {
        std::lock_guard lock(m_shared->mutex);
        auto& list = m_shared->idle[codec];
        if (!list.empty()) {
            decoder = std::move(list.back());
            list.pop_back();
        }
    }
    if (!decoder) {
        decoder = std::make_unique<VideoDecoder>(codec, m_shared->selector, m_shared->options);
    }
    decoder->setCallbacks(std::move(callbacks));
    return Handle(decoder.release(), Return{m_shared});
}

void VideoDecoderPool::Return::operator()(VideoDecoder* raw) const {
    std::unique_ptr<VideoDecoder> decoder(raw);
    if (!decoder) {
        return;
    }
    auto shared = pool.lock();
    if (!shared) {
        return;
    }
    // Callbacks first, so nothing reaches the old stream's owner while the reset drains.
    decoder->setCallbacks({});
    decoder->reset();
    std::lock_guard lock(shared->mutex);
    auto& list = shared->idle[decoder->codec()];
    if (list.size() < shared->keepPerCodec) {
        list.push_back(std::move(decoder));
    }
    // Otherwise the decoder is destroyed on return, after the lock (declared later) is released.
}

size_t VideoDecoderPool::idle(VideoCodec codec) const {
    std::lock_guard lock(m_shared->mutex);
    auto it = m_shared->idle.find(codec);
    return it == m_shared->idle.end() ? 0 : it->second.size();
}

void VideoDecoderPool::clear() {
    std::map<VideoCodec, std::vector<std::unique_ptr<VideoDecoder>>> doomed;
    {
        std::lock_guard lock(m_shared->mutex);
        doomed.swap(m_shared->idle);
    }
    // Destroyed here, outside the lock: stopping pipelines takes a moment.
}

} // namespace saffron
