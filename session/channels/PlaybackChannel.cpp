#include "channels/PlaybackChannel.h"

#include "wire/Reader.h"

#include <QLoggingCategory>
#include <spice/enums.h>
#include <spice/protocol.h>

namespace saffron {

namespace {
Q_LOGGING_CATEGORY(lcPlayback, "saffron.audio.playback")

// PLAYBACK_LATENCY asks for extra buffering so audio stays in step with a delayed video stream
// (spice-server raises it when a video stream's mm-time delay grows). Beyond a few seconds it is
// either a bug or hostile; refuse rather than buffer that much.
constexpr uint32_t kMaxLatencyMs = 5000;
} // namespace

PlaybackChannel::PlaybackChannel(const SessionOptions& options, uint8_t id, QObject* parent)
    : Channel(options, SPICE_CHANNEL_PLAYBACK, id, parent) {
    mode_ = SPICE_AUDIO_DATA_MODE_RAW;
}

PlaybackChannel::~PlaybackChannel() = default;

Capabilities PlaybackChannel::channelCaps() const {
    Capabilities caps;
    caps.set(SPICE_PLAYBACK_CAP_VOLUME);
    caps.set(SPICE_PLAYBACK_CAP_LATENCY);
    caps.set(SPICE_PLAYBACK_CAP_OPUS);
    return caps;
}

void PlaybackChannel::handleMessage(uint16_t type, std::span<const uint8_t> body) {
    Reader r(body);
    switch (type) {
    case SPICE_MSG_PLAYBACK_MODE:
        onMode(r);
        break;
    case SPICE_MSG_PLAYBACK_START:
        onStart(r);
        break;
    case SPICE_MSG_PLAYBACK_DATA:
        onData(r);
        break;
    case SPICE_MSG_PLAYBACK_STOP:
        if (playback_) {
            playback_->endOfStream();
        }
        if (clock_)
            clock_->audioStopped();
        break;
    case SPICE_MSG_PLAYBACK_VOLUME:
        onVolume(r);
        break;
    case SPICE_MSG_PLAYBACK_MUTE:
        mute_ = r.u8() != 0;
        if (playback_) {
            playback_->setMute(mute_);
        }
        break;
    case SPICE_MSG_PLAYBACK_LATENCY:
        onLatency(r);
        break;
    default:
        qCDebug(lcPlayback) << "ignoring playback message" << type;
    }
}

// MODE: uint32 time, audio_data_mode mode, uint8 data[] (codec data, unused by RAW and OPUS).
void PlaybackChannel::onMode(Reader& r) {
    r.u32();
    const uint16_t mode = r.u16();
    if (mode != SPICE_AUDIO_DATA_MODE_RAW && mode != SPICE_AUDIO_DATA_MODE_OPUS) {
        // CELT was never advertised by us; anything else is not in the protocol.
        throw ProtocolError("playback mode " + std::to_string(mode) + " not supported");
    }
    if (mode != mode_) {
        decoder_.reset();
    }
    mode_ = mode;
}

// START: uint32 channels, audio_fmt format, uint32 frequency, uint32 time.
void PlaybackChannel::onStart(Reader& r) {
    const uint32_t channels = r.u32();
    const uint16_t sampleFormat = r.u16();
    const uint32_t frequency = r.u32();
    r.u32(); // mm-time of the first packet; we play as data arrives
    if (sampleFormat != SPICE_AUDIO_FMT_S16) {
        throw ProtocolError("playback format " + std::to_string(sampleFormat) + " is not S16");
    }
    const AudioFormat format{frequency, channels};
    if (std::string why = format.validate(); !why.empty()) {
        throw ProtocolError("playback start: " + why);
    }
    if (mode_ == SPICE_AUDIO_DATA_MODE_OPUS) {
        if (std::string why = validateOpusFormat(format); !why.empty()) {
            throw ProtocolError("playback start: " + why);
        }
        if (!decoder_ || decoder_->format() != format) {
            std::string error;
            decoder_ = OpusPacketDecoder::create(format, error);
            if (!decoder_) {
                throw ProtocolError("playback start: " + error);
            }
        }
    }
    qCInfo(lcPlayback) << "start" << frequency << "Hz" << channels << "ch, mode"
                       << (mode_ == SPICE_AUDIO_DATA_MODE_OPUS ? "opus" : "raw");
    if (playback_ && format_ == format) {
        return; // same stream format: keep the PipeWire stream (and its learnt drift) running
    }
    format_ = format;
    if (playback_)
        learnedTargetMs_ = playback_->stats().targetMs; // the link's jitter outlives the stream
    playback_.reset();
    openPlayback();
}

void PlaybackChannel::openPlayback() {
    if (!audioEnabled_ || unavailableReported_ || !format_) {
        return; // off, or said once already: do not retry a missing daemon on every START
    }
    AudioPlaybackOptions options = audioOptions_;
    options.format = *format_;
    options.startTargetMs = learnedTargetMs_;
    if (latencyMs_) {
        options.targetMs = std::clamp<uint32_t>(*latencyMs_, 10, options.capacityMs - 4 * options.bandMs);
        options.maxTargetMs = std::max(options.maxTargetMs, options.targetMs);
    }
    std::string error;
    playback_ = AudioPlayback::create(options, error);
    if (!playback_) {
        reportUnavailable(error);
        return;
    }
    if (!volume_.empty()) {
        playback_->setVolume(volume_);
    }
    playback_->setMute(mute_);
    playback_->setLocalVolume(localVolume_);
    playback_->setLocalMute(localMute_);
}

void PlaybackChannel::setOutputTarget(const std::string& target) {
    if (target == audioOptions_.target)
        return;
    audioOptions_.target = target;
    if (!playback_)
        return;
    qCInfo(lcPlayback) << "moving playback to" << (target.empty() ? "the default sink" : target.c_str());
    learnedTargetMs_ = playback_->stats().targetMs;
    playback_.reset();
    openPlayback();
}

void PlaybackChannel::setLocalVolume(float gain) {
    localVolume_ = std::clamp(gain, 0.0f, 1.0f);
    if (playback_)
        playback_->setLocalVolume(localVolume_);
}

void PlaybackChannel::setLocalMute(bool mute) {
    localMute_ = mute;
    if (playback_)
        playback_->setLocalMute(localMute_);
}

// DATA: uint32 time, uint8 data[] (the rest of the message).
void PlaybackChannel::onData(Reader& r) {
    const uint32_t mmTime = r.u32();
    const std::span<const uint8_t> data = r.rest();
    if (!format_) {
        ++playbackStats_.rejectedPackets;
        throw ProtocolError("playback data before start");
    }
    const AudioFormat& format = *format_;
    if (mode_ == SPICE_AUDIO_DATA_MODE_OPUS) {
        if (!decoder_) {
            throw ProtocolError("playback opus data without decoder");
        }
        std::string error;
        if (!decoder_->decode(data, pcm_, error)) {
            ++playbackStats_.rejectedPackets;
            throw ProtocolError("playback data: " + error);
        }
    } else {
        if (data.size() % format.bytesPerFrame() != 0) {
            ++playbackStats_.rejectedPackets;
            throw ProtocolError("playback data of " + std::to_string(data.size()) + " bytes is not whole " +
                                std::to_string(format.channels) + "-channel S16 frames");
        }
        // S16 little-endian on the wire whatever the host order (spice.proto audio_fmt S16).
        pcm_.resize(data.size() / 2);
        for (size_t i = 0; i < pcm_.size(); ++i) {
            pcm_[i] = int16_t(uint16_t(data[2 * i]) | uint16_t(data[2 * i + 1]) << 8);
        }
    }
    ++playbackStats_.packets;
    playbackStats_.framesDecoded += pcm_.size() / format.channels;
    if (playback_) {
        playback_->write(pcm_);
        if (std::string error = playback_->error(); !error.empty()) {
            reportUnavailable(error);
            playback_.reset();
        } else if (clock_) {
            // This packet's first sample (stamped mmTime) is heard once everything queued before
            // it has played: the ring ahead of it and PipeWire's delay to the device. So what is
            // heard now is mmTime minus that. Only while the stream plays (not while it refills).
            const AudioPlaybackStats st = playback_->stats();
            if (st.playing) {
                const double packetMs = format.framesToMs(double(pcm_.size() / format.channels));
                const double aheadMs = std::max(0.0, st.latencyMs - packetMs);
                clock_->syncHeard(mmTime - uint32_t(aheadMs + 0.5));
            }
        }
    }
}

// AudioVolume: uint8 nchannels, uint16 volume[nchannels].
void PlaybackChannel::onVolume(Reader& r) {
    const uint8_t count = r.u8();
    const std::span<const uint8_t> raw = r.array(count, 2);
    volume_.resize(count);
    for (size_t i = 0; i < count; ++i) {
        volume_[i] = uint16_t(raw[2 * i] | raw[2 * i + 1] << 8);
    }
    if (playback_ && !volume_.empty()) {
        playback_->setVolume(volume_);
    }
}

// LATENCY: uint32 latency_ms, the minimum audio latency the server wants (CAP_LATENCY).
void PlaybackChannel::onLatency(Reader& r) {
    const uint32_t latency = r.u32();
    if (latency > kMaxLatencyMs) {
        throw ProtocolError("playback latency " + std::to_string(latency) + " ms exceeds " +
                            std::to_string(kMaxLatencyMs));
    }
    latencyMs_ = latency;
    if (playback_) {
        const uint32_t used = playback_->setTargetMs(latency);
        qCDebug(lcPlayback) << "server asks for" << latency << "ms of audio latency, using" << used;
    }
}

std::optional<uint32_t> PlaybackChannel::audioLatencyMs() const {
    if (!playback_ || !playback_->stats().playing) {
        return std::nullopt;
    }
    return uint32_t(playback_->latencyMs() + 0.5);
}

void PlaybackChannel::reportUnavailable(const std::string& reason) {
    if (unavailableReported_) {
        return;
    }
    unavailableReported_ = true;
    qCWarning(lcPlayback) << "no sound:" << reason.c_str();
    emit audioUnavailable(QString::fromStdString(reason));
}

} // namespace saffron
