#pragma once

#include "Session.h"
#include "common/ConnectionTarget.h"
#include "common/StatsLog.h"

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
    // What the session shows beyond the main window, one window each, in monitor order: the
    // heads of display 0 after the first where one device drives several monitors, then the
    // displays beyond display 0 (a device per monitor). Each entry is {display, head}, head -1
    // for a whole display. mainHead is 0 when the main window shows only display 0's first
    // head, else -1.
    Q_PROPERTY(QVariantList extraViews READ extraViews NOTIFY extraViewsChanged)
    Q_PROPERTY(int mainHead READ mainHead NOTIFY mainHeadChanged)
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
    QVariantList extraViews() const { return extraViews_; }
    int mainHead() const { return mainHead_; }
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
    void extraViewsChanged();
    void mainHeadChanged();
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
    // `now`: apply a shrinking list at once (the session went) rather than after kViewsGraceMs.
    void updateViews(bool now = false);
    int nextBackoffMs();

    Policy policy_;
    std::optional<ConnectionTarget> target_;
    std::unique_ptr<Session> session_;
    QString state_ = QStringLiteral("idle");
    QString phase_;
    QString message_;
    QString details_;
    QString title_;
    QVariantList extraViews_;
    int mainHead_ = -1;
    // A guest changing mode reports one head (the whole new primary) for a moment before its
    // real layout: windows are only taken away when fewer views last this long.
    static constexpr int kViewsGraceMs = 1500;
    QTimer viewsGrace_;
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
    std::unique_ptr<StatsLog> statsLog_; // SAFFRON_STATS_LOG only
    QVariantMap stats_;
    QElapsedTimer statsClock_;
    quint64 updates_ = 0;
    SessionInfo lastInfo_;
    quint64 lastUpdates_ = 0;
};

} // namespace saffron
