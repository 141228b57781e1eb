#include "TestServerProcess.h"

#include <QDeadlineTimer>
#include <QRegularExpression>
#include <QTest>

namespace saffron::test {

TestServerProcess::TestServerProcess(const QStringList& args) {
    proc_.setProgram(qEnvironmentVariable("SAFFRON_TEST_SERVER"));
    proc_.setArguments(QStringList{QStringLiteral("--port"), QStringLiteral("0")} + args);
    // The server's warnings go to the test log; stdout is the protocol.
    proc_.setProcessChannelMode(QProcess::ForwardedErrorChannel);
    proc_.start();
}

TestServerProcess::~TestServerProcess() {
    if (proc_.state() == QProcess::NotRunning)
        return;
    command("quit");
    if (!proc_.waitForFinished(5000))
        proc_.kill();
    proc_.waitForFinished();
}

void TestServerProcess::readLines() {
    while (proc_.canReadLine())
        lines_ << QString::fromUtf8(proc_.readLine()).trimmed();
}

QString TestServerProcess::waitLine(const QString& prefix, int ms) {
    QDeadlineTimer deadline(ms);
    do {
        readLines();
        while (next_ < lines_.size()) {
            const QString& line = lines_[next_++];
            if (line.startsWith(prefix))
                return line;
        }
        // Runs the event loop: the tests' sessions live on this thread's signals.
        QTest::qWait(10);
    } while (!deadline.hasExpired());
    return {};
}

quint16 TestServerProcess::port() {
    if (port_ == 0) {
        const auto m =
            QRegularExpression(QStringLiteral("port=(\\d+)")).match(waitLine(QStringLiteral("READY"), 30000));
        port_ = m.hasMatch() ? quint16(m.captured(1).toUInt()) : 0;
    }
    return port_;
}

void TestServerProcess::command(const QByteArray& line) {
    proc_.write(line + '\n');
}

const QStringList& TestServerProcess::lines() {
    readLines();
    return lines_;
}

} // namespace saffron::test
