#include "AudioRingBuffer.h"

#include <algorithm>
#include <cstring>

namespace saffron {

AudioRingBuffer::AudioRingBuffer(size_t capacityFrames, uint32_t channels)
    : m_capacityFrames(std::max<size_t>(capacityFrames, 1)), m_channels(std::max<uint32_t>(channels, 1)),
      m_data(m_capacityFrames * m_channels) {}

size_t AudioRingBuffer::write(std::span<const int16_t> samples) {
    const uint64_t written = m_written.load(std::memory_order_relaxed);
    const uint64_t read = m_read.load(std::memory_order_acquire);
    const size_t space = m_capacityFrames - size_t(written - read);
    const size_t frames = std::min(space, samples.size() / m_channels);
    size_t done = 0;
    while (done < frames) {
        const size_t pos = size_t((written + done) % m_capacityFrames);
        const size_t chunk = std::min(frames - done, m_capacityFrames - pos);
        std::memcpy(&m_data[pos * m_channels], &samples[done * m_channels],
                    chunk * m_channels * sizeof(int16_t));
        done += chunk;
    }
    m_written.store(written + frames, std::memory_order_release);
    return frames;
}

size_t AudioRingBuffer::read(std::span<int16_t> out) {
    const uint64_t read = m_read.load(std::memory_order_relaxed);
    const uint64_t written = m_written.load(std::memory_order_acquire);
    const size_t frames = std::min(size_t(written - read), out.size() / m_channels);
    size_t done = 0;
    while (done < frames) {
        const size_t pos = size_t((read + done) % m_capacityFrames);
        const size_t chunk = std::min(frames - done, m_capacityFrames - pos);
        std::memcpy(&out[done * m_channels], &m_data[pos * m_channels], chunk * m_channels * sizeof(int16_t));
        done += chunk;
    }
    m_read.store(read + frames, std::memory_order_release);
    return frames;
}

size_t AudioRingBuffer::discard(size_t frames) {
    const uint64_t read = m_read.load(std::memory_order_relaxed);
    const uint64_t written = m_written.load(std::memory_order_acquire);
    const size_t n = std::min(size_t(written - read), frames);
    m_read.store(read + n, std::memory_order_release);
    return n;
}

size_t AudioRingBuffer::fillFrames() const {
    const uint64_t read = m_read.load(std::memory_order_acquire);
    const uint64_t written = m_written.load(std::memory_order_acquire);
    return written >= read ? size_t(written - read) : 0;
}

} // namespace saffron
