#include "AudioPlayback.h"

#include "AudioLog.h"
#include "AudioRingBuffer.h"
#include "DriftController.h"
#include "PipeWireHandles.h"
#include "PipeWireStreamParams.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstring>
#include <mutex>
#include <spa/param/props.h>
#include <spa/utils/result.h>
#include <vector>

namespace saffron {

namespace {
// How often the loop thread hands the controller's ratio to PipeWire. pw_stream_set_control
// belongs on the loop thread, not the realtime one, and the controller moves slowly anyway.
constexpr int64_t kRateUpdateNs = 50'000'000;
// Ratio changes smaller than this are not worth a control update (0.001 %).
constexpr double kRateEpsilon = 1e-5;
// How far a quiet period lowers a jitter-raised target (AudioPlaybackOptions::relaxAfterSeconds).
constexpr uint32_t kRelaxStepMs = 5;
// The ring ran dry and data came back within this: jitter the queue did not cover (an underrun,
// the target goes up). Longer, or never: the guest paused or ended its sound without a
// PLAYBACK_STOP, which no queue could have bridged (the target stops at 200 ms), so the target
// stays where it is.
constexpr int64_t kPauseNs = 1'000'000'000;

int64_t steadyNs() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}
} // namespace

struct AudioPlayback::Impl {
    AudioPlaybackOptions options;
    std::unique_ptr<PipeWireConnection> connection;
    PwStreamPtr stream;
    spa_hook streamListener{};
    pw_stream_events streamEvents{};
    spa_source* rateTimer = nullptr;

    std::unique_ptr<AudioRingBuffer> ring;
    std::atomic<size_t> targetFrames{0};
    std::atomic<uint32_t> targetMs{0};
    size_t bandFrames = 0;
    // target = floor (options or the server's PLAYBACK_LATENCY) + what jitter added.
    std::atomic<uint32_t> floorMs{0};
    std::atomic<uint32_t> jitterMs{0};
    std::atomic<int64_t> lastUnderrunNs{0};
    int64_t lastRelaxNs = 0;     // loop thread
    uint32_t loggedTargetMs = 0; // loop thread

    // Realtime thread only.
    DriftController controller;
    bool playingRt = false;
    int64_t dryAtNs = 0;        // when the ring ran dry while playing; 0: it did not (or that was settled)
    size_t aboveBandFrames = 0; // played since the smoothed fill went above target + band
    std::vector<int16_t> scratch;

    // Shared between threads.
    std::atomic<bool> flushRequested{false};
    std::atomic<bool> ending{false};
    std::atomic<bool> playing{false};
    std::atomic<bool> streaming{false};
    std::atomic<double> ratio{1.0};
    std::atomic<double> smoothedFillMs{0};
    std::atomic<double> pipelineDelayMs{0};
    std::atomic<uint64_t> framesWritten{0};
    std::atomic<uint64_t> framesPlayed{0};
    std::atomic<uint64_t> overflowFrames{0};
    std::atomic<uint64_t> skippedFrames{0};
    std::atomic<uint64_t> underruns{0};

    // Loop thread (or loop lock held).
    double appliedRatio = 1.0;
    std::vector<float> gains; // the server's, per channel (empty: none sent yet)
    bool mute = false;
    float localGain = 1.0f;
    bool localMute = false;
    std::string error;

    // Pushes server x local volume and mute to the stream (loop thread or loop lock held).
    void applyControls();
    // Recomputes the target from floor + jitter: atomics only, so any thread (realtime too).
    void updateTarget();
    // Adds (step > 0) or removes jitter allowance, keeping floor + jitter within maxTargetMs.
    void adjustJitter(int32_t stepMs);
    static void onStateChanged(void* data, pw_stream_state old, pw_stream_state state, const char* error);
    static void onProcess(void* data);
    static void onRateTimer(void* data, uint64_t expirations);
    void process();
};

void AudioPlayback::Impl::onStateChanged(void* data, pw_stream_state /*old*/, pw_stream_state state,
                                         const char* error) {
    auto* self = static_cast<Impl*>(data);
    self->streaming = state == PW_STREAM_STATE_STREAMING;
    qCDebug(lcAudio) << "playback stream" << streamStateName(state).c_str() << (error ? error : "");
    if (state == PW_STREAM_STATE_ERROR) {
        self->error = std::string("PipeWire playback stream failed: ") + (error ? error : "unknown error");
        qCWarning(lcAudio) << self->error.c_str();
    }
    // Controls only exist once the adapter does; re-apply what the session asked for meanwhile.
    if (state == PW_STREAM_STATE_PAUSED || state == PW_STREAM_STATE_STREAMING) {
        self->applyControls();
        self->appliedRatio = 1.0;
    }
}

void AudioPlayback::Impl::applyControls() {
    if (!stream)
        return;
    std::vector<float> effective = gains;
    effective.resize(std::max<size_t>(options.format.channels, 1), gains.empty() ? 1.0f : gains.back());
    for (float& g : effective)
        g *= localGain;
    applyVolumeControls(stream.get(), effective, mute || localMute);
}

void AudioPlayback::Impl::updateTarget() {
    const uint32_t limit = options.capacityMs - 4 * options.bandMs;
    const uint32_t ms = std::min(floorMs.load() + jitterMs.load(), limit);
    targetMs = ms;
    targetFrames = options.format.framesFor(ms);
}

void AudioPlayback::Impl::adjustJitter(int32_t stepMs) {
    uint32_t current = jitterMs.load();
    uint32_t wanted = 0;
    do {
        const uint32_t room = options.maxTargetMs > floorMs.load() ? options.maxTargetMs - floorMs.load() : 0;
        wanted = stepMs >= 0 ? std::min(current + uint32_t(stepMs), room)
                             : current - std::min(current, uint32_t(-stepMs));
    } while (!jitterMs.compare_exchange_weak(current, wanted));
    updateTarget();
}

void AudioPlayback::Impl::onProcess(void* data) {
    static_cast<Impl*>(data)->process();
}

// Realtime thread: no locks, no allocation (scratch is sized at creation).
void AudioPlayback::Impl::process() {
    pw_buffer* buffer = pw_stream_dequeue_buffer(stream.get());
    if (!buffer) {
        return;
    }
    spa_buffer* spaBuffer = buffer->buffer;
    spa_data& d = spaBuffer->datas[0];
    if (!d.data) {
        pw_stream_queue_buffer(stream.get(), buffer);
        return;
    }
    const uint32_t channels = options.format.channels;
    const size_t stride = options.format.bytesPerFrame();
    const size_t maxFrames = d.maxsize / stride;
    // `requested` is what the (adaptive) resampler needs for this cycle; 0 when PipeWire does
    // not say, then one quantum.
    size_t frames = buffer->requested ? size_t(buffer->requested) : size_t(options.quantumFrames);
    frames = std::min({frames, maxFrames, scratch.size() / channels});
    std::span<int16_t> out(scratch.data(), frames * channels);

    if (flushRequested.exchange(false)) {
        ring->discard(ring->capacityFrames());
        playingRt = false;
        dryAtNs = 0;
    }
    size_t fill = ring->fillFrames();
    if (!playingRt && dryAtNs != 0 && fill > 0) {
        // Data again after the ring ran dry: count it (and queue more from now on) only when
        // the gap was jitter, not a pause. Decided before the restart below, so that playing
        // resumes at the raised target.
        if (steadyNs() - dryAtNs <= kPauseNs) {
            ++underruns;
            if (options.underrunStepMs > 0) {
                adjustJitter(int32_t(options.underrunStepMs));
                lastUnderrunNs.store(steadyNs(), std::memory_order_relaxed);
            }
        }
        dryAtNs = 0;
    }
    const size_t targetFrames = this->targetFrames.load(std::memory_order_relaxed);
    // Skip only far beyond the band, so the controller does the normal work.
    const size_t skipAboveFrames = std::min(ring->capacityFrames() * 9 / 10, targetFrames + 4 * bandFrames);
    if (fill > skipAboveFrames) {
        // A burst (the session thread stalled, then caught up) would otherwise take minutes to
        // drain at 1 % correction: cut back to target at once.
        skippedFrames += ring->discard(fill - targetFrames);
        fill = targetFrames;
    }
    if (!playingRt && fill >= targetFrames) {
        // (Re)start exactly at target: whatever piled up while the stream was being linked or
        // stalled would otherwise be worked off by the rate correction, an audible pitch shift
        // for seconds. The controller's learnt clock offset (its integral) is kept.
        if (fill > targetFrames) {
            skippedFrames += ring->discard(fill - targetFrames);
        }
        playingRt = true;
        controller.restartSmoothing();
        aboveBandFrames = 0;
    }
    controller.setTargetSeconds(double(targetFrames) / options.format.rate);
    size_t got = 0;
    if (playingRt) {
        got = ring->read(out);
        if (got < frames) {
            playingRt = false;
            if (!ending.load(std::memory_order_relaxed))
                dryAtNs = steadyNs(); // an underrun if data comes back soon (see above)
        }
    }
    std::fill(out.begin() + ptrdiff_t(got * channels), out.end(), int16_t(0));
    std::memcpy(d.data, out.data(), frames * stride);
    d.chunk->offset = 0;
    d.chunk->stride = int32_t(stride);
    d.chunk->size = uint32_t(frames * stride);
    framesPlayed += got;
    playing = playingRt;

    if (options.adaptiveRate && playingRt) {
        const double rate = options.format.rate;
        const double fillSeconds = double(ring->fillFrames()) / rate;
        // This cycle's frames cover frames/ratio of sink time.
        const double r = controller.update(fillSeconds, double(frames) / rate / controller.ratio());
        ratio.store(r, std::memory_order_relaxed);
        // A sink that stalled (its graph some cycles late on a loaded machine, a USB card
        // re-clocking) never plays what it missed, so the queue stays up by the stall. Below
        // the burst threshold above, the controller would work that off at its 1 % limit less
        // the drift: 90 ms took 18 s, the sound that long behind the picture. The listener has
        // heard the stall already, so once the smoothed fill has stayed above the band for a
        // second (the controller is not getting there), cut back to target.
        if (controller.smoothedFillSeconds() * rate > double(targetFrames + bandFrames)) {
            aboveBandFrames += got;
        } else {
            aboveBandFrames = 0;
        }
        if (aboveBandFrames >= size_t(options.format.rate)) {
            const size_t now = ring->fillFrames();
            if (now > targetFrames)
                skippedFrames += ring->discard(now - targetFrames);
            controller.restartSmoothing();
            aboveBandFrames = 0;
        }
        smoothedFillMs.store(controller.smoothedFillSeconds() * 1000.0, std::memory_order_relaxed);
    } else {
        smoothedFillMs.store(options.format.framesToMs(double(ring->fillFrames())),
                             std::memory_order_relaxed);
    }

    pw_time time{};
    if (pw_stream_get_time_n(stream.get(), &time, sizeof(time)) == 0 && time.rate.denom > 0) {
        const double delayMs = double(time.delay) * 1000.0 * time.rate.num / time.rate.denom;
        pipelineDelayMs.store(delayMs + options.format.framesToMs(double(time.queued) / double(stride)),
                              std::memory_order_relaxed);
    }
    pw_stream_queue_buffer(stream.get(), buffer);
}

void AudioPlayback::Impl::onRateTimer(void* data, uint64_t /*expirations*/) {
    auto* self = static_cast<Impl*>(data);
    if (!self->stream || pw_stream_get_state(self->stream.get(), nullptr) != PW_STREAM_STATE_STREAMING) {
        return;
    }
    // A quiet period gives back some of what jitter added (never below the floor).
    const int64_t now = steadyNs();
    const int64_t quietSince =
        std::max(self->lastUnderrunNs.load(std::memory_order_relaxed), self->lastRelaxNs);
    if (self->jitterMs.load() > 0 &&
        now - quietSince >= int64_t(self->options.relaxAfterSeconds) * 1'000'000'000) {
        self->adjustJitter(-int32_t(kRelaxStepMs));
        self->lastRelaxNs = now;
    }
    if (const uint32_t t = self->targetMs.load(); t != self->loggedTargetMs) {
        qCInfo(lcAudio) << "playback target" << t << "ms (underruns" << self->underruns.load() << ")";
        self->loggedTargetMs = t;
    }
    const double r = self->ratio.load(std::memory_order_relaxed);
    if (std::abs(r - self->appliedRatio) < kRateEpsilon) {
        return;
    }
    // SPA_PROP_rate on a playback stream reaches the adapter's audioconvert, which switches its
    // resampler to adaptive mode the first time the value differs from 1.0 (PipeWire >= 0.3.4x)
    // and from then on asks for `rate` x quantum input frames per cycle (pw_buffer.requested).
    float value = float(r);
    if (pw_stream_set_control(self->stream.get(), SPA_PROP_rate, 1, &value, 0) == 0) {
        self->appliedRatio = r;
    }
}

std::unique_ptr<AudioPlayback> AudioPlayback::create(const AudioPlaybackOptions& options,
                                                     std::string& error) {
    if (std::string why = options.format.validate(); !why.empty()) {
        error = "invalid playback format: " + why;
        return nullptr;
    }
    if (options.targetMs == 0 || options.maxTargetMs < options.targetMs ||
        options.capacityMs < std::max(options.targetMs, options.maxTargetMs) + 4 * options.bandMs ||
        options.capacityMs > 10'000 || options.quantumFrames < 16 || options.quantumFrames > 8192) {
        error = "invalid playback buffering: target " + std::to_string(options.targetMs) + " ms, band " +
                std::to_string(options.bandMs) + " ms, capacity " + std::to_string(options.capacityMs) +
                " ms, quantum " + std::to_string(options.quantumFrames) + " frames";
        return nullptr;
    }
    auto impl = std::make_unique<Impl>();
    impl->options = options;
    const AudioFormat& format = options.format;
    impl->ring = std::make_unique<AudioRingBuffer>(format.framesFor(options.capacityMs), format.channels);
    impl->floorMs = options.targetMs;
    const uint32_t start = std::min(options.startTargetMs, options.maxTargetMs);
    impl->adjustJitter(start > options.targetMs ? int32_t(start - options.targetMs) : 0);
    impl->loggedTargetMs = options.targetMs;
    impl->lastRelaxNs = steadyNs();
    impl->bandFrames = format.framesFor(options.bandMs);
    DriftController::Params params;
    params.targetSeconds = options.targetMs / 1000.0;
    impl->controller = DriftController(params);
    // Room for the largest request: a big quantum at the maximum correction.
    impl->scratch.assign(size_t(16384) * format.channels, 0);
    impl->gains.assign(format.channels, 1.0f);

    impl->connection = PipeWireConnection::open("saffron-playback", options.remote, error);
    if (!impl->connection) {
        return nullptr;
    }
    pw_thread_loop* loop = impl->connection->loop();
    ThreadLoopLock lock(loop);
    pw_properties* props = newStreamProperties("Playback", options.streamName, options.target,
                                               options.quantumFrames, format.rate);
    impl->stream.reset(pw_stream_new(impl->connection->core(), options.streamName.c_str(), props));
    if (!impl->stream) {
        error = std::string("cannot create a PipeWire playback stream: ") + std::strerror(errno);
        return nullptr;
    }
    impl->streamEvents.version = PW_VERSION_STREAM_EVENTS;
    impl->streamEvents.state_changed = &Impl::onStateChanged;
    impl->streamEvents.process = &Impl::onProcess;
    pw_stream_add_listener(impl->stream.get(), &impl->streamListener, &impl->streamEvents, impl.get());

    uint8_t podBuffer[1024];
    const spa_pod* params1[1] = {buildRawFormatParam(format, podBuffer)};
    const auto flags =
        pw_stream_flags(PW_STREAM_FLAG_AUTOCONNECT | PW_STREAM_FLAG_MAP_BUFFERS | PW_STREAM_FLAG_RT_PROCESS);
    if (int res = pw_stream_connect(impl->stream.get(), PW_DIRECTION_OUTPUT, PW_ID_ANY, flags, params1, 1);
        res < 0) {
        error = std::string("cannot connect the PipeWire playback stream: ") + spa_strerror(res);
        return nullptr;
    }
    impl->rateTimer = pw_loop_add_timer(pw_thread_loop_get_loop(loop), &Impl::onRateTimer, impl.get());
    if (impl->rateTimer) {
        timespec value{0, kRateUpdateNs};
        timespec interval{0, kRateUpdateNs};
        pw_loop_update_timer(pw_thread_loop_get_loop(loop), impl->rateTimer, &value, &interval, false);
    }
    qCInfo(lcAudio) << "playback stream" << options.streamName.c_str() << format.rate << "Hz"
                    << format.channels << "ch, target"
                    << (options.target.empty() ? "default" : options.target.c_str());
    return std::unique_ptr<AudioPlayback>(new AudioPlayback(std::move(impl)));
}

AudioPlayback::AudioPlayback(std::unique_ptr<Impl> impl) : m_impl(std::move(impl)) {}

AudioPlayback::~AudioPlayback() {
    if (!m_impl->connection) {
        return;
    }
    {
        ThreadLoopLock lock(m_impl->connection->loop());
        if (m_impl->rateTimer) {
            pw_loop_destroy_source(pw_thread_loop_get_loop(m_impl->connection->loop()), m_impl->rateTimer);
        }
        endStream(m_impl->stream, m_impl->streamListener);
    }
    m_impl->connection.reset();
}

size_t AudioPlayback::write(std::span<const int16_t> samples) {
    Impl& d = *m_impl;
    d.ending.store(false, std::memory_order_relaxed);
    const size_t frames = samples.size() / d.options.format.channels;
    const size_t taken = d.ring->write(samples);
    d.framesWritten += taken;
    if (taken < frames) {
        d.overflowFrames += frames - taken;
    }
    return taken;
}

void AudioPlayback::endOfStream() {
    m_impl->ending.store(true, std::memory_order_relaxed);
}

void AudioPlayback::flush() {
    m_impl->flushRequested.store(true);
}

void AudioPlayback::setVolume(std::span<const uint16_t> volumes) {
    if (volumes.empty()) {
        return;
    }
    ThreadLoopLock lock(m_impl->connection->loop());
    m_impl->gains = gainsFromSpiceVolumes(volumes, m_impl->options.format.channels);
    m_impl->applyControls();
}

void AudioPlayback::setMute(bool mute) {
    ThreadLoopLock lock(m_impl->connection->loop());
    m_impl->mute = mute;
    m_impl->applyControls();
}

void AudioPlayback::setLocalVolume(float gain) {
    ThreadLoopLock lock(m_impl->connection->loop());
    m_impl->localGain = std::clamp(gain, 0.0f, 1.0f);
    m_impl->applyControls();
}

void AudioPlayback::setLocalMute(bool mute) {
    ThreadLoopLock lock(m_impl->connection->loop());
    m_impl->localMute = mute;
    m_impl->applyControls();
}

uint32_t AudioPlayback::setTargetMs(uint32_t targetMs) {
    const AudioPlaybackOptions& o = m_impl->options;
    const uint32_t clamped = std::clamp<uint32_t>(targetMs, 10, o.capacityMs - 4 * o.bandMs);
    m_impl->floorMs = clamped;
    m_impl->adjustJitter(0); // the jitter allowance may no longer fit under maxTargetMs
    return clamped;
}

double AudioPlayback::latencyMs() const {
    return m_impl->options.format.framesToMs(double(m_impl->ring->fillFrames())) +
           m_impl->pipelineDelayMs.load(std::memory_order_relaxed);
}

AudioPlaybackStats AudioPlayback::stats() const {
    const Impl& d = *m_impl;
    AudioPlaybackStats s;
    s.fillMs = d.options.format.framesToMs(double(d.ring->fillFrames()));
    s.smoothedFillMs = d.smoothedFillMs.load(std::memory_order_relaxed);
    s.latencyMs = s.fillMs + d.pipelineDelayMs.load(std::memory_order_relaxed);
    s.correctionRatio = d.ratio.load(std::memory_order_relaxed);
    s.framesWritten = d.framesWritten.load();
    s.framesPlayed = d.framesPlayed.load();
    s.overflowFrames = d.overflowFrames.load();
    s.skippedFrames = d.skippedFrames.load();
    s.underruns = d.underruns.load();
    s.targetMs = d.targetMs.load();
    s.playing = d.playing.load();
    s.streaming = d.streaming.load();
    return s;
}

const AudioPlaybackOptions& AudioPlayback::options() const {
    return m_impl->options;
}

std::string AudioPlayback::error() const {
    return m_impl->connection->streamError(m_impl->error);
}

} // namespace saffron
