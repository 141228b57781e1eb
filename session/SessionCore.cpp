#include "SessionCore.h"

#include "Log.h"
#include "streams/VideoStreams.h"

#include <QElapsedTimer>
#include <QMetaEnum>
#include <QTimer>
#include <algorithm>
#include <spice/enums.h>
#include <utility>

namespace saffron {

SessionCore::SessionCore(const SessionOptions& options)
    : options_(options), audioOutput_(options.audioOutput), audioInput_(options.audioInput),
      clock_(std::make_shared<MultimediaClock>()) {}

SessionCore::~SessionCore() {
    if (decoderProbe_.valid())
        decoderProbe_.wait();
}

void SessionCore::start() {
    // The display channel's link advertises the decodable video codecs; probing the decoders
    // (GStreamer registry, one small decode each) overlaps the main channel's connection.
    // Posted, not polled: the display channel links the moment the probes are done. A call
    // queued for this object is dropped if it is gone (the destructor waits for the probes).
    decoderProbe_ = VideoStreams::probeInBackground(options_, [this] {
        QMetaObject::invokeMethod(
            this,
            [this] {
                decoderProbesDone_ = true;
                emit decoderProbesFinished();
            },
            Qt::QueuedConnection);
    });
    main_ = new MainChannel(options_, this);
    track(main_);
    connect(main_, &MainChannel::multimediaTimeChanged, this, [this](uint32_t mm) { clock_->sync(mm); });
    connect(main_, &Channel::ready, this, &SessionCore::connected);
    connect(main_, &Channel::phaseChanged, this, &SessionCore::phaseChanged);
    connect(main_, &Channel::ready, this, [this] { emit phaseChanged(ConnectPhase::Channels); });
    connect(main_, &MainChannel::channelsListed, this, &SessionCore::openChannels);
    main_->open(0);
}

void SessionCore::track(Channel* c) {
    channels_.emplace_back(c);
    connect(c, &Channel::ready, this, [this, c] {
        emit channelReady(c->name());
        if (c->type() == SPICE_CHANNEL_DISPLAY && !displayReady_) {
            displayReady_ = true;
            emit phaseChanged(ConnectPhase::Ready);
        }
    });
    connect(c, &Channel::closed, this, [this, c](const QString& error) {
        emit channelClosed(c->name(), error);
        // Without main or display there is no session left to show; the other channels are
        // optional (a server may refuse inputs to a view-only client).
        if (c->type() == SPICE_CHANNEL_MAIN || c->type() == SPICE_CHANNEL_DISPLAY)
            end(error, c->endReason(), c->endDetails());
    });
}

void SessionCore::openChannels(const QList<ChannelId>& list) {
    // The first picture goes first: inputs, cursor, sound and USB link once display 0 has drawn
    // it (its first MARK) or kFirstPictureFirstMs have passed. Linked together, their links and
    // set-up compete with the server's first image for its CPU: on QEMU the MARK came 35-55 ms
    // after the display link, against 10-30 ms when display linked alone (bench_shell). The
    // user can neither see a pointer nor type into a desktop that is not shown yet.
    const bool firstPictureDue =
        !firstPictureShown_ && std::any_of(list.begin(), list.end(), [](const ChannelId& id) {
            return id.type == SPICE_CHANNEL_DISPLAY && id.id == 0;
        });
    for (const ChannelId& id : list) {
        bool known = false;
        for (const auto& c : channels_)
            known |= c && c->type() == id.type && c->id() == id.id;
        if (known)
            continue;
        Channel* channel = nullptr;
        // Each display channel has its own surface budget: a server listing hundreds of them
        // must not multiply it. Real multi-head setups use up to 4 QXL devices (or one with
        // several heads).
        int sameType = 0;
        for (const auto& c : channels_)
            sameType += c && c->type() == id.type;
        if (sameType >= kMaxChannelsPerType) {
            unsupported_
                << QStringLiteral("%1:%2 (over the limit)").arg(Channel::typeName(id.type)).arg(id.id);
            continue;
        }
        switch (id.type) {
        case SPICE_CHANNEL_DISPLAY: {
            auto* d = new DisplayChannel(options_, id.id, clock_, this);
            // Stream reports carry the audio playback latency, which spice-server adds to the
            // mm-time margin it stamps video frames with.
            d->videoStreams().setAudioDelaySource([this]() -> std::optional<uint32_t> {
                return playback_ ? playback_->audioLatencyMs() : std::nullopt;
            });
            d->videoStreams().setLayerMode(videoLayers_);
            if (id.id == 0)
                connect(d, &DisplayChannel::marked, this, &SessionCore::openWaitingChannels);
            channel = d;
            emit displayCreated(d);
            break;
        }
        case SPICE_CHANNEL_INPUTS:
            if (!inputs_) {
                inputs_ = new InputsChannel(options_, id.id, this);
                // Server mode moves the guest's pointer by relative motion (and the guest
                // itself may move it): back in client mode, the first position must go out.
                connect(main_, &MainChannel::mouseModeChanged, inputs_, &InputsChannel::forgetSentPosition);
                channel = inputs_;
            }
            break;
        case SPICE_CHANNEL_CURSOR: {
            auto* c = new CursorChannel(options_, id.id, this);
            channel = c;
            emit cursorCreated(c);
            break;
        }
        case SPICE_CHANNEL_PLAYBACK:
            if (!playback_) {
                playback_ = new PlaybackChannel(options_, id.id, this);
                AudioPlaybackOptions audio;
                audio.target = audioOutput_.toStdString();
                playback_->setAudioOptions(audio);
                playback_->setLocalVolume(speakerVolume_);
                playback_->setLocalMute(speakerMuted_);
                playback_->setMultimediaClock(clock_);
                connect(playback_, &PlaybackChannel::audioUnavailable, this,
                        [](const QString& why) { qCWarning(lcSession).noquote() << "no sound:" << why; });
                channel = playback_;
            }
            break;
        case SPICE_CHANNEL_RECORD:
            if (!record_) {
                record_ = new RecordChannel(options_, id.id, this);
                AudioCaptureOptions microphone;
                microphone.target = audioInput_.toStdString();
                record_->setAudioOptions(microphone);
                record_->setLocalMute(microphoneMuted_);
                // Recorded packets carry the session's mm-time so the server can align them.
                record_->setMultimediaClock([clock = clock_] { return clock->now(); });
                connect(record_, &RecordChannel::audioUnavailable, this, [](const QString& why) {
                    qCWarning(lcSession).noquote() << "no microphone:" << why;
                });
                channel = record_;
            }
            break;
        case SPICE_CHANNEL_USBREDIR: {
            // One per `-device usb-redir` on the server; each carries at most one USB device.
            auto* u = new UsbRedirChannel(options_, id.id, this);
            channel = u;
            emit usbRedirCreated(u);
            break;
        }
        default:
            unsupported_ << QStringLiteral("%1:%2").arg(Channel::typeName(id.type)).arg(id.id);
            continue;
        }
        if (channel) {
            track(channel);
            if (channel->type() == SPICE_CHANNEL_DISPLAY)
                openWhenDecodersProbed(channel);
            else if (firstPictureDue)
                waitingForPicture_.emplace_back(channel);
            else
                channel->open(main_->sessionId());
        }
    }
    if (firstPictureDue && !waitingForPicture_.empty())
        QTimer::singleShot(kFirstPictureFirstMs, this, &SessionCore::openWaitingChannels);
    if (!unsupported_.isEmpty())
        qCInfo(lcSession).noquote() << "channels not opened (not supported yet):"
                                    << unsupported_.join(QLatin1Char(' '));
}

void SessionCore::setAudioOutput(const QString& node) {
    audioOutput_ = node;
    if (playback_)
        playback_->setOutputTarget(node.toStdString());
}

void SessionCore::setAudioInput(const QString& node) {
    audioInput_ = node;
    if (record_)
        record_->setInputTarget(node.toStdString());
}

void SessionCore::setVideoLayers(VideoLayerMode mode) {
    videoLayers_ = mode;
    for (const auto& c : channels_)
        if (auto* d = qobject_cast<DisplayChannel*>(c.data()))
            d->videoStreams().setLayerMode(mode);
}

void SessionCore::setSpeakerVolume(float gain) {
    speakerVolume_ = gain;
    if (playback_)
        playback_->setLocalVolume(gain);
}

void SessionCore::setSpeakerMuted(bool muted) {
    speakerMuted_ = muted;
    if (playback_)
        playback_->setLocalMute(muted);
}

void SessionCore::setMicrophoneMuted(bool muted) {
    microphoneMuted_ = muted;
    if (record_)
        record_->setLocalMute(muted);
}

void SessionCore::openWaitingChannels() {
    firstPictureShown_ = true;
    const auto waiting = std::exchange(waitingForPicture_, {});
    for (const QPointer<Channel>& c : waiting)
        if (c && !ended_)
            c->open(main_->sessionId());
}

void SessionCore::openWhenDecodersProbed(Channel* display) {
    // The display channel's link advertises the video codecs that decode here, so it waits for
    // the probes started in start(), never blocking this thread, and only for
    // kDecoderProbeWaitMs: on a machine where probing is that slow (a VM without KVM) the session
    // goes on with the codecs probed so far.
    // decoderProbesDone_ is set on this thread, just before decoderProbesFinished is emitted:
    // either it is set here already or the signal is still to come.
    const uint32_t sessionId = main_->sessionId();
    if (decoderProbesDone_) {
        display->open(sessionId);
        return;
    }
    // Whichever comes first, once: the probes' end or the time limit.
    auto opened = std::make_shared<bool>(false);
    const auto openOnce = [display, sessionId, opened](bool late) {
        if (*opened)
            return;
        *opened = true;
        if (late)
            qCWarning(lcSession) << "video decoder probes still running after" << kDecoderProbeWaitMs
                                 << "ms: linking" << display->name() << "with the codecs probed so far";
        display->open(sessionId);
    };
    connect(this, &SessionCore::decoderProbesFinished, display, [openOnce] { openOnce(false); });
    QTimer::singleShot(kDecoderProbeWaitMs, display, [openOnce] { openOnce(true); });
}

void SessionCore::end(const QString& error, EndReason reason, const QString& details) {
    if (ended_)
        return;
    ended_ = true;
    for (const auto& c : channels_)
        if (c)
            c->close();
    emit ended(SessionEnd{reason, error, details});
    emit disconnected(error);
}

void SessionCore::stop() {
    end(QString());
}

SessionInfo SessionCore::info() const {
    SessionInfo info;
    info.connected = main_ && main_->state() == Channel::State::Ready;
    if (main_) {
        info.sessionId = main_->sessionId();
        info.serverName = main_->serverName();
        info.serverUuid = QString::fromLatin1(main_->serverUuid().toHex());
        info.mouseMode = main_->mouseMode();
        info.agentConnected = main_->agentConnected();
    }
    for (const auto& c : channels_) {
        if (!c)
            continue;
        ChannelInfo ci;
        ci.name = c->name();
        ci.type = c->type();
        ci.id = c->id();
        ci.state = QString::fromLatin1(QMetaEnum::fromType<Channel::State>().valueToKey(int(c->state())));
        ci.tls = c->isTls();
        ci.commonCaps = c->serverCommonCaps().words();
        ci.channelCaps = c->serverChannelCaps().words();
        ci.stats = c->stats();
        info.channels << ci;
        if (auto* d = qobject_cast<DisplayChannel*>(c.data())) {
            const DisplayStats s = d->displayStats();
            info.display.draws += s.draws;
            info.display.badDraws += s.badDraws;
            info.display.streamFrames += s.streamFrames;
            info.display.decodeNs += s.decodeNs;
            info.display.video += s.video;
            if (auto p = d->primarySurface())
                info.primarySize = QSize(p->pixmap.width, p->pixmap.height);
            if (d->id() == 0)
                for (int t = 0; t < 128; ++t)
                    if (quint64 n = d->images().decodedCount(uint8_t(t)))
                        info.imagesDecoded[t] = n;
        }
    }
    info.unsupportedChannels = unsupported_;
    return info;
}

} // namespace saffron
