#include "AudioCapture.h"

#include "AudioLog.h"
#include "PipeWireHandles.h"
#include "PipeWireStreamParams.h"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <spa/utils/result.h>
#include <vector>

namespace saffron {

struct AudioCapture::Impl {
    AudioCaptureOptions options;
    DataCallback onData;
    std::unique_ptr<PipeWireConnection> connection;
    PwStreamPtr stream;
    spa_hook streamListener{};
    pw_stream_events streamEvents{};

    std::atomic<uint64_t> framesCaptured{0};
    std::atomic<uint64_t> callbacks{0};
    std::atomic<bool> streaming{false};

    // Loop thread (or loop lock held).
    std::vector<float> gains;
    bool mute = false;
    std::string error;

    static void onStateChanged(void* data, pw_stream_state old, pw_stream_state state, const char* error);
    static void onProcess(void* data);
};

void AudioCapture::Impl::onStateChanged(void* data, pw_stream_state /*old*/, pw_stream_state state,
                                        const char* error) {
    auto* self = static_cast<Impl*>(data);
    self->streaming = state == PW_STREAM_STATE_STREAMING;
    qCDebug(lcAudio) << "capture stream" << streamStateName(state).c_str() << (error ? error : "");
    if (state == PW_STREAM_STATE_ERROR) {
        self->error = std::string("PipeWire capture stream failed: ") + (error ? error : "unknown error");
        qCWarning(lcAudio) << self->error.c_str();
    }
    if (state == PW_STREAM_STATE_PAUSED || state == PW_STREAM_STATE_STREAMING) {
        applyVolumeControls(self->stream.get(), self->gains, self->mute);
    }
}

// Realtime thread.
void AudioCapture::Impl::onProcess(void* data) {
    auto* self = static_cast<Impl*>(data);
    pw_buffer* buffer = pw_stream_dequeue_buffer(self->stream.get());
    if (!buffer) {
        return;
    }
    const spa_data& d = buffer->buffer->datas[0];
    const size_t stride = self->options.format.bytesPerFrame();
    if (d.data && d.chunk) {
        // The chunk comes from our own adapter (the format was negotiated to S16LE at our rate),
        // but clamp it to the mapped size anyway before reading.
        const size_t offset = std::min<size_t>(d.chunk->offset % (d.maxsize ? d.maxsize : 1), d.maxsize);
        const size_t size = std::min<size_t>(d.chunk->size, d.maxsize - offset);
        const size_t frames = size / stride;
        // An offset off the frame grid would misalign the int16 view: drop such a chunk.
        if (frames > 0 && offset % stride == 0) {
            std::span<const int16_t> samples(
                reinterpret_cast<const int16_t*>(static_cast<const uint8_t*>(d.data) + offset),
                frames * self->options.format.channels);
            self->framesCaptured += frames;
            ++self->callbacks;
            if (self->onData) {
                self->onData(samples);
            }
        }
    }
    pw_stream_queue_buffer(self->stream.get(), buffer);
}

std::unique_ptr<AudioCapture> AudioCapture::create(const AudioCaptureOptions& options, DataCallback onData,
                                                   std::string& error) {
    if (std::string why = options.format.validate(); !why.empty()) {
        error = "invalid capture format: " + why;
        return nullptr;
    }
    if (options.quantumFrames < 16 || options.quantumFrames > 8192) {
        error = "invalid capture quantum: " + std::to_string(options.quantumFrames) + " frames";
        return nullptr;
    }
    auto impl = std::make_unique<Impl>();
    impl->options = options;
    impl->onData = std::move(onData);
    impl->gains.assign(options.format.channels, 1.0f);
    impl->connection = PipeWireConnection::open("saffron-capture", options.remote, error);
    if (!impl->connection) {
        return nullptr;
    }
    ThreadLoopLock lock(impl->connection->loop());
    pw_properties* props = newStreamProperties("Capture", options.streamName, options.target,
                                               options.quantumFrames, options.format.rate);
    if (options.captureSinkMonitor) {
        pw_properties_set(props, PW_KEY_STREAM_CAPTURE_SINK, "true");
    }
    if (options.pinToTarget) {
        pw_properties_set(props, PW_KEY_NODE_DONT_RECONNECT, "true");
    }
    impl->stream.reset(pw_stream_new(impl->connection->core(), options.streamName.c_str(), props));
    if (!impl->stream) {
        error = std::string("cannot create a PipeWire capture stream: ") + std::strerror(errno);
        return nullptr;
    }
    impl->streamEvents.version = PW_VERSION_STREAM_EVENTS;
    impl->streamEvents.state_changed = &Impl::onStateChanged;
    impl->streamEvents.process = &Impl::onProcess;
    pw_stream_add_listener(impl->stream.get(), &impl->streamListener, &impl->streamEvents, impl.get());

    uint8_t podBuffer[1024];
    const spa_pod* params[1] = {buildRawFormatParam(options.format, podBuffer)};
    const auto flags =
        pw_stream_flags(PW_STREAM_FLAG_AUTOCONNECT | PW_STREAM_FLAG_MAP_BUFFERS | PW_STREAM_FLAG_RT_PROCESS);
    if (int res = pw_stream_connect(impl->stream.get(), PW_DIRECTION_INPUT, PW_ID_ANY, flags, params, 1);
        res < 0) {
        error = std::string("cannot connect the PipeWire capture stream: ") + spa_strerror(res);
        return nullptr;
    }
    qCInfo(lcAudio) << "capture stream" << options.streamName.c_str() << options.format.rate << "Hz"
                    << options.format.channels << "ch, target"
                    << (options.target.empty() ? "default" : options.target.c_str());
    return std::unique_ptr<AudioCapture>(new AudioCapture(std::move(impl)));
}

AudioCapture::AudioCapture(std::unique_ptr<Impl> impl) : m_impl(std::move(impl)) {}

AudioCapture::~AudioCapture() {
    if (!m_impl->connection) {
        return;
    }
    {
        ThreadLoopLock lock(m_impl->connection->loop());
        endStream(m_impl->stream, m_impl->streamListener);
    }
    m_impl->connection.reset();
}

void AudioCapture::setVolume(std::span<const uint16_t> volumes) {
    if (volumes.empty()) {
        return;
    }
    ThreadLoopLock lock(m_impl->connection->loop());
    m_impl->gains = gainsFromSpiceVolumes(volumes, m_impl->options.format.channels);
    applyVolumeControls(m_impl->stream.get(), m_impl->gains, m_impl->mute);
}

void AudioCapture::setMute(bool mute) {
    ThreadLoopLock lock(m_impl->connection->loop());
    m_impl->mute = mute;
    applyVolumeControls(m_impl->stream.get(), m_impl->gains, m_impl->mute);
}

AudioCaptureStats AudioCapture::stats() const {
    AudioCaptureStats s;
    s.framesCaptured = m_impl->framesCaptured.load();
    s.callbacks = m_impl->callbacks.load();
    s.streaming = m_impl->streaming.load();
    return s;
}

const AudioCaptureOptions& AudioCapture::options() const {
    return m_impl->options;
}

std::string AudioCapture::error() const {
    return m_impl->connection->streamError(m_impl->error);
}

} // namespace saffron
