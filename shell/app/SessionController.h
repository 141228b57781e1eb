#pragma once

#include "Session.h"
#include "common/ConnectionTarget.h"

#include <QElapsedTimer>
#include <QObject>
#include <QTimer>
#include <QVariantList>
#include <QVariantMap>
#include <memory>
#include <random>

namespace saffron {

// The life of one connection as the shell shows it: connecting (with the current step),
// connected, and each way it can end, with automatic reconnection where that makes sense.
// Owns the Session (recreated for every attempt, so a reconnect starts from a clean engine).
// Lives on the GUI thread; QML binds to its properties.
class SessionController : public QObject {
    Q_OBJECT
    Q_PROPERTY(QString state READ state NOTIFY stateChanged)
    Q_PROPERTY(QString phase READ phase NOTIFY phaseChanged)
    Q_PROPERTY(QString message READ message NOTIFY stateChanged)
    Q_PROPERTY(QString details READ details NOTIFY stateChanged)
    Q_PROPERTY(int reconnectIn READ reconnectIn NOTIFY reconnectInChanged)
    Q_PROPERTY(int attempt READ attempt NOTIFY stateChanged)
    Q_PROPERTY(QObject* session READ sessionObject NOTIFY sessionChanged)
    Q_PROPERTY(QString title READ title NOTIFY titleChanged)
    // The session's displays beyond display 0 (channel ids), each shown in a window of its own.
    Q_PROPERTY(QVariantList extraDisplays READ extraDisplays NOTIFY extraDisplaysChanged)
    Q_PROPERTY(bool kiosk READ kiosk CONSTANT)
    Q_PROPERTY(bool canDisconnect READ canDisconnect CONSTANT)
    Q_PROPERTY(bool statsEnabled READ statsEnabled WRITE setStatsEnabled NOTIFY statsEnabledChanged)
    Q_PROPERTY(QVariantMap stats READ stats NOTIFY statsChanged)
    // Sound on this machine, on top of the server's own volume: 0..100, and two mutes. They
    // outlive reconnects (each new session gets them).
    Q_PROPERTY(int speakerVolume READ speakerVolume WRITE setSpeakerVolume NOTIFY audioControlsChanged)
    Q_PROPERTY(bool speakerMuted READ speakerMuted WRITE setSpeakerMuted NOTIFY audioControlsChanged)
    Q_PROPERTY(bool microphoneMuted READ microphoneMuted WRITE setMicrophoneMuted NOTIFY audioControlsChanged)
    // The PipeWire sink and source the session uses (AudioDevices' names; empty: the system's
    // default), switched live. They start as the connection's configuration (audio/output,
    // --audio-output) and a choice made here holds for the reconnects of this connection.
    Q_PROPERTY(QString audioOutput READ audioOutput WRITE setAudioOutput NOTIFY audioControlsChanged)
    Q_PROPERTY(QString audioInput READ audioInput WRITE setAudioInput NOTIFY audioControlsChanged)
public:
    struct Policy {
        bool kiosk = false;
        bool quitOnDisconnect = false; // --kiosk-quit on-disconnect
        int backoffMinMs = 1000;
        int backoffMaxMs = 30000;
    };

    explicit SessionController(Policy policy, QObject* parent = nullptr);
    ~SessionController() override;

    // States: "idle", "password", "connecting", "connected", "auth-failed", "certificate", "unreachable",
    // "lost", "closed", "error".
    QString state() const { return state_; }
    QString phase() const { return phase_; }
    QString message() const { return message_; }
    QString details() const { return details_; }
    int reconnectIn() const { return reconnectIn_; }
    int attempt() const { return attempt_; }
    QObject* sessionObject() const { return session_.get(); }
    Session* session() const { return session_.get(); }
    QString title() const { return title_; }
    QVariantList extraDisplays() const { return extraDisplays_; }
    bool kiosk() const { return policy_.kiosk; }
    bool canDisconnect() const { return !policy_.kiosk; }
    bool statsEnabled() const { return statsTimer_.isActive(); }
    void setStatsEnabled(bool on);
    QVariantMap stats() const { return stats_; }
    int speakerVolume() const { return speakerVolume_; }
    void setSpeakerVolume(int percent);
    bool speakerMuted() const { return speakerMuted_; }
    void setSpeakerMuted(bool muted);
    bool microphoneMuted() const { return microphoneMuted_; }
    void setMicrophoneMuted(bool muted);
    QString audioOutput() const { return target_ ? target_->options.audioOutput : QString(); }
    void setAudioOutput(const QString& node);
    QString audioInput() const { return target_ ? target_->options.audioInput : QString(); }
    void setAudioInput(const QString& node);

    void open(ConnectionTarget target);
    // Ends the session now and deletes it before returning (not from inside its signals).
    void closeSession();
    // Shows the password prompt for `target` (state "password"); retryWithPassword() connects.
    void askPassword(ConnectionTarget target);

    Q_INVOKABLE void retry();
    Q_INVOKABLE void retryWithPassword(const QString& password);
    Q_INVOKABLE void disconnectSession();
    Q_INVOKABLE void reconnectNow();

signals:
    void stateChanged();
    void phaseChanged();
    void reconnectInChanged();
    void sessionChanged();
    void titleChanged();
    void extraDisplaysChanged();
    void statsEnabledChanged();
    void statsChanged();
    void audioControlsChanged();
    void firstFrame();       // the first complete picture of a session is on its way to screen
    void quitRequested(int); // --kiosk-quit on-disconnect, or the user disconnected outside kiosk

private:
    void startAttempt();
    void cancelReconnect();
    // Ends the current session; `now` deletes it at once, else when the event loop next runs.
    void dropSession(bool now);
    void onEnded(const SessionEnd& end);
    void scheduleReconnect();
    void setState(const QString& state, const QString& message = {}, const QString& details = {});
    void sampleStats();
    void setExtraDisplays(const QList<int>& displays);
    int nextBackoffMs();

    Policy policy_;
    std::optional<ConnectionTarget> target_;
    std::unique_ptr<Session> session_;
    QString state_ = QStringLiteral("idle");
    QString phase_;
    QString message_;
    QString details_;
    QString title_;
    QVariantList extraDisplays_;
    int attempt_ = 0;
    bool everConnected_ = false;
    int backoffMs_ = 0;
    int reconnectIn_ = -1;
    int speakerVolume_ = 100;
    bool speakerMuted_ = false;
    bool microphoneMuted_ = false;
    QTimer reconnectTimer_;
    QTimer countdown_;
    std::minstd_rand jitter_{std::random_device{}()};

    QTimer statsTimer_;
    QVariantMap stats_;
    QElapsedTimer statsClock_;
    quint64 updates_ = 0;
    SessionInfo lastInfo_;
    quint64 lastUpdates_ = 0;
};

} // namespace saffron
