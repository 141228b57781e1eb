#include "QmpClient.h"

#include <QDir>
#include <QFile>
#include <QJsonDocument>
#include <QLocalSocket>
#include <QTemporaryDir>
#include <QTest>

namespace saffron::test {

QmpClient::QmpClient() = default;
QmpClient::~QmpClient() = default;

bool QmpClient::connectToSocket(const QString& path, int timeoutMs) {
    disconnect();
    const QDeadlineTimer deadline(timeoutMs);
    socket_ = std::make_unique<QLocalSocket>();
    // An absolute path makes QLocalSocket use it as is instead of a name under /tmp.
    socket_->connectToServer(path);
    if (!socket_->waitForConnected(int(deadline.remainingTime()))) {
        error_ = QStringLiteral("cannot connect to QMP socket %1: %2").arg(path, socket_->errorString());
        socket_.reset();
        return false;
    }
    // QMP spec: the server speaks first with {"QMP": {"version", "capabilities"}} and only
    // accepts qmp_capabilities until negotiation is done.
    QJsonObject greeting;
    if (!readMessage(greeting, deadline))
        return false;
    if (!greeting.contains(QStringLiteral("QMP"))) {
        error_ = QStringLiteral("unexpected QMP greeting: %1")
                     .arg(QString::fromUtf8(QJsonDocument(greeting).toJson(QJsonDocument::Compact)));
        disconnect();
        return false;
    }
    const QJsonObject reply = execute(QStringLiteral("qmp_capabilities"), {}, int(deadline.remainingTime()));
    if (reply.contains(QStringLiteral("error"))) {
        disconnect();
        return false;
    }
    return true;
}

bool QmpClient::isConnected() const {
    return socket_ && socket_->state() == QLocalSocket::ConnectedState;
}

void QmpClient::disconnect() {
    if (socket_)
        socket_->abort();
    socket_.reset();
    buffer_.clear();
}

QJsonObject QmpClient::localError(const QString& errorClass, const QString& description) {
    return QJsonObject{{QStringLiteral("error"), QJsonObject{{QStringLiteral("class"), errorClass},
                                                             {QStringLiteral("desc"), description}}}};
}

bool QmpClient::send(const QJsonObject& message) {
    if (!isConnected()) {
        error_ = QStringLiteral("QMP socket is not connected");
        return false;
    }
    QByteArray line = QJsonDocument(message).toJson(QJsonDocument::Compact);
    line.append('\n');
    if (socket_->write(line) != line.size()) {
        error_ = QStringLiteral("QMP write failed: %1").arg(socket_->errorString());
        return false;
    }
    socket_->flush();
    return true;
}

bool QmpClient::takeBufferedMessage(QJsonObject& message) {
    // QMP frames every message as one line of JSON ending in "\r\n".
    for (;;) {
        const qsizetype end = buffer_.indexOf('\n');
        if (end < 0)
            return false;
        const QByteArray line = buffer_.left(end).trimmed();
        buffer_.remove(0, end + 1);
        if (line.isEmpty())
            continue;
        QJsonParseError parseError;
        const QJsonDocument document = QJsonDocument::fromJson(line, &parseError);
        if (!document.isObject()) {
            qWarning("QMP: ignoring malformed line (%s): %s", qPrintable(parseError.errorString()),
                     line.constData());
            continue;
        }
        message = document.object();
        return true;
    }
}

bool QmpClient::readMessage(QJsonObject& message, QDeadlineTimer deadline) {
    for (;;) {
        if (!socket_) {
            error_ = QStringLiteral("QMP socket is not connected");
            return false;
        }
        buffer_.append(socket_->readAll());
        if (takeBufferedMessage(message))
            return true;
        if (socket_->state() != QLocalSocket::ConnectedState) {
            error_ = QStringLiteral("QMP socket closed (QEMU exited?)");
            return false;
        }
        if (deadline.hasExpired()) {
            error_ = QStringLiteral("timed out waiting for QMP");
            return false;
        }
        socket_->waitForReadyRead(int(deadline.remainingTime()));
    }
}

QJsonObject QmpClient::execute(const QString& command, const QJsonObject& arguments, int timeoutMs) {
    const QDeadlineTimer deadline(timeoutMs);
    const qint64 id = nextId_++;
    QJsonObject request{{QStringLiteral("execute"), command}, {QStringLiteral("id"), id}};
    if (!arguments.isEmpty())
        request.insert(QStringLiteral("arguments"), arguments);
    if (!send(request))
        return localError(QStringLiteral("SaffronIo"), error_);

    for (;;) {
        QJsonObject message;
        if (!readMessage(message, deadline)) {
            const bool timedOut = isConnected();
            return localError(timedOut ? QStringLiteral("SaffronTimeout") : QStringLiteral("SaffronIo"),
                              QStringLiteral("%1: %2").arg(command, error_));
        }
        if (message.contains(QStringLiteral("event"))) {
            events_.append(message);
            continue;
        }
        // Replies carry our "id" back verbatim; anything else is the late answer to a command
        // that timed out earlier and must not be mistaken for this one's.
        if (message.value(QStringLiteral("id")).toInteger(-1) != id)
            continue;
        if (message.contains(QStringLiteral("error"))) {
            const QJsonObject error = message.value(QStringLiteral("error")).toObject();
            error_ = QStringLiteral("%1: %2 (%3)")
                         .arg(command, error.value(QStringLiteral("desc")).toString(),
                              error.value(QStringLiteral("class")).toString());
        }
        return message;
    }
}

QString QmpClient::humanMonitorCommand(const QString& commandLine, int timeoutMs) {
    const QJsonObject reply = execute(QStringLiteral("human-monitor-command"),
                                      {{QStringLiteral("command-line"), commandLine}}, timeoutMs);
    if (reply.contains(QStringLiteral("error")))
        return {};
    QString text = reply.value(QStringLiteral("return")).toString();
    text.replace(QStringLiteral("\r\n"), QStringLiteral("\n"));
    return text;
}

QImage QmpClient::screendump(int timeoutMs) {
    if (!dumpDir_) {
        dumpDir_ = std::make_unique<QTemporaryDir>(QDir::tempPath() + QStringLiteral("/saffron-dump-XXXXXX"));
        if (!dumpDir_->isValid()) {
            error_ = QStringLiteral("cannot create a temporary directory: %1").arg(dumpDir_->errorString());
            dumpDir_.reset();
            return {};
        }
    }
    const QDeadlineTimer deadline(timeoutMs);
    const QString path = dumpDir_->filePath(QStringLiteral("screendump-%1.png").arg(nextId_));
    // QEMU 7.2 accepts format "png"; older versions only write PPM, which QImage reads too.
    QJsonObject reply =
        execute(QStringLiteral("screendump"),
                {{QStringLiteral("filename"), path}, {QStringLiteral("format"), QStringLiteral("png")}},
                int(deadline.remainingTime()));
    if (reply.value(QStringLiteral("error")).toObject().value(QStringLiteral("class")) ==
        QStringLiteral("GenericError")) {
        reply = execute(QStringLiteral("screendump"), {{QStringLiteral("filename"), path}},
                        int(deadline.remainingTime()));
    }
    if (reply.contains(QStringLiteral("error"))) {
        QFile::remove(path);
        return {};
    }
    QImage image(path);
    QFile::remove(path);
    if (image.isNull()) {
        error_ = QStringLiteral("screendump wrote an unreadable image");
        return {};
    }
    return image.convertToFormat(QImage::Format_RGB32);
}

QList<QJsonObject> QmpClient::takeEvents() {
    // Pick up events that arrived since the last command without blocking.
    if (socket_) {
        buffer_.append(socket_->readAll());
        QJsonObject message;
        while (takeBufferedMessage(message)) {
            if (message.contains(QStringLiteral("event")))
                events_.append(message);
        }
    }
    return std::exchange(events_, {});
}

std::optional<QJsonObject> QmpClient::waitForEvent(const QString& name, int timeoutMs) {
    std::optional<QJsonObject> found;
    auto takeMatching = [&] {
        if (socket_) {
            buffer_.append(socket_->readAll());
            QJsonObject message;
            while (takeBufferedMessage(message)) {
                // Replies to timed-out commands may still trickle in; only events matter here.
                if (message.contains(QStringLiteral("event")))
                    events_.append(message);
            }
        }
        for (qsizetype i = 0; i < events_.size(); ++i) {
            if (events_.at(i).value(QStringLiteral("event")).toString() == name) {
                found = events_.takeAt(i);
                return true;
            }
        }
        return false;
    };
    if (!takeMatching() && !QTest::qWaitFor(takeMatching, timeoutMs))
        error_ = QStringLiteral("timed out waiting for QMP event %1").arg(name);
    return found;
}

} // namespace saffron::test
