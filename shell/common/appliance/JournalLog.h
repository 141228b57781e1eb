#pragma once

#include <QByteArray>
#include <QList>
#include <QString>
#include <QStringList>
#include <QtGlobal>
#include <functional>

namespace saffron {

struct ConnectionSpec;

// One log record as JournalLog sends it: the message already redacted.
struct LogRecord {
    QtMsgType type = QtDebugMsg;
    int priority = 7; // syslog priority (journal PRIORITY=)
    QString message;
    QString category;
    QString connection; // SAFFRON_CONNECTION
    QString channel;    // SAFFRON_CHANNEL
    QString error;      // SAFFRON_ERROR
    QString file;
    int line = 0;
    QString function;

    // The journal fields, "NAME=value" each (what sd_journal_sendv receives).
    QList<QByteArray> journalFields() const;
    // The stderr line: "saffron[office/display]: warning: message (error: code)".
    QString stderrLine() const;
};

// The shell's Qt message handler. Messages go to the journal with structured fields when
// stderr is connected to it (systemd sets JOURNAL_STREAM to the device:inode of that stream,
// systemd.exec(5)), and to stderr otherwise: a developer in a terminal reads text, the
// appliance's journal can be filtered with `journalctl SAFFRON_CONNECTION=office`.
//
// Secrets never reach a log: every message, and every context field, has the registered
// secrets replaced by "***" before it leaves the process (ConnectionSpec::describe() already
// redacts; this catches a password that slipped into an error string from elsewhere).
class JournalLog {
public:
    // Installs the handler. Destinations are chosen once here.
    static void install();
    // Restores Qt's default handler.
    static void uninstall();
    static bool stderrIsJournal();

    // A secret to redact from every later message (passwords, tickets, proxy credentials).
    // Empty strings are ignored. Thread-safe.
    static void addSecret(const QString& secret);
    // Registers the secrets a connection carries: its password and its proxy's password.
    // ConnectionCatalog does it for every entry; call it for a command-line target too.
    static void addSecretsOf(const ConnectionSpec& spec);
    static void clearSecrets(); // tests
    // `text` with every registered secret and `extra` secret replaced by "***".
    static QString redact(QString text, const QStringList& extra = {});

    static int priorityFor(QtMsgType type);

    // Test hook: every record goes here instead of the journal/stderr. {} restores.
    static void setSinkForTesting(std::function<void(const LogRecord&)> sink);

    // Attaches SAFFRON_CONNECTION / _CHANNEL / _ERROR to the messages logged on this thread
    // while it lives. Nested scopes override the fields they set and restore them on exit.
    class Scope {
    public:
        Scope(const QString& connection, const QString& channel = {}, const QString& error = {});
        ~Scope();
        Scope(const Scope&) = delete;
        Scope& operator=(const Scope&) = delete;

    private:
        QString savedConnection_;
        QString savedChannel_;
        QString savedError_;
    };

private:
    static void handler(QtMsgType type, const QMessageLogContext& context, const QString& message);
};

} // namespace saffron
