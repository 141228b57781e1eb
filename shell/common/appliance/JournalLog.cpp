#include "common/appliance/JournalLog.h"

#include "connection/ConnectionSpec.h"

#include <QMutex>
#include <QSet>
#include <cstdio>
#include <sys/stat.h>
#include <sys/uio.h>
#include <systemd/sd-journal.h>
#include <unistd.h>
#include <vector>

namespace saffron {

namespace {

struct ContextFields {
    QString connection;
    QString channel;
    QString error;
};

thread_local ContextFields tlsContext;

QMutex& secretsMutex() {
    static QMutex mutex;
    return mutex;
}

QStringList& secrets() {
    static QStringList list;
    return list;
}

std::function<void(const LogRecord&)>& testSink() {
    static std::function<void(const LogRecord&)> sink;
    return sink;
}

bool& useJournal() {
    static bool value = false;
    return value;
}

// A journal field value must not contain a newline in the "NAME=value" form only when sent
// through the stream protocol; sd_journal_sendv takes binary-safe values, so only NUL is
// dropped (it would truncate the C string view of some readers).
QByteArray field(const char* name, const QString& value) {
    QByteArray v = value.toUtf8();
    v.replace('\0', ' ');
    return QByteArray(name) + '=' + v;
}

} // namespace

QList<QByteArray> LogRecord::journalFields() const {
    QList<QByteArray> fields;
    fields << field("MESSAGE", message) << QByteArray("PRIORITY=") + QByteArray::number(priority)
           << QByteArray("SYSLOG_IDENTIFIER=saffron");
    if (!category.isEmpty() && category != u"default")
        fields << field("QT_CATEGORY", category);
    if (!connection.isEmpty())
        fields << field("SAFFRON_CONNECTION", connection);
    if (!channel.isEmpty())
        fields << field("SAFFRON_CHANNEL", channel);
    if (!error.isEmpty())
        fields << field("SAFFRON_ERROR", error);
    if (!file.isEmpty()) {
        fields << field("CODE_FILE", file);
        fields << QByteArray("CODE_LINE=") + QByteArray::number(line);
    }
    if (!function.isEmpty())
        fields << field("CODE_FUNC", function);
    return fields;
}

QString LogRecord::stderrLine() const {
    static const char* const kNames[] = {"debug", "warning", "critical", "fatal", "info"};
    const char* level = type >= QtDebugMsg && type <= QtInfoMsg ? kNames[type] : "log";
    QString where;
    if (!connection.isEmpty() || !channel.isEmpty())
        where = u'[' + connection + (channel.isEmpty() ? QString() : u'/' + channel) + u']';
    QString line = QStringLiteral("saffron%1: %2: %3").arg(where, QLatin1String(level), message);
    if (!error.isEmpty())
        line += QStringLiteral(" (error: %1)").arg(error);
    return line;
}

int JournalLog::priorityFor(QtMsgType type) {
    // syslog(3) levels: LOG_CRIT 2, LOG_ERR 3, LOG_WARNING 4, LOG_INFO 6, LOG_DEBUG 7.
    switch (type) {
    case QtDebugMsg:
        return 7;
    case QtInfoMsg:
        return 6;
    case QtWarningMsg:
        return 4;
    case QtCriticalMsg:
        return 3;
    case QtFatalMsg:
        return 2;
    }
    return 6;
}

bool JournalLog::stderrIsJournal() {
    // systemd.exec(5): JOURNAL_STREAM is "device:inode" of the stream stdout/stderr were
    // connected to; it is inherited by children whose stderr may be redirected since, so the
    // descriptor itself is compared.
    const QByteArray value = qgetenv("JOURNAL_STREAM");
    if (value.isEmpty())
        return false;
    const qsizetype colon = value.indexOf(':');
    if (colon <= 0)
        return false;
    bool okDev = false;
    bool okIno = false;
    const qulonglong dev = value.left(colon).toULongLong(&okDev);
    const qulonglong ino = value.mid(colon + 1).toULongLong(&okIno);
    struct stat st {};
    if (!okDev || !okIno || ::fstat(STDERR_FILENO, &st) != 0)
        return false;
    return static_cast<qulonglong>(st.st_dev) == dev && static_cast<qulonglong>(st.st_ino) == ino;
}

void JournalLog::install() {
    useJournal() = stderrIsJournal();
    qInstallMessageHandler(&JournalLog::handler);
}

void JournalLog::uninstall() {
    qInstallMessageHandler(nullptr);
}

void JournalLog::addSecret(const QString& secret) {
    if (secret.isEmpty())
        return;
    const QMutexLocker lock(&secretsMutex());
    if (!secrets().contains(secret))
        secrets().append(secret);
}

void JournalLog::addSecretsOf(const ConnectionSpec& spec) {
    addSecret(spec.password);
    addSecret(spec.proxy.password());
}

void JournalLog::clearSecrets() {
    const QMutexLocker lock(&secretsMutex());
    secrets().clear();
}

QString JournalLog::redact(QString text, const QStringList& extra) {
    QStringList all = extra;
    {
        const QMutexLocker lock(&secretsMutex());
        all += secrets();
    }
    // Longest first: a secret containing a shorter one is replaced whole.
    std::sort(all.begin(), all.end(), [](const QString& a, const QString& b) { return a.size() > b.size(); });
    for (const QString& secret : all) {
        if (!secret.isEmpty())
            text.replace(secret, QLatin1String(ConnectionSpec::kRedacted));
    }
    return text;
}

void JournalLog::setSinkForTesting(std::function<void(const LogRecord&)> sink) {
    testSink() = std::move(sink);
}

JournalLog::Scope::Scope(const QString& connection, const QString& channel, const QString& error)
    : savedConnection_(tlsContext.connection), savedChannel_(tlsContext.channel),
      savedError_(tlsContext.error) {
    if (!connection.isEmpty())
        tlsContext.connection = connection;
    if (!channel.isEmpty())
        tlsContext.channel = channel;
    if (!error.isEmpty())
        tlsContext.error = error;
}

JournalLog::Scope::~Scope() {
    tlsContext.connection = savedConnection_;
    tlsContext.channel = savedChannel_;
    tlsContext.error = savedError_;
}

void JournalLog::handler(QtMsgType type, const QMessageLogContext& context, const QString& message) {
    LogRecord r;
    r.type = type;
    r.priority = priorityFor(type);
    r.message = redact(message);
    r.category = QString::fromUtf8(context.category);
    r.connection = redact(tlsContext.connection);
    r.channel = tlsContext.channel;
    r.error = redact(tlsContext.error);
    r.file = QString::fromUtf8(context.file);
    r.line = context.line;
    r.function = QString::fromUtf8(context.function);

    if (testSink()) {
        testSink()(r);
        return;
    }
    if (useJournal()) {
        const QList<QByteArray> fields = r.journalFields();
        std::vector<iovec> iov;
        iov.reserve(static_cast<size_t>(fields.size()));
        for (const QByteArray& f : fields)
            iov.push_back(iovec{const_cast<char*>(f.constData()), static_cast<size_t>(f.size())});
        if (sd_journal_sendv(iov.data(), static_cast<int>(iov.size())) >= 0)
            return;
        // Journal unreachable (shutting down): fall through to stderr, which it also reads.
    }
    const QByteArray line = r.stderrLine().toLocal8Bit() + '\n';
    std::fwrite(line.constData(), 1, static_cast<size_t>(line.size()), stderr);
    std::fflush(stderr);
}

} // namespace saffron
