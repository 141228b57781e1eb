#include "connection/VvFile.h"

#include "connection/ConnectionFields.h"
#include "connection/KeyFile.h"

#include <QFile>
#include <QFileInfo>
#include <QHostAddress>
#include <algorithm>
#include <functional>

namespace saffron {

namespace {

const QString kMainGroup = QStringLiteral("virt-viewer");

// Converts one raw value into the spec; returns false with *error set when it is unusable.
using KeyHandler = std::function<bool(ConnectionSpec&, QStringView raw, QString* error)>;

bool hasControlCharacter(QStringView text) {
    return std::any_of(text.begin(), text.end(),
                       [](QChar c) { return c.unicode() < 0x20 || c.unicode() == 0x7f; });
}

// A string that must fit on one line (a host, a title, a hotkey...): escapes decoded, and
// the "\n" they can produce refused.
std::optional<QString> oneLine(QStringView raw, QString* error) {
    auto value = KeyFile::unescape(raw, error);
    if (value && hasControlCharacter(*value)) {
        *error = QStringLiteral("contains a line break or control character");
        return std::nullopt;
    }
    return value;
}

std::optional<QStringList> list(QStringView raw, QString* error) {
    auto items = KeyFile::unescapeList(raw, error);
    if (!items)
        return std::nullopt;
    for (const QString& item : *items) {
        if (hasControlCharacter(item)) {
            *error = QStringLiteral("an item contains a line break or control character");
            return std::nullopt;
        }
    }
    return items;
}

// virt-viewer reads its flags with g_key_file_get_integer and only tests non-zero; anything
// but 0 or 1 (including "true") silently means 0 there, so it is refused here.
std::optional<bool> flag(QStringView raw, QString* error) {
    if (raw == u"0")
        return false;
    if (raw == u"1")
        return true;
    *error = QStringLiteral("'%1' is not 0 or 1").arg(raw.left(16));
    return std::nullopt;
}

KeyHandler stringInto(QString ConnectionSpec::*field) {
    return [field](ConnectionSpec& spec, QStringView raw, QString* error) {
        auto value = oneLine(raw, error);
        if (value)
            spec.*field = std::move(*value);
        return value.has_value();
    };
}

KeyHandler flagInto(bool ConnectionSpec::*field) {
    return [field](ConnectionSpec& spec, QStringView raw, QString* error) {
        const auto value = flag(raw, error);
        if (value)
            spec.*field = *value;
        return value.has_value();
    };
}

KeyHandler optionalFlagInto(std::optional<bool> ConnectionSpec::*field) {
    return [field](ConnectionSpec& spec, QStringView raw, QString* error) {
        const auto value = flag(raw, error);
        if (value)
            spec.*field = *value;
        return value.has_value();
    };
}

KeyHandler portInto(quint16 ConnectionSpec::*field) {
    return [field](ConnectionSpec& spec, QStringView raw, QString* error) {
        const auto value = parsePort(raw, true, error);
        if (value)
            spec.*field = *value;
        return value.has_value();
    };
}

KeyHandler channelsInto(QStringList ConnectionSpec::*field, bool allowAll) {
    return [field, allowAll](ConnectionSpec& spec, QStringView raw, QString* error) {
        auto names = list(raw, error);
        if (!names || !checkChannelNames(*names, allowAll, error))
            return false;
        spec.*field = std::move(*names);
        return true;
    };
}

KeyHandler usbFilterInto(QString ConnectionSpec::*field) {
    return [field](ConnectionSpec& spec, QStringView raw, QString* error) {
        auto value = oneLine(raw, error);
        if (!value || !parseUsbFilter(*value, error))
            return false;
        spec.*field = std::move(*value);
        return true;
    };
}

KeyHandler hotkey(const QString& action) {
    return [action](ConnectionSpec& spec, QStringView raw, QString* error) {
        auto value = oneLine(raw, error);
        if (value)
            spec.hotkeys.insert(action, *value);
        return value.has_value();
    };
}

bool parseType(ConnectionSpec&, QStringView raw, QString* error) {
    const auto type = oneLine(raw, error);
    if (!type)
        return false;
    if (type->compare(u"spice", Qt::CaseInsensitive) != 0) {
        *error = QStringLiteral("connection type '%1' is not supported (Saffron only speaks SPICE)")
                     .arg(type->left(32));
        return false;
    }
    return true;
}

bool parseHost(ConnectionSpec& spec, QStringView raw, QString* error) {
    auto host = oneLine(raw, error);
    if (!host)
        return false;
    // The file's host is a bare address, but "[2001:db8::1]" copied from a URI is harmless.
    if (host->startsWith(u'[') && host->endsWith(u']')) {
        QHostAddress address;
        if (!address.setAddress(host->mid(1, host->size() - 2)) ||
            address.protocol() != QAbstractSocket::IPv6Protocol) {
            *error = QStringLiteral("'%1' is not an IPv6 address").arg(host->left(64));
            return false;
        }
        *host = host->mid(1, host->size() - 2);
    }
    if (!isPlausibleHost(*host, error))
        return false;
    spec.host = std::move(*host);
    return true;
}

bool parseUnixPath(ConnectionSpec& spec, QStringView raw, QString* error) {
    auto path = oneLine(raw, error);
    if (!path)
        return false;
    if (!path->startsWith(u'/')) {
        *error = QStringLiteral("'%1' is not an absolute path").arg(path->left(64));
        return false;
    }
    spec.unixSocketPath = std::move(*path);
    return true;
}

bool parsePassword(ConnectionSpec& spec, QStringView raw, QString* error) {
    // Any character may be part of a password; NUL bytes never reach here (KeyFile refuses them).
    auto value = KeyFile::unescape(raw, error);
    if (value)
        spec.password = std::move(*value);
    return value.has_value();
}

// Proxmox VE and oVirt inline the CA as one line with "\n" escapes (remote-viewer(1), "ca").
bool parseCa(ConnectionSpec& spec, QStringView raw, QString* error) {
    const auto value = KeyFile::unescape(raw, error);
    if (!value)
        return false;
    if (!value->contains(u"-----BEGIN CERTIFICATE-----")) {
        *error = QStringLiteral("no '-----BEGIN CERTIFICATE-----' (expected PEM with \\n between lines)");
        return false;
    }
    spec.caPem = value->toUtf8();
    return true;
}

bool parseHostSubjectKey(ConnectionSpec& spec, QStringView raw, QString* error) {
    auto value = oneLine(raw, error);
    if (!value || !parseHostSubject(*value, error))
        return false;
    spec.hostSubject = std::move(*value);
    return true;
}

bool parseProxyKey(ConnectionSpec& spec, QStringView raw, QString* error) {
    const auto value = oneLine(raw, error);
    if (!value)
        return false;
    auto url = parseProxyUrl(*value, error);
    if (url)
        spec.proxy = std::move(*url);
    return url.has_value();
}

bool parseColorDepth(ConnectionSpec& spec, QStringView raw, QString* error) {
    if (raw != u"16" && raw != u"32") {
        *error = QStringLiteral("'%1' is not 16 or 32").arg(raw.left(16));
        return false;
    }
    spec.colorDepth = raw.toInt();
    return true;
}

bool parseDisableEffects(ConnectionSpec& spec, QStringView raw, QString* error) {
    static const QStringList kEffects = {"wallpaper", "font-smooth", "animation", "all"};
    auto effects = list(raw, error);
    if (!effects)
        return false;
    for (const QString& effect : *effects) {
        if (!kEffects.contains(effect)) {
            *error =
                QStringLiteral("unknown effect '%1' (valid: %2)").arg(effect.left(32), kEffects.join(u", "));
            return false;
        }
    }
    spec.disableEffects = std::move(*effects);
    return true;
}

// "osid:version" pairs, e.g. "rhev-win64:2.0-160;rhel7:2.0-6" (oVirt writes these).
bool parseVersions(ConnectionSpec& spec, QStringView raw, QString* error) {
    const auto pairs = list(raw, error);
    if (!pairs)
        return false;
    QMap<QString, QString> versions;
    for (const QString& pair : *pairs) {
        const qsizetype colon = pair.indexOf(u':');
        if (colon <= 0 || colon + 1 == pair.size()) {
            *error = QStringLiteral("'%1' is not 'os-id:version'").arg(pair.left(32));
            return false;
        }
        versions.insert(pair.left(colon), pair.mid(colon + 1));
    }
    spec.minimumVersions = std::move(versions);
    return true;
}

const QMap<QString, KeyHandler>& keyHandlers() {
    static const QMap<QString, KeyHandler> handlers = [] {
        QMap<QString, KeyHandler> h;
        h.insert(QStringLiteral("type"), parseType);
        h.insert(QStringLiteral("unix-path"), parseUnixPath);
        h.insert(QStringLiteral("host"), parseHost);
        h.insert(QStringLiteral("port"), portInto(&ConnectionSpec::port));
        h.insert(QStringLiteral("tls-port"), portInto(&ConnectionSpec::tlsPort));
        h.insert(QStringLiteral("username"), stringInto(&ConnectionSpec::username));
        h.insert(QStringLiteral("password"), parsePassword);
        h.insert(QStringLiteral("disable-channels"), channelsInto(&ConnectionSpec::disableChannels, false));
        h.insert(QStringLiteral("tls-ciphers"), stringInto(&ConnectionSpec::tlsCiphers));
        h.insert(QStringLiteral("ca"), parseCa);
        h.insert(QStringLiteral("host-subject"), parseHostSubjectKey);
        h.insert(QStringLiteral("fullscreen"), flagInto(&ConnectionSpec::fullscreen));
        h.insert(QStringLiteral("title"), stringInto(&ConnectionSpec::title));
        for (const QString& action : kHotkeyActions)
            h.insert(action, hotkey(action));
        h.insert(QStringLiteral("enable-smartcard"), optionalFlagInto(&ConnectionSpec::enableSmartcard));
        h.insert(QStringLiteral("enable-usbredir"), optionalFlagInto(&ConnectionSpec::enableUsbRedir));
        h.insert(QStringLiteral("enable-usb-autoshare"),
                 optionalFlagInto(&ConnectionSpec::enableUsbAutoshare));
        h.insert(QStringLiteral("usb-filter"), usbFilterInto(&ConnectionSpec::usbFilter));
        h.insert(QStringLiteral("usb-redirect-on-connect"),
                 usbFilterInto(&ConnectionSpec::usbRedirectOnConnect));
        h.insert(QStringLiteral("color-depth"), parseColorDepth);
        h.insert(QStringLiteral("disable-effects"), parseDisableEffects);
        h.insert(QStringLiteral("secure-channels"), channelsInto(&ConnectionSpec::secureChannels, true));
        h.insert(QStringLiteral("delete-this-file"), flagInto(&ConnectionSpec::deleteThisFile));
        h.insert(QStringLiteral("proxy"), parseProxyKey);
        h.insert(QStringLiteral("version"), stringInto(&ConnectionSpec::minimumVersion));
        h.insert(QStringLiteral("versions"), parseVersions);
        h.insert(QStringLiteral("newer-version-url"), stringInto(&ConnectionSpec::newerVersionUrl));
        return h;
    }();
    return handlers;
}

QString unknownKeyError(const KeyFileEntry& entry) {
    QString message = QStringLiteral("line %1: unknown key '%2' in [%3]")
                          .arg(entry.line)
                          .arg(entry.key.left(40), kMainGroup);
    // GLib keys are case-sensitive; "Port=" is a common hand-editing slip.
    const QString lower = entry.key.toLower();
    if (lower != entry.key && keyHandlers().contains(lower))
        message += QStringLiteral(" (keys are case-sensitive: did you mean '%1'?)").arg(lower);
    return message;
}

// Rules across keys, checked once every key is read. `lines` maps keys to their line.
QString checkConsistency(const ConnectionSpec& spec, const QMap<QString, int>& lines) {
    const auto at = [&lines](const char* key) {
        return QStringLiteral("line %1: ").arg(lines.value(QLatin1String(key)));
    };
    if (!lines.contains(QStringLiteral("type")))
        return QStringLiteral("[virt-viewer] has no 'type' key (expected type=spice)");
    if (!spec.unixSocketPath.isEmpty()) {
        // remote-viewer(1): unix-path "is incompatible with host, port and tls-port".
        for (const char* key : {"host", "port", "tls-port", "proxy"}) {
            if (lines.contains(QLatin1String(key)))
                return at(key) +
                       QStringLiteral("'%1' cannot be combined with unix-path").arg(QLatin1String(key));
        }
        if (!spec.secureChannels.isEmpty())
            return at("secure-channels") +
                   QStringLiteral("secure-channels needs TLS, which unix-path has not");
        return {};
    }
    if (spec.host.isEmpty())
        return QStringLiteral("no 'host' or 'unix-path' key: nothing to connect to");
    if (spec.port == 0 && spec.tlsPort == 0)
        return QStringLiteral("no 'port' or 'tls-port' key for host '%1'").arg(spec.host.left(64));
    if (spec.port == spec.tlsPort)
        return at("tls-port") + QStringLiteral("port and tls-port are both %1").arg(spec.port);
    if (!spec.secureChannels.isEmpty() && spec.tlsPort == 0)
        return at("secure-channels") + QStringLiteral("secure-channels needs a tls-port");
    return {};
}

} // namespace

ConnectionResult parseVvFile(const QByteArray& contents) {
    QString error;
    const auto file = KeyFile::parse(contents, &error);
    if (!file)
        return ConnectionResult::failure(error);
    if (!file->hasGroup(kMainGroup))
        return ConnectionResult::failure(QStringLiteral("not a virt-viewer file: no [virt-viewer] group"));

    ConnectionSpec spec;
    QMap<QString, int> lines;
    for (const KeyFileEntry& entry : file->entries()) {
        if (entry.group != kMainGroup)
            continue; // [ovirt] and extension groups: well-formed is all we ask
        if (entry.key.startsWith(u"x-"))
            continue; // reserved for extensions by virt-viewer (virt-viewer-file.c)
        const auto handler = keyHandlers().constFind(entry.key);
        if (handler == keyHandlers().constEnd())
            return ConnectionResult::failure(unknownKeyError(entry));
        if (lines.contains(entry.key))
            return ConnectionResult::failure(
                QStringLiteral("line %1: key '%2' is repeated (first on line %3)")
                    .arg(QString::number(entry.line), entry.key, QString::number(lines.value(entry.key))));
        lines.insert(entry.key, entry.line);
        if (!(*handler)(spec, entry.rawValue, &error))
            return ConnectionResult::failure(
                QStringLiteral("line %1: %2: %3").arg(entry.line).arg(entry.key, error));
    }

    const QString inconsistency = checkConsistency(spec, lines);
    if (!inconsistency.isEmpty())
        return ConnectionResult::failure(inconsistency);

    auto result = ConnectionResult::success(std::move(spec));
    const ConnectionSpec& parsed = result.spec();
    if (parsed.tlsPort == 0 && (!parsed.caPem.isEmpty() || !parsed.hostSubject.isEmpty()))
        result.addWarning(QStringLiteral("ca and host-subject are unused: the file gives no tls-port"));
    return result;
}

ConnectionResult loadVvFile(const QString& path, DeleteMode mode) {
    const QString name = QFileInfo(path).fileName();
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return ConnectionResult::failure(QStringLiteral("cannot open %1: %2").arg(path, file.errorString()));
    // Read with a bound rather than trusting size(): pipes and /proc files report 0.
    const QByteArray contents = file.read(KeyFile::kMaxBytes + 1);
    if (contents.size() > KeyFile::kMaxBytes)
        return ConnectionResult::failure(QStringLiteral("%1: file is larger than the %2 bytes allowed")
                                             .arg(name, QString::number(KeyFile::kMaxBytes)));
    file.close();

    ConnectionResult result = parseVvFile(contents);
    if (!result)
        return ConnectionResult::failure(QStringLiteral("%1: %2").arg(name, result.error()));
    if (mode == DeleteMode::HonourFile && result.spec().deleteThisFile && !QFile::remove(path))
        result.addWarning(QStringLiteral("could not delete %1 as it asks (delete-this-file=1)").arg(path));
    return result;
}

ConnectionResult loadVvFile(const QString& path) {
    return loadVvFile(path, DeleteMode::Keep);
}

} // namespace saffron
