#pragma once

#include "connection/ConnectionSpec.h"

#include <QByteArray>
#include <QList>
#include <QString>
#include <QStringList>
#include <optional>

namespace saffron {

// One tile of the launcher: a connection an administrator (or, outside kiosk mode, the user)
// described in a file of its own.
struct CatalogEntry {
    QString id;     // file name without ".conf"; a user file with a system id is skipped
    QString source; // the file it came from
    bool fromUserDir = false;
    bool fromAdminDir = false; // made in the admin panel: the panel may change or remove it
    QString name;              // shown on the tile; defaults to the id
    QString description;       // optional second line
    QString icon;              // optional icon name or path, as written
    int order = 0;             // tiles sort by order, then name (case-insensitive), then id
    bool passwordFree = false;
    ConnectionSpec spec;
    // The file the stored password came from (this file or its vv= file); empty without one.
    QString secretFile;

    // True when the user must be asked for a password before connecting. SPICE servers
    // normally use tickets (QEMU's "password=" / "disable-ticketing" is opt-out), and a client
    // cannot find out without trying, so a connection without a stored password is assumed to
    // need one unless its file says password-free=true (e.g. a server with disable-ticketing
    // reached over a trusted network or a unix socket).
    bool needsPassword() const { return spec.password.isEmpty() && !passwordFree; }
};

struct CatalogProblem {
    QString file;
    int line = 0; // 0 = the whole file
    QString message;
    bool fatal = true;    // false: a warning, the entry was still loaded
    QString text() const; // "file:line: message"
};

// The connections of the launcher: every *.conf in the system directory
// (/etc/saffron/connections.d) and, outside kiosk mode, the user's
// ($XDG_CONFIG_HOME/saffron/connections.d). Each file holds one [connection] group:
//
//   [connection]
//   name=Office desktop          # optional, default: the file name
//   description=Windows 11       # optional
//   icon=computer                # optional
//   order=10                     # optional integer, default 0
//   password-free=true           # optional: the server does not use tickets
//   # then exactly one of:
//   uri=spice://host:5900?tls-port=5901
//   vv=office.vv                 # relative to this file's directory; never deleted
//   # or the .vv keys themselves (host, port, tls-port, ca, host-subject, password, proxy,
//   # secure-channels, usb-filter, ...; see VvFile.h), plus:
//   ca-file=/etc/saffron/ca/office.pem
//
// ca-file and the catalog keys above may be combined with uri= or vv=; connection keys may not.
// Invalid files are reported (file and line) and skipped; they never stop the others loading.
// A file holding a password should be mode 0600: a group- or world-readable one (or one owned
// by another user than root or us) still loads, with a warning that also goes to the journal.
class ConnectionCatalog {
public:
    static constexpr qsizetype kMaxFiles = 512;

    // Loads from the directories; an empty userDir means none (kiosk mode), an empty adminDir
    // too. System connections win over admin-made ones of the same id, both over the user's.
    void load(const QString& systemDir, const QString& userDir, const QString& adminDir = {});
    // The default directories for a settings root ("/" on the appliance).
    static QString systemDirForRoot(const QString& root);
    static QString defaultUserDir();
    // Where the admin panel keeps the connections it makes: <root>/var/lib/saffron/connections.d,
    // beside the admin settings (the image's /etc may be read-only, and what an administrator
    // set up at the device is state, not the image's configuration).
    static QString adminDirForRoot(const QString& root);

    // A connection as the administrator types it in the admin panel.
    struct AdminDraft {
        QString name;
        QString address;  // spice://host:port?tls-port=N, spice+unix:///path, or host:port
        QString password; // empty: none stored (the launcher asks, unless passwordFree)
        bool passwordFree = false;
    };
    // Writes the draft as <adminDir>/<id>.conf, atomically and mode 0600 (it may hold a
    // password). The file is parsed back with parseEntry() before it is written, so what is
    // saved is what the launcher will load. `id` empty: a new one from the name (lower-case
    // letters, digits, '-'), unique in the directory; otherwise that file is replaced. Returns
    // the id, or an empty string with *error set.
    static QString writeAdminEntry(const QString& adminDir, const AdminDraft& draft, const QString& id,
                                   QString* error);
    static bool removeAdminEntry(const QString& adminDir, const QString& id, QString* error);

    const QList<CatalogEntry>& entries() const { return entries_; }
    const QList<CatalogProblem>& problems() const { return problems_; }
    const CatalogEntry* find(const QString& id) const;

    // Parses one file's contents. `baseDir` resolves a relative vv= path. Returns the entry,
    // or std::nullopt with a fatal problem appended; warnings are appended too.
    static std::optional<CatalogEntry> parseEntry(const QByteArray& data, const QString& fileName,
                                                  const QString& baseDir, QList<CatalogProblem>* problems);

private:
    enum class Origin { System, Admin, User };
    void loadDir(const QString& dir, Origin origin);

    QList<CatalogEntry> entries_;
    QList<CatalogProblem> problems_;
};

} // namespace saffron
