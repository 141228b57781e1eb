#include "channels/RecordChannel.h"

#include "wire/Reader.h"
#include "wire/Writer.h"

#include <QLoggingCategory>
#include <spice/enums.h>
#include <spice/protocol.h>

namespace saffron {

namespace {
Q_LOGGING_CATEGORY(lcRecord, "saffron.audio.record")

// spice-server decodes record Opus packets into a buffer of SND_CODEC_MAX_FRAME_SIZE (480) frames
// (spice-common snd_codec.h), so Opus packets must hold 10 ms at 48 kHz; raw chunks use the same
// period.
constexpr uint32_t kChunkMs = 10;
// Opus bitrate for the microphone: speech and music stay clean at 64 kb/s stereo.
constexpr int kOpusBitrate = 64000;
// The hand-over queue holds this much; the timer normally leaves it near empty.
constexpr uint32_t kQueueMs = 500;
} // namespace

RecordChannel::RecordChannel(const SessionOptions& options, uint8_t id, QObject* parent)
    : Channel(options, SPICE_CHANNEL_RECORD, id, parent) {
    mode_ = SPICE_AUDIO_DATA_MODE_RAW;
    sinceCreated_.start();
    pumpTimer_.setInterval(int(kChunkMs));
    pumpTimer_.setTimerType(Qt::PreciseTimer);
    connect(&pumpTimer_, &QTimer::timeout, this, &RecordChannel::pump);
}

RecordChannel::~RecordChannel() {
    stopCapture();
}

Capabilities RecordChannel::channelCaps() const {
    Capabilities caps;
    caps.set(SPICE_RECORD_CAP_VOLUME);
    caps.set(SPICE_RECORD_CAP_OPUS);
    return caps;
}

uint32_t RecordChannel::now() const {
    return mmClock_ ? mmClock_() : uint32_t(sinceCreated_.elapsed());
}

void RecordChannel::handleMessage(uint16_t type, std::span<const uint8_t> body) {
    Reader r(body);
    switch (type) {
    case SPICE_MSG_RECORD_START:
        onStart(r);
        break;
    case SPICE_MSG_RECORD_STOP:
        qCInfo(lcRecord) << "stop";
        stopCapture();
        break;
    case SPICE_MSG_RECORD_VOLUME:
        onVolume(r);
        break;
    case SPICE_MSG_RECORD_MUTE:
        mute_ = r.u8() != 0;
        if (capture_) {
            capture_->setMute(mute_ || localMute_);
        }
        break;
    default:
        qCDebug(lcRecord) << "ignoring record message" << type;
    }
}

// START: uint32 channels, audio_fmt format, uint32 frequency.
void RecordChannel::onStart(Reader& r) {
    const uint32_t channels = r.u32();
    const uint16_t sampleFormat = r.u16();
    const uint32_t frequency = r.u32();
    if (sampleFormat != SPICE_AUDIO_FMT_S16) {
        throw ProtocolError("record format " + std::to_string(sampleFormat) + " is not S16");
    }
    const AudioFormat format{frequency, channels};
    if (std::string why = format.validate(); !why.empty()) {
        throw ProtocolError("record start: " + why);
    }
    stopCapture();
    format_ = format;
    mode_ = SPICE_AUDIO_DATA_MODE_RAW;
    encoder_.reset();
    if (serverChannelCaps().has(SPICE_RECORD_CAP_OPUS) && validateOpusFormat(format).empty()) {
        std::string error;
        encoder_ =
            OpusPacketEncoder::create(format, OpusPacketEncoder::Application::Audio, kOpusBitrate, error);
        if (encoder_) {
            mode_ = SPICE_AUDIO_DATA_MODE_OPUS;
        } else {
            qCWarning(lcRecord) << "Opus unavailable, sending raw:" << error.c_str();
        }
    }
    qCInfo(lcRecord) << "start" << frequency << "Hz" << channels << "ch, mode"
                     << (mode_ == SPICE_AUDIO_DATA_MODE_OPUS ? "opus" : "raw");
    // MODE then START_MARK before any DATA (spice.proto RecordChannel client messages).
    send(SPICE_MSGC_RECORD_MODE, Writer().u32(now()).u16(mode_).take());
    send(SPICE_MSGC_RECORD_START_MARK, Writer().u32(now()).take());
    openCapture();
}

void RecordChannel::setInputTarget(const std::string& target) {
    if (target == audioOptions_.target)
        return;
    audioOptions_.target = target;
    if (!capture_)
        return;
    // The server's stream goes on (same format and mode); only the source behind it changes.
    qCInfo(lcRecord) << "moving capture to" << (target.empty() ? "the default source" : target.c_str());
    stopCapture();
    openCapture();
}

void RecordChannel::openCapture() {
    if (!audioEnabled_ || unavailableReported_ || !format_) {
        return;
    }
    const AudioFormat format = *format_;
    const uint32_t channels = format.channels;
    queue_ = std::make_unique<AudioRingBuffer>(format.framesFor(kQueueMs), format.channels);
    AudioCaptureOptions options = audioOptions_;
    options.format = format;
    AudioRingBuffer* queue = queue_.get();
    std::atomic<uint64_t>* dropped = &dropped_;
    std::string error;
    capture_ = AudioCapture::create(
        options,
        [queue, dropped, channels](std::span<const int16_t> samples) {
            const size_t frames = samples.size() / channels;
            const size_t taken = queue->write(samples);
            if (taken < frames) {
                *dropped += frames - taken;
            }
        },
        error);
    if (!capture_) {
        queue_.reset();
        reportUnavailable(error);
        return;
    }
    if (!volume_.empty()) {
        capture_->setVolume(volume_);
    }
    capture_->setMute(mute_ || localMute_);
    chunk_.assign(format.framesFor(kChunkMs) * format.channels, 0);
    pumpTimer_.start();
}

void RecordChannel::setLocalMute(bool mute) {
    localMute_ = mute;
    if (capture_)
        capture_->setMute(mute_ || localMute_);
}

void RecordChannel::stopCapture() {
    pumpTimer_.stop();
    capture_.reset(); // joins PipeWire's use of the queue before the queue goes
    queue_.reset();
}

// Sends every whole 10 ms chunk the capture thread has queued.
void RecordChannel::pump() {
    if (!queue_ || !format_) {
        return;
    }
    const size_t chunkFrames = chunk_.size() / format_->channels;
    while (queue_->fillFrames() >= chunkFrames) {
        queue_->read(chunk_);
        sendChunk(chunk_);
    }
    recordStats_.framesDropped = dropped_.load();
    if (capture_) {
        if (std::string error = capture_->error(); !error.empty()) {
            reportUnavailable(error);
            stopCapture();
        }
    }
}

// DATA: uint32 time, uint8 data[] (raw S16LE or one Opus packet).
void RecordChannel::sendChunk(std::span<const int16_t> pcm) {
    Writer w;
    w.u32(now());
    if (mode_ == SPICE_AUDIO_DATA_MODE_OPUS && encoder_) {
        std::string error;
        if (!encoder_->encode(pcm, packet_, error)) {
            qCWarning(lcRecord) << "dropping a chunk:" << error.c_str();
            return;
        }
        w.bytes(packet_);
    } else {
        for (int16_t sample : pcm) {
            w.u16(uint16_t(sample));
        }
    }
    send(SPICE_MSGC_RECORD_DATA, w.take());
    ++recordStats_.packetsSent;
    recordStats_.framesSent += pcm.size() / format_->channels;
}

// AudioVolume: uint8 nchannels, uint16 volume[nchannels].
void RecordChannel::onVolume(Reader& r) {
    const uint8_t count = r.u8();
    const std::span<const uint8_t> raw = r.array(count, 2);
    volume_.resize(count);
    for (size_t i = 0; i < count; ++i) {
        volume_[i] = uint16_t(raw[2 * i] | raw[2 * i + 1] << 8);
    }
    if (capture_ && !volume_.empty()) {
        capture_->setVolume(volume_);
    }
}

void RecordChannel::reportUnavailable(const std::string& reason) {
    if (unavailableReported_) {
        return;
    }
    unavailableReported_ = true;
    qCWarning(lcRecord) << "no microphone:" << reason.c_str();
    emit audioUnavailable(QString::fromStdString(reason));
}

} // namespace saffron
