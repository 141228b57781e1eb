#pragma once

#include "audio/AudioPlayback.h"
#include "audio/OpusCodec.h"
#include "channels/Channel.h"
#include "streams/MultimediaClock.h"

#include <QString>
#include <memory>
#include <optional>
#include <vector>

namespace saffron {

class Reader;

struct PlaybackChannelStats {
    quint64 packets = 0;         // DATA messages played
    quint64 framesDecoded = 0;   // PCM frames handed to AudioPlayback
    quint64 rejectedPackets = 0; // malformed DATA (bad size, undecodable Opus, data before START)
};

// The playback channel (spice.proto PlaybackChannel): the guest's sound output. The server picks
// raw S16 or Opus with MODE, announces the PCM format with START, then streams DATA stamped with
// its multimedia time. We decode Opus (48 kHz stereo, spice-common snd_codec) and play through
// saffron_media's AudioPlayback (PipeWire). Without a usable PipeWire the channel stays up, drops
// the audio and says why once (audioUnavailable), so the session goes on silently.
class PlaybackChannel : public Channel {
    Q_OBJECT
public:
    PlaybackChannel(const SessionOptions& options, uint8_t id, QObject* parent = nullptr);
    ~PlaybackChannel() override;

    // Sink, buffering and PipeWire remote for the streams this channel creates (format fields are
    // overwritten by START). Takes effect at the next START.
    void setAudioOptions(const AudioPlaybackOptions& options) { audioOptions_ = options; }
    // false: messages are still parsed and decoded, but no PipeWire stream is ever opened (sound
    // turned off by the user; fuzzers).
    void setAudioEnabled(bool enabled) { audioEnabled_ = enabled; }
    // The user's own volume (0..1) and mute on this machine, applied on top of the server's
    // VOLUME/MUTE, now and to every stream this channel opens later.
    void setLocalVolume(float gain);
    void setLocalMute(bool mute);
    // Another sink (a PipeWire node name; empty: the system default), now: a playing stream is
    // reopened there (a gap of a few milliseconds), later streams start there.
    void setOutputTarget(const std::string& target);
    // The session's clock, told what is heard as each packet is queued (MultimediaClock's audio
    // anchor: video schedules against it for lip-sync while sound plays).
    void setMultimediaClock(std::shared_ptr<MultimediaClock> clock) { clock_ = std::move(clock); }

    // Current audio latency (ring + PipeWire), for DISPLAY_STREAM_REPORT's audio_delay; nullopt
    // while nothing plays.
    std::optional<uint32_t> audioLatencyMs() const;
    const PlaybackChannelStats& playbackStats() const { return playbackStats_; }
    const AudioPlayback* playback() const { return playback_.get(); }
    uint16_t mode() const { return mode_; }

signals:
    // Emitted once per channel when audio cannot be played (no PipeWire daemon, stream error).
    void audioUnavailable(const QString& reason);

protected:
    Capabilities channelCaps() const override;
    void handleMessage(uint16_t type, std::span<const uint8_t> body) override;

private:
    void onMode(Reader& r);
    void onStart(Reader& r);
    void onData(Reader& r);
    void onVolume(Reader& r);
    void onLatency(Reader& r);
    void reportUnavailable(const std::string& reason);

    AudioPlaybackOptions audioOptions_;
    uint32_t learnedTargetMs_ = 0; // the last stream's adapted target (AudioPlaybackOptions::startTargetMs)
    bool audioEnabled_ = true;
    uint16_t mode_ = 0; // SPICE_AUDIO_DATA_MODE_*; RAW until MODE says otherwise
    std::optional<AudioFormat> format_;
    std::unique_ptr<AudioPlayback> playback_;
    void openPlayback();
    std::unique_ptr<OpusPacketDecoder> decoder_;
    std::vector<uint16_t> volume_;
    bool mute_ = false;
    float localVolume_ = 1.0f;
    bool localMute_ = false;
    std::optional<uint32_t> latencyMs_;
    std::vector<int16_t> pcm_;
    bool unavailableReported_ = false;
    PlaybackChannelStats playbackStats_;
    std::shared_ptr<MultimediaClock> clock_;
};

} // namespace saffron
