#pragma once

#include "Session.h"
#include "channels/CursorChannel.h"
#include "channels/DisplayChannel.h"
#include "channels/InputsChannel.h"
#include "channels/MainChannel.h"
#include "channels/PlaybackChannel.h"
#include "channels/RecordChannel.h"
#include "channels/UsbRedirChannel.h"
#include "streams/MultimediaClock.h"

#include <QObject>
#include <QPointer>
#include <future>
#include <vector>

namespace saffron {

// The session's network-thread half: owns the channels, opens them as the main channel lists
// them, and relays their events to Session.
class SessionCore : public QObject {
    Q_OBJECT
public:
    explicit SessionCore(const SessionOptions& options);
    ~SessionCore() override;

    void start();
    void stop();
    SessionInfo info() const;

    // The user's audio controls on this machine; kept for channels the server opens later.
    void setSpeakerVolume(float gain);
    void setSpeakerMuted(bool muted);
    void setMicrophoneMuted(bool muted);
    // Video streams on the primary surfaces as layers for the front end to composite
    // (VideoStreams::setLayerMode); kept for display channels that open later.
    void setVideoLayers(VideoLayerMode mode);
    // The PipeWire sink / source for the session's sound (empty: the system default), switched
    // live; SessionOptions::audioOutput/audioInput give the first ones.
    void setAudioOutput(const QString& node);
    void setAudioInput(const QString& node);

    InputsChannel* inputs() const { return inputs_; }
    MainChannel* main() const { return main_; }

signals:
    void connected();
    void disconnected(const QString& error);
    void ended(const saffron::SessionEnd& end); // emitted once, just before disconnected()
    void phaseChanged(saffron::ConnectPhase phase);
    void channelReady(const QString& name);
    void channelClosed(const QString& name, const QString& error);
    void displayCreated(saffron::DisplayChannel* display);
    void cursorCreated(saffron::CursorChannel* cursor);
    // Session thread, before the channel connects: attach a consumer (DirectConnection) here so
    // that no byte from the guest side is missed.
    void usbRedirCreated(saffron::UsbRedirChannel* channel);
    // Session thread: the decoder probes started in start() have all finished.
    void decoderProbesFinished();

private:
    static constexpr int kMaxChannelsPerType = 8;
    // Probes take ~0.1-0.3 s uncached on real hardware and milliseconds cached.
    static constexpr qint64 kDecoderProbeWaitMs = 5000;
    // How long the other channels wait for the display's first picture (see openChannels).
    static constexpr int kFirstPictureFirstMs = 300;
    void openChannels(const QList<ChannelId>& list);
    void openWhenDecodersProbed(Channel* display);
    void openWaitingChannels();
    void track(Channel* c);
    void end(const QString& error, EndReason reason = EndReason::None, const QString& details = {});

    const SessionOptions& options_;
    bool decoderProbesDone_ = false; // set on this thread when the probes' end is posted here
    MainChannel* main_ = nullptr;
    InputsChannel* inputs_ = nullptr;
    QPointer<PlaybackChannel> playback_;
    QPointer<RecordChannel> record_;
    float speakerVolume_ = 1.0f;
    bool speakerMuted_ = false;
    bool microphoneMuted_ = false;
    VideoLayerMode videoLayers_ = VideoLayerMode::Off;
    QString audioOutput_;
    QString audioInput_;
    std::shared_ptr<MultimediaClock> clock_; // the server's mm-time, for video and audio
    std::shared_future<void> decoderProbe_;  // video decoders probed while the session links
    std::vector<QPointer<Channel>> channels_;
    std::vector<QPointer<Channel>> waitingForPicture_; // opened after the first picture
    QStringList unsupported_;
    bool ended_ = false;
    bool displayReady_ = false;
    bool firstPictureShown_ = false; // or given up waiting for: channels open at once
};

} // namespace saffron
