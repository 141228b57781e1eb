#pragma once

#include <QByteArray>
#include <QDeadlineTimer>
#include <QImage>
#include <QJsonObject>
#include <QList>
#include <QString>
#include <memory>
#include <optional>

class QLocalSocket;
class QTemporaryDir;

namespace saffron::test {

// Synchronous QMP client for tests. Commands block (waitForReadyRead) until their reply or a
// timeout: QMP answers in milliseconds and tests read more simply this way. Asynchronous
// events that arrive meanwhile are queued, not lost, and can be awaited with waitForEvent(),
// which spins the event loop so that a client under test in the same thread keeps running.
class QmpClient {
public:
    static constexpr int kDefaultTimeoutMs = 10000;

    QmpClient();
    ~QmpClient();
    QmpClient(const QmpClient&) = delete;
    QmpClient& operator=(const QmpClient&) = delete;

    // Connects to QEMU's "-qmp unix:PATH,server=on" socket, reads the greeting and leaves
    // capabilities negotiation mode (qmp_capabilities), after which commands are accepted.
    bool connectToSocket(const QString& path, int timeoutMs = kDefaultTimeoutMs);
    bool isConnected() const;
    void disconnect();
    QString errorString() const { return error_; }

    // Runs a command and returns QEMU's whole reply: {"return": ...} on success or
    // {"error": {"class", "desc"}}. Local failures (timeout, lost socket) are reported the
    // same way with class "SaffronTimeout" / "SaffronIo", so callers only check "error".
    QJsonObject execute(const QString& command, const QJsonObject& arguments = {},
                        int timeoutMs = kDefaultTimeoutMs);

    // HMP through QMP (human-monitor-command), e.g. "info spice". Line ends are normalised
    // to "\n". Returns an empty string and sets errorString() on failure.
    QString humanMonitorCommand(const QString& commandLine, int timeoutMs = kDefaultTimeoutMs);

    // The current guest screen (QMP screendump to a temporary PNG), as Format_RGB32. Returns a
    // null image and sets errorString() on failure, e.g. before the display has a surface.
    QImage screendump(int timeoutMs = kDefaultTimeoutMs);

    // Events received so far (SPICE_CONNECTED, SHUTDOWN...), oldest first; clears the queue.
    QList<QJsonObject> takeEvents();
    // Waits, spinning the event loop, for the next event with this name; earlier events with
    // other names stay queued.
    std::optional<QJsonObject> waitForEvent(const QString& name, int timeoutMs = kDefaultTimeoutMs);

private:
    bool readMessage(QJsonObject& message, QDeadlineTimer deadline);
    bool takeBufferedMessage(QJsonObject& message);
    bool send(const QJsonObject& message);
    static QJsonObject localError(const QString& errorClass, const QString& description);

    std::unique_ptr<QLocalSocket> socket_;
    std::unique_ptr<QTemporaryDir> dumpDir_;
    QByteArray buffer_;
    QList<QJsonObject> events_;
    QString error_;
    qint64 nextId_ = 1;
};

} // namespace saffron::test
