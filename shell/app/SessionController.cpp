#include "SessionController.h"

#include "SessionRates.h"

#include <QLoggingCategory>
#include <algorithm>

Q_LOGGING_CATEGORY(lcShell, "saffron.shell")

namespace saffron {

SessionController::SessionController(Policy policy, QObject* parent) : QObject(parent), policy_(policy) {
    reconnectTimer_.setSingleShot(true);
    connect(&reconnectTimer_, &QTimer::timeout, this, &SessionController::startAttempt);
    countdown_.setInterval(1000);
    connect(&countdown_, &QTimer::timeout, this, [this] {
        reconnectIn_ = std::max(0, (reconnectTimer_.remainingTime() + 999) / 1000);
        emit reconnectInChanged();
    });
    statsTimer_.setInterval(1000);
    connect(&statsTimer_, &QTimer::timeout, this, &SessionController::sampleStats);
    statsLog_ = StatsLog::fromEnvironment([this] { return static_cast<const Session*>(session_.get()); });
    viewsGrace_.setSingleShot(true);
    viewsGrace_.setInterval(kViewsGraceMs);
    connect(&viewsGrace_, &QTimer::timeout, this, [this] { updateViews(true); });
}

SessionController::~SessionController() = default;

void SessionController::open(ConnectionTarget target) {
    title_ = !target.spec.title.isEmpty() ? target.spec.title : target.spec.host;
    emit titleChanged();
    target_ = std::move(target);
    emit audioControlsChanged(); // its configured devices
    everConnected_ = false;
    backoffMs_ = 0;
    startAttempt();
}

void SessionController::cancelReconnect() {
    reconnectTimer_.stop();
    countdown_.stop();
    reconnectIn_ = -1;
    emit reconnectInChanged();
}

void SessionController::dropSession(bool now) {
    if (!session_)
        return;
    session_->disconnect(this);
    session_->stop();
    if (now)
        session_.reset();
    else
        session_.release()->deleteLater(); // we may be inside one of its signals
    updateViews(true);
}

void SessionController::startAttempt() {
    if (!target_)
        return;
    cancelReconnect();
    dropSession(false);
    ++attempt_;
    session_ = std::make_unique<Session>(target_->options);
    Session* s = session_.get();
    connect(s, &Session::phaseChanged, this, [this](ConnectPhase p) {
        phase_ = connectPhaseName(p);
        emit phaseChanged();
    });
    connect(s, &Session::displayMarked, this, [this] {
        if (state_ == QLatin1String("connected"))
            return;
        everConnected_ = true;
        backoffMs_ = 0;
        setState(QStringLiteral("connected"));
        emit firstFrame();
    });
    connect(s, &Session::primaryUpdated, this, [this] { ++updates_; });
    connect(s, &Session::displaysChanged, this, [this] { updateViews(); });
    connect(s, &Session::monitorsConfigChanged, this, [this] { updateViews(); });
    connect(s, &Session::ended, this, &SessionController::onEnded);
    s->setSpeakerVolume(float(speakerVolume_) / 100.0f);
    s->setSpeakerMuted(speakerMuted_);
    s->setMicrophoneMuted(microphoneMuted_);
    phase_ = connectPhaseName(ConnectPhase::Resolving);
    emit phaseChanged();
    setState(QStringLiteral("connecting"));
    emit sessionChanged();
    qCInfo(lcShell).noquote() << "connecting to" << target_->spec.describe() << "attempt" << attempt_;
    s->start();
}

void SessionController::updateViews(bool now) {
    QVariantList extra;
    int mainHead = -1;
    const auto view = [](int display, int head) {
        return QVariantMap{{QStringLiteral("display"), display}, {QStringLiteral("head"), head}};
    };
    if (session_) {
        // Heads of display 0's primary surface, in the driver's order.
        if (session_->monitorsAreHeads()) {
            mainHead = 0;
            for (int i = 1; i < session_->monitorHeads().size(); ++i)
                extra << view(0, i);
        }
        for (int id : session_->displays())
            if (id != 0)
                extra << view(id, -1);
    }
    if (extra == extraViews_ && mainHead == mainHead_) {
        viewsGrace_.stop();
        return;
    }
    const bool shrinks = extra.size() < extraViews_.size() || (mainHead < 0 && mainHead_ >= 0);
    if (shrinks && !now) {
        if (!viewsGrace_.isActive())
            viewsGrace_.start();
        return;
    }
    viewsGrace_.stop();
    qCInfo(lcShell).noquote() << "views beyond the main window:" << extra.size()
                              << (mainHead >= 0 ? "(heads of one display)" : "");
    if (extra != extraViews_) {
        extraViews_ = extra;
        emit extraViewsChanged();
    }
    if (mainHead != mainHead_) {
        mainHead_ = mainHead;
        emit mainHeadChanged();
    }
}

void SessionController::onEnded(const SessionEnd& end) {
    qCInfo(lcShell).noquote() << "session ended:" << endReasonName(end.reason) << end.message;
    switch (end.reason) {
    case EndReason::None:
        setState(QStringLiteral("idle"));
        return;
    case EndReason::Authentication:
        setState(QStringLiteral("auth-failed"), end.message);
        // A kiosk has nobody to type a password: its stored ticket may become valid again
        // (a Proxmox ticket renewed by the administrator), so it keeps trying.
        if (policy_.kiosk)
            scheduleReconnect();
        break;
    case EndReason::Certificate:
        setState(QStringLiteral("certificate"), end.message, end.details);
        if (policy_.kiosk)
            scheduleReconnect();
        break;
    case EndReason::Unreachable:
        setState(QStringLiteral("unreachable"), end.message);
        if (policy_.kiosk || everConnected_)
            scheduleReconnect();
        break;
    case EndReason::Lost:
        setState(QStringLiteral("lost"), end.message);
        scheduleReconnect();
        break;
    case EndReason::ServerClosed:
        setState(QStringLiteral("closed"), end.message);
        if (policy_.kiosk)
            scheduleReconnect();
        break;
    case EndReason::Protocol:
        setState(QStringLiteral("error"), end.message);
        if (policy_.kiosk || everConnected_)
            scheduleReconnect();
        break;
    }
    if (policy_.quitOnDisconnect) {
        emit quitRequested(1);
        return;
    }
}

int SessionController::nextBackoffMs() {
    backoffMs_ = backoffMs_ == 0 ? policy_.backoffMinMs : std::min(backoffMs_ * 2, policy_.backoffMaxMs);
    // Up to 20 % jitter, so a room of thin clients does not reconnect in lock step after a
    // server restart.
    std::uniform_int_distribution<int> spread(0, backoffMs_ / 5);
    return backoffMs_ + spread(jitter_);
}

void SessionController::scheduleReconnect() {
    if (policy_.quitOnDisconnect)
        return;
    const int ms = nextBackoffMs();
    reconnectTimer_.start(ms);
    reconnectIn_ = (ms + 999) / 1000;
    countdown_.start();
    emit reconnectInChanged();
}

void SessionController::retry() {
    backoffMs_ = 0;
    startAttempt();
}

void SessionController::reconnectNow() {
    startAttempt();
}

void SessionController::retryWithPassword(const QString& password) {
    if (!target_)
        return;
    target_->options.password = password.toUtf8();
    retry();
}

void SessionController::disconnectSession() {
    if (policy_.kiosk)
        return; // a kiosk has nowhere else to go
    cancelReconnect();
    const bool had = session_ != nullptr;
    dropSession(false);
    if (had)
        emit sessionChanged();
    target_.reset();
    setState(QStringLiteral("idle"));
}

void SessionController::askPassword(ConnectionTarget target) {
    title_ = !target.spec.title.isEmpty() ? target.spec.title : target.spec.host;
    emit titleChanged();
    target_ = std::move(target);
    everConnected_ = false;
    backoffMs_ = 0;
    setState(QStringLiteral("password"));
}

void SessionController::closeSession() {
    cancelReconnect();
    target_.reset();
    const bool had = session_ != nullptr;
    dropSession(true);
    if (had)
        emit sessionChanged();
}

void SessionController::setState(const QString& state, const QString& message, const QString& details) {
    state_ = state;
    message_ = message;
    details_ = details;
    emit stateChanged();
}

void SessionController::setStatsEnabled(bool on) {
    if (on == statsTimer_.isActive())
        return;
    if (on) {
        lastInfo_ = session_ ? session_->info() : SessionInfo();
        lastUpdates_ = updates_;
        statsClock_.start();
        statsTimer_.start();
    } else {
        statsTimer_.stop();
    }
    emit statsEnabledChanged();
}

void SessionController::setAudioOutput(const QString& node) {
    if (!target_ || node == target_->options.audioOutput)
        return;
    target_->options.audioOutput = node;
    if (session_)
        session_->setAudioOutput(node);
    emit audioControlsChanged();
}

void SessionController::setAudioInput(const QString& node) {
    if (!target_ || node == target_->options.audioInput)
        return;
    target_->options.audioInput = node;
    if (session_)
        session_->setAudioInput(node);
    emit audioControlsChanged();
}

void SessionController::setSpeakerVolume(int percent) {
    percent = std::clamp(percent, 0, 100);
    if (percent == speakerVolume_)
        return;
    speakerVolume_ = percent;
    if (session_)
        session_->setSpeakerVolume(float(percent) / 100.0f);
    emit audioControlsChanged();
}

void SessionController::setSpeakerMuted(bool muted) {
    if (muted == speakerMuted_)
        return;
    speakerMuted_ = muted;
    if (session_)
        session_->setSpeakerMuted(muted);
    emit audioControlsChanged();
}

void SessionController::setMicrophoneMuted(bool muted) {
    if (muted == microphoneMuted_)
        return;
    microphoneMuted_ = muted;
    if (session_)
        session_->setMicrophoneMuted(muted);
    emit audioControlsChanged();
}

void SessionController::sampleStats() {
    if (!session_)
        return;
    const SessionInfo now = session_->info();
    const SessionRates r = sessionRates(lastInfo_, now, statsClock_.restart() / 1000.0);
    QVariantMap m;
    m[QStringLiteral("fps")] = double(updates_ - lastUpdates_) / r.seconds;
    m[QStringLiteral("videoFps")] = r.video.presentedPerSecond;
    m[QStringLiteral("imageDecodeMs")] = r.decodeMsPerDraw;
    m[QStringLiteral("videoDecodeMs")] = r.video.decodeMs;
    // Where colour conversion happened: in the GPU layer's shader, or on the CPU (into the
    // surface, or as the software renderer paints a layer).
    if (r.video.presented) {
        const bool gpuLayers = r.video.asLayer > 0 && session_->videoLayers() == VideoLayerMode::Yuv;
        m[QStringLiteral("videoConversion")] = !gpuLayers ? QStringLiteral("CPU")
                                               : r.video.asLayer == r.video.presented
                                                   ? QStringLiteral("GPU")
                                                   : QStringLiteral("GPU+CPU");
    }
    m[QStringLiteral("latencyMs")] = r.video.arrivalToPresentMs;
    m[QStringLiteral("mbitPerSec")] = r.bytesPerSecond * 8 / 1e6;
    const VideoStats& v = now.display.video; // drops: session totals, not the window's
    m[QStringLiteral("drops")] = qulonglong(v.dropsDecoder + v.dropsLate);
    m[QStringLiteral("decoders")] = r.video.decoders;
    m[QStringLiteral("size")] =
        QStringLiteral("%1x%2").arg(now.primarySize.width()).arg(now.primarySize.height());
    stats_ = m;
    lastInfo_ = now;
    lastUpdates_ = updates_;
    emit statsChanged();
}

} // namespace saffron
