#include "common/appliance/ConnectionCatalog.h"

#include "common/appliance/AtomicFile.h"
#include "common/appliance/JournalLog.h"
#include "connection/KeyFile.h"
#include "connection/SpiceUri.h"
#include "connection/VvFile.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QMap>
#include <QRegularExpression>
#include <QtDebug>
#include <algorithm>
#include <sys/stat.h>
#include <unistd.h>

namespace saffron {

namespace {

const QString kGroup = QStringLiteral("connection");
// Keys the catalog handles itself; every other key is a .vv connection key.
const QStringList kCatalogKeys = {
    QStringLiteral("name"),  QStringLiteral("description"),   QStringLiteral("icon"),
    QStringLiteral("order"), QStringLiteral("password-free"), QStringLiteral("uri"),
    QStringLiteral("vv"),    QStringLiteral("ca-file")};

// Splits "line 7: message" (KeyFile and VvFile errors) into 7 and "message".
std::pair<int, QString> splitLine(const QString& error) {
    static const QRegularExpression re(QStringLiteral("^line (\\d+): (.*)$"),
                                       QRegularExpression::DotMatchesEverythingOption);
    const auto m = re.match(error);
    if (!m.hasMatch())
        return {0, error};
    return {m.captured(1).toInt(), m.captured(2)};
}

bool hasControlCharacter(const QString& text) {
    return std::any_of(text.begin(), text.end(),
                       [](QChar c) { return c.unicode() < 0x20 || c.unicode() == 0x7f; });
}

} // namespace

QString CatalogProblem::text() const {
    const QString kind = fatal ? QString() : QStringLiteral("warning: ");
    return line > 0 ? QStringLiteral("%1:%2: %3%4").arg(file).arg(line).arg(kind, message)
                    : QStringLiteral("%1: %2%3").arg(file, kind, message);
}

std::optional<CatalogEntry> ConnectionCatalog::parseEntry(const QByteArray& data, const QString& fileName,
                                                          const QString& baseDir,
                                                          QList<CatalogProblem>* problems) {
    auto fail = [&](int line, const QString& message) {
        problems->append({fileName, line, message, true});
        return std::nullopt;
    };
    QString error;
    const auto file = KeyFile::parse(data, &error);
    if (!file) {
        const auto [line, message] = splitLine(error);
        return fail(line, message);
    }

    // The connection keys go to the .vv parser as a [virt-viewer] document with the same line
    // numbers, so its messages ("line 9: tls-port: port '70000' is out of range") point into
    // this file: catalog lines become blank, the header is renamed.
    QString text = QString::fromUtf8(data);
    if (text.startsWith(QChar(0xfeff)))
        text.remove(0, 1);
    QStringList lines = text.split(u'\n');
    bool sawGroup = false;
    for (qsizetype i = 0; i < lines.size(); ++i) {
        const QString trimmed = lines[i].trimmed();
        if (!trimmed.startsWith(u'['))
            continue;
        const QString group = trimmed.mid(1, trimmed.size() - 2);
        if (group != kGroup)
            return fail(int(i + 1),
                        QStringLiteral("unknown group [%1] (a connection file has one [connection] group)")
                            .arg(group.left(40)));
        if (sawGroup)
            return fail(int(i + 1), QStringLiteral("[connection] appears twice"));
        sawGroup = true;
        lines[i] = QStringLiteral("[virt-viewer]");
    }
    if (!sawGroup)
        return fail(0, QStringLiteral("no [connection] group"));

    CatalogEntry entry;
    entry.id = QFileInfo(fileName).completeBaseName();
    QMap<QString, int> catalogLines;
    QString firstConnectionKey;
    int firstConnectionLine = 0;
    bool hasType = false;
    QString uri;
    QString vvPath;
    for (const KeyFileEntry& e : file->entries()) {
        if (!kCatalogKeys.contains(e.key)) {
            if (e.key == u"type")
                hasType = true;
            if (firstConnectionKey.isEmpty()) {
                firstConnectionKey = e.key;
                firstConnectionLine = e.line;
            }
            continue;
        }
        if (catalogLines.contains(e.key))
            return fail(e.line, QStringLiteral("key '%1' is repeated (first on line %2)")
                                    .arg(e.key)
                                    .arg(catalogLines.value(e.key)));
        catalogLines.insert(e.key, e.line);
        lines[e.line - 1].clear();
        const auto value = KeyFile::unescape(e.rawValue, &error);
        if (!value)
            return fail(e.line, QStringLiteral("%1: %2").arg(e.key, error));
        if (e.key != u"description" && hasControlCharacter(*value))
            return fail(e.line, QStringLiteral("%1: contains a line break or control character").arg(e.key));
        if (e.key == u"name") {
            if (value->trimmed().isEmpty())
                return fail(e.line, QStringLiteral("name: empty"));
            entry.name = value->trimmed().left(200);
        } else if (e.key == u"description") {
            entry.description = value->left(1000);
        } else if (e.key == u"icon") {
            entry.icon = *value;
        } else if (e.key == u"order") {
            bool ok = false;
            entry.order = value->toInt(&ok);
            if (!ok || entry.order < -1'000'000 || entry.order > 1'000'000)
                return fail(e.line, QStringLiteral("order: '%1' is not an integer from -1000000 to 1000000")
                                        .arg(value->left(20)));
        } else if (e.key == u"password-free") {
            if (*value == u"true" || *value == u"1")
                entry.passwordFree = true;
            else if (*value == u"false" || *value == u"0")
                entry.passwordFree = false;
            else
                return fail(e.line,
                            QStringLiteral("password-free: '%1' is not true or false").arg(value->left(20)));
        } else if (e.key == u"uri") {
            uri = *value;
        } else if (e.key == u"vv") {
            if (value->isEmpty())
                return fail(e.line, QStringLiteral("vv: empty path"));
            vvPath = QDir(baseDir).filePath(*value);
        } else if (e.key == u"ca-file") {
            if (value->isEmpty())
                return fail(e.line, QStringLiteral("ca-file: empty path"));
            entry.spec.caFile = QDir(baseDir).filePath(*value);
        }
    }
    if (entry.name.isEmpty())
        entry.name = entry.id;

    const QString caFile = entry.spec.caFile;
    if (!uri.isEmpty() && !vvPath.isEmpty())
        return fail(catalogLines.value(QStringLiteral("vv")),
                    QStringLiteral("uri= and vv= cannot both be given"));
    if (!uri.isEmpty() || !vvPath.isEmpty()) {
        const char* which = uri.isEmpty() ? "vv" : "uri";
        const int line = catalogLines.value(QLatin1String(which));
        if (!firstConnectionKey.isEmpty())
            return fail(firstConnectionLine,
                        QStringLiteral("'%1' cannot be combined with %2= (put it in the %3)")
                            .arg(firstConnectionKey.left(40), QLatin1String(which),
                                 uri.isEmpty() ? QStringLiteral(".vv file") : QStringLiteral("URI")));
        // A catalog's .vv is configuration, not a download: never deleted, whatever it says.
        const ConnectionResult result =
            uri.isEmpty() ? loadVvFile(vvPath, DeleteMode::Keep) : parseSpiceUri(uri);
        if (!result)
            return fail(line, QStringLiteral("%1: %2").arg(QLatin1String(which), result.error()));
        for (const QString& warning : result.warnings())
            problems->append({fileName, line, warning, false});
        entry.spec = result.spec();
        if (!entry.spec.password.isEmpty())
            entry.secretFile = uri.isEmpty() ? vvPath : fileName;
    } else {
        if (firstConnectionKey.isEmpty())
            return fail(
                0, QStringLiteral("nothing to connect to: give uri=, vv= or host= with port=/tls-port="));
        // Lines end with '\n' so the appended type=spice line has the next number.
        if (!hasType)
            lines.append(QStringLiteral("type=spice"));
        ConnectionResult result = parseVvFile(lines.join(u'\n').toUtf8());
        if (!result) {
            auto [line, message] = splitLine(result.error());
            message.replace(QStringLiteral("[virt-viewer]"), QStringLiteral("[connection]"));
            return fail(line, message);
        }
        for (const QString& warning : result.warnings())
            problems->append({fileName, 0, warning, false});
        entry.spec = result.spec();
        if (!entry.spec.password.isEmpty())
            entry.secretFile = fileName;
    }
    if (!caFile.isEmpty())
        entry.spec.caFile = caFile;
    entry.spec.deleteThisFile = false;
    return entry;
}

QString ConnectionCatalog::systemDirForRoot(const QString& root) {
    return QDir(root).filePath(QStringLiteral("etc/saffron/connections.d"));
}

QString ConnectionCatalog::defaultUserDir() {
    QString config = qEnvironmentVariable("XDG_CONFIG_HOME");
    if (config.isEmpty() || !QDir::isAbsolutePath(config))
        config = QDir::homePath() + QStringLiteral("/.config");
    return config + QStringLiteral("/saffron/connections.d");
}

QString ConnectionCatalog::adminDirForRoot(const QString& root) {
    return QDir(root).filePath(QStringLiteral("var/lib/saffron/connections.d"));
}

void ConnectionCatalog::load(const QString& systemDir, const QString& userDir, const QString& adminDir) {
    entries_.clear();
    problems_.clear();
    if (!systemDir.isEmpty())
        loadDir(systemDir, Origin::System);
    if (!adminDir.isEmpty())
        loadDir(adminDir, Origin::Admin);
    if (!userDir.isEmpty())
        loadDir(userDir, Origin::User);
    std::stable_sort(entries_.begin(), entries_.end(), [](const CatalogEntry& a, const CatalogEntry& b) {
        if (a.order != b.order)
            return a.order < b.order;
        const int byName = a.name.compare(b.name, Qt::CaseInsensitive);
        if (byName != 0)
            return byName < 0;
        return a.id < b.id;
    });
}

void ConnectionCatalog::loadDir(const QString& dir, Origin origin) {
    const QDir d(dir);
    if (!d.exists())
        return;
    QStringList names = d.entryList({QStringLiteral("*.conf")}, QDir::Files, QDir::Name);
    if (names.size() > kMaxFiles) {
        problems_.append(
            {dir, 0, QStringLiteral("%1 files; only the first %2 are read").arg(names.size()).arg(kMaxFiles),
             false});
        names = names.mid(0, kMaxFiles);
    }
    for (const QString& name : names) {
        const QString path = d.filePath(name);
        QFile file(path);
        if (!file.open(QIODevice::ReadOnly)) {
            problems_.append({path, 0, QStringLiteral("cannot read: %1").arg(file.errorString()), true});
            continue;
        }
        const QByteArray data = file.read(KeyFile::kMaxBytes + 1);
        auto entry = parseEntry(data, path, dir, &problems_);
        if (!entry)
            continue;
        const CatalogEntry* earlier = origin != Origin::System ? find(entry->id) : nullptr;
        if (earlier) {
            problems_.append({path, 0,
                              QStringLiteral("%1 connection is already called '%2'; this one is skipped")
                                  .arg(earlier->fromAdminDir ? QStringLiteral("an admin-made")
                                                             : QStringLiteral("a system"),
                                       entry->id),
                              true});
            continue;
        }
        JournalLog::addSecretsOf(entry->spec);
        entry->source = path;
        entry->fromUserDir = origin == Origin::User;
        entry->fromAdminDir = origin == Origin::Admin;
        if (!entry->secretFile.isEmpty()) {
            struct stat st {};
            if (::stat(QFile::encodeName(entry->secretFile).constData(), &st) == 0) {
                QString warning;
                if ((st.st_mode & 077) != 0)
                    warning = QStringLiteral("holds a password but is readable by %1 (mode %2): chmod 600 it")
                                  .arg((st.st_mode & 007) ? QStringLiteral("everyone")
                                                          : QStringLiteral("its group"))
                                  .arg(st.st_mode & 0777, 4, 8, QLatin1Char('0'));
                else if (st.st_uid != 0 && st.st_uid != ::geteuid())
                    warning = QStringLiteral("holds a password but is owned by uid %1, neither root nor us")
                                  .arg(st.st_uid);
                if (!warning.isEmpty()) {
                    problems_.append({entry->secretFile, 0, warning, false});
                    // Through the message handler: the journal when JournalLog is installed.
                    qWarning().noquote() << entry->secretFile + QStringLiteral(": ") + warning;
                }
            }
        }
        entries_.append(std::move(*entry));
    }
}

namespace {

QString idFromName(const QString& name) {
    QString id;
    for (const QChar c : name.toLower()) {
        if ((c >= u'a' && c <= u'z') || (c >= u'0' && c <= u'9'))
            id += c;
        else if (!id.isEmpty() && !id.endsWith(u'-'))
            id += u'-';
    }
    while (id.endsWith(u'-'))
        id.chop(1);
    return id.left(60).isEmpty() ? QStringLiteral("connection") : id.left(60);
}

bool validId(const QString& id) {
    if (id.isEmpty() || id.size() > 100 || id.startsWith(u'.'))
        return false;
    for (const QChar c : id)
        if (!(c.isLetterOrNumber() && c.unicode() < 128) && c != u'-' && c != u'_' && c != u'.')
            return false;
    return true;
}

} // namespace

QString ConnectionCatalog::writeAdminEntry(const QString& adminDir, const AdminDraft& draft,
                                           const QString& id, QString* error) {
    const QString name = draft.name.trimmed();
    if (name.isEmpty()) {
        *error = QStringLiteral("a connection needs a name");
        return {};
    }
    for (const QString& field : {name, draft.address, draft.password})
        if (hasControlCharacter(field)) {
            *error = QStringLiteral("line breaks and control characters are not allowed");
            return {};
        }
    QString address = draft.address.trimmed();
    if (address.isEmpty()) {
        *error = QStringLiteral("a connection needs an address");
        return {};
    }
    // "host:port" is what people type; the launcher stores it as the URI it means.
    if (!address.contains(QStringLiteral("://")))
        address = QStringLiteral("spice://") + address;
    const ConnectionResult parsed = parseSpiceUri(address);
    if (!parsed) {
        *error = parsed.error();
        return {};
    }
    if (!parsed.spec().password.isEmpty()) {
        *error = QStringLiteral("give the password in its own field, not in the address");
        return {};
    }

    QString fileId = id;
    if (fileId.isEmpty()) {
        const QString base = idFromName(name);
        fileId = base;
        for (int n = 2; QFileInfo::exists(QDir(adminDir).filePath(fileId + QStringLiteral(".conf"))); ++n)
            fileId = base + QLatin1Char('-') + QString::number(n);
    } else if (!validId(fileId)) {
        *error = QStringLiteral("'%1' is not a connection id").arg(fileId.left(40));
        return {};
    }

    // A password goes with the address's own keys (a URI may not be combined with them).
    QStringList lines{QStringLiteral("[connection]"), QStringLiteral("name=") + KeyFile::escape(name)};
    if (draft.passwordFree)
        lines << QStringLiteral("password-free=true");
    const ConnectionSpec& spec = parsed.spec();
    if (draft.password.isEmpty() || !spec.unixSocketPath.isEmpty()) {
        if (!draft.password.isEmpty()) {
            *error = QStringLiteral("a password cannot be stored for a unix socket connection");
            return {};
        }
        lines << QStringLiteral("uri=") + KeyFile::escape(address);
    } else {
        lines << QStringLiteral("host=") + KeyFile::escape(spec.host);
        if (spec.port)
            lines << QStringLiteral("port=%1").arg(spec.port);
        if (spec.tlsPort)
            lines << QStringLiteral("tls-port=%1").arg(spec.tlsPort);
        lines << QStringLiteral("password=") + KeyFile::escape(draft.password);
    }
    const QByteArray data = (lines.join(u'\n') + u'\n').toUtf8();
    const QString path = QDir(adminDir).filePath(fileId + QStringLiteral(".conf"));
    QList<CatalogProblem> problems;
    if (!parseEntry(data, path, adminDir, &problems)) {
        *error = problems.isEmpty() ? QStringLiteral("not a valid connection") : problems.last().message;
        return {};
    }
    if (!QDir().mkpath(adminDir)) {
        *error = QStringLiteral("cannot create %1").arg(adminDir);
        return {};
    }
    if (!AtomicFile::write(path, data, 0600, error))
        return {};
    return fileId;
}

bool ConnectionCatalog::removeAdminEntry(const QString& adminDir, const QString& id, QString* error) {
    if (!validId(id)) {
        *error = QStringLiteral("'%1' is not a connection id").arg(id.left(40));
        return false;
    }
    QFile file(QDir(adminDir).filePath(id + QStringLiteral(".conf")));
    if (!file.remove()) {
        *error = QStringLiteral("cannot remove %1: %2").arg(file.fileName(), file.errorString());
        return false;
    }
    return true;
}

const CatalogEntry* ConnectionCatalog::find(const QString& id) const {
    for (const CatalogEntry& e : entries_) {
        if (e.id == id)
            return &e;
    }
    return nullptr;
}

} // namespace saffron
