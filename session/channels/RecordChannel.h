#pragma once

#include "audio/AudioCapture.h"
#include "audio/AudioRingBuffer.h"
#include "audio/OpusCodec.h"
#include "channels/Channel.h"

#include <QElapsedTimer>
#include <QString>
#include <QTimer>
#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

namespace saffron {

class Reader;

struct RecordChannelStats {
    quint64 packetsSent = 0;
    quint64 framesSent = 0;
    quint64 framesDropped = 0; // captured but lost because the hand-over queue was full
};

// The record channel (spice.proto RecordChannel): the guest's microphone. The server sends START
// with the PCM format it wants; we open a PipeWire capture stream at that format, answer with
// MODE (Opus when both sides have SPICE_RECORD_CAP_OPUS and the format is Opus-able, else raw)
// and START_MARK, then send DATA every 10 ms stamped with the multimedia time. STOP closes the
// capture stream, so the microphone is only open while the guest records.
//
// Captured audio arrives on PipeWire's realtime thread and crosses to this channel's thread through
// a lock-free AudioRingBuffer drained by a 10 ms timer.
class RecordChannel : public Channel {
    Q_OBJECT
public:
    RecordChannel(const SessionOptions& options, uint8_t id, QObject* parent = nullptr);
    ~RecordChannel() override;

    // Source and PipeWire remote for the capture streams (format fields come from START).
    void setAudioOptions(const AudioCaptureOptions& options) { audioOptions_ = options; }
    // false: START/STOP are answered but the microphone is never opened and no DATA is sent.
    void setAudioEnabled(bool enabled) { audioEnabled_ = enabled; }
    // The user's microphone mute on this machine: the server then hears silence (the stream and
    // its timing go on), whatever the server's own MUTE says.
    void setLocalMute(bool mute);
    // Another source (a PipeWire node name; empty: the system default), now: a running capture
    // is reopened there, later ones start there.
    void setInputTarget(const std::string& target);
    // The session's multimedia clock (MainChannel::multimediaTime plus elapsed time); the default
    // counts milliseconds since the channel was created.
    void setMultimediaClock(std::function<uint32_t()> clock) { mmClock_ = std::move(clock); }

    bool recording() const { return capture_ != nullptr; }
    const RecordChannelStats& recordStats() const { return recordStats_; }
    uint16_t mode() const { return mode_; }

signals:
    void audioUnavailable(const QString& reason);

protected:
    Capabilities channelCaps() const override;
    void handleMessage(uint16_t type, std::span<const uint8_t> body) override;

private:
    void onStart(Reader& r);
    void onVolume(Reader& r);
    void stopCapture();
    void openCapture();
    void pump();
    void sendChunk(std::span<const int16_t> pcm);
    uint32_t now() const;
    void reportUnavailable(const std::string& reason);

    AudioCaptureOptions audioOptions_;
    bool audioEnabled_ = true;
    std::function<uint32_t()> mmClock_;
    QElapsedTimer sinceCreated_;
    QTimer pumpTimer_;
    uint16_t mode_ = 0;
    std::optional<AudioFormat> format_;
    std::unique_ptr<AudioRingBuffer> queue_; // written on PipeWire's thread, read on ours
    std::unique_ptr<AudioCapture> capture_;
    std::unique_ptr<OpusPacketEncoder> encoder_;
    std::vector<int16_t> chunk_;
    std::vector<uint8_t> packet_;
    std::vector<uint16_t> volume_;
    bool mute_ = false;
    bool localMute_ = false;
    bool unavailableReported_ = false;
    std::atomic<uint64_t> dropped_{0};
    RecordChannelStats recordStats_;
};

} // namespace saffron
