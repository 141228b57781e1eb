#pragma once

#include <QProcess>
#include <QString>
#include <QTemporaryDir>
#include <memory>
#include <vector>

namespace saffron::test {

// A private PipeWire + WirePlumber (+ its own D-Bus session bus) for one test process, with a
// null sink "test-sink" and a virtual source "test-source" (support.null-audio-sink nodes: no
// sound card needed, the graph is driven by a timer). Everything lives in a temporary
// XDG_RUNTIME_DIR, so the host's own PipeWire, if any, is never touched.
//
// start() points this process at the daemon ($PIPEWIRE_RUNTIME_DIR), so AudioPlayback /
// AudioCapture with an empty `remote` connect to it.
class PipeWireDaemon {
public:
    ~PipeWireDaemon();
    // False, with the reason in error(), when the binaries are missing or the daemon does not
    // come up; tests then QSKIP with that reason.
    bool start();
    void stop();
    const QString& error() const { return m_error; }
    QString runtimeDir() const { return m_runtime ? m_runtime->path() : QString(); }

    // Runs a PipeWire tool (pw-cli ...) against this daemon; returns its stdout, or an empty
    // string on failure.
    QString runTool(const QString& program, const QStringList& args, int timeoutMs = 5000) const;

    // pw-link output-port input-port; true when the link was made.
    bool link(const QString& outputPort, const QString& inputPort) const;

    // Another null sink or virtual source (like a headset being plugged in).
    bool addSink(const QString& name) { return createNode(name, QStringLiteral("Audio/Sink")); }
    bool addSource(const QString& name) { return createNode(name, QStringLiteral("Audio/Source/Virtual")); }
    // What a user does in the desktop's sound settings: the configured default, which
    // WirePlumber turns into the default and follows by moving streams without a target.
    // `kind` is "audio.sink" or "audio.source".
    bool setDefault(const QString& kind, const QString& name) const;
    // The node.name of the current default (WirePlumber's choice), empty if none yet.
    QString defaultOf(const QString& kind) const;

private:
    std::unique_ptr<QProcess> launch(const QString& program, const QStringList& args, const QString& logName);
    bool waitForFile(const QString& path, int timeoutMs) const;
    bool createNode(const QString& name, const QString& mediaClass);

    std::unique_ptr<QTemporaryDir> m_runtime;
    QProcessEnvironment m_env;
    std::unique_ptr<QProcess> m_dbus;
    std::unique_ptr<QProcess> m_pipewire;
    std::unique_ptr<QProcess> m_wireplumber;
    QString m_error;
};

} // namespace saffron::test
