#include "common/appliance/ShellSettings.h"

#include "common/appliance/AdminPin.h"
#include "common/appliance/AtomicFile.h"
#include "common/appliance/KeySequenceSpec.h"
#include "connection/ConnectionFields.h"
#include "connection/KeyFile.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QStandardPaths>
#include <algorithm>

namespace saffron {

namespace {

enum class Kind { Bool, KioskQuitMode, Scaling, Renderer, UsbFilter, Hotkey, DelayMs, PinHash, AudioNode };

struct KeyInfo {
    const char* key;
    const char* defaultValue;
    Kind kind;
    bool userMaySet; // preference (true) or policy (false)
};

constexpr KeyInfo kKeys[] = {
    {"shell/kiosk", "false", Kind::Bool, false},
    {"shell/kiosk-quit", "never", Kind::KioskQuitMode, false},
    {"shell/locked", "false", Kind::Bool, false},
    {"shell/scaling", "fit", Kind::Scaling, true},
    {"shell/virtual-keyboard", "false", Kind::Bool, true},
    {"shell/renderer", "auto", Kind::Renderer, true},
    {"policy/clipboard", "true", Kind::Bool, false},
    {"policy/usb-redirect", "true", Kind::Bool, false},
    {"usb/auto-redirect-filter", "", Kind::UsbFilter, false},
    {"usb/redirect-on-connect-filter", "", Kind::UsbFilter, false},
    {"hotkeys/release-cursor", "Shift+F12", Kind::Hotkey, true},
    {"hotkeys/toggle-fullscreen", "Shift+F11", Kind::Hotkey, true},
    {"hotkeys/secure-attention", "Ctrl+Alt+End", Kind::Hotkey, true},
    {"hotkeys/toggle-menu", "Ctrl+Alt+Shift+M", Kind::Hotkey, true},
    {"hotkeys/stats-overlay", "Ctrl+Alt+Shift+S", Kind::Hotkey, true},
    {"audio/output", "", Kind::AudioNode, true},
    {"audio/input", "", Kind::AudioNode, true},
    {"reconnect/min-delay-ms", "1000", Kind::DelayMs, false},
    {"reconnect/max-delay-ms", "30000", Kind::DelayMs, false},
    {"admin/pin-hash", "", Kind::PinHash, false},
};

const KeyInfo* findKey(const QString& key) {
    for (const KeyInfo& info : kKeys) {
        if (key == QLatin1String(info.key))
            return &info;
    }
    return nullptr;
}

constexpr qsizetype kMaxDropIns = 256;

std::optional<bool> parseBool(const QString& v) {
    if (v == u"true" || v == u"1")
        return true;
    if (v == u"false" || v == u"0")
        return false;
    return std::nullopt;
}

bool validateKind(Kind kind, const QString& value, QString* error) {
    switch (kind) {
    case Kind::Bool:
        if (parseBool(value))
            return true;
        *error = QStringLiteral("'%1' is not true or false").arg(value.left(32));
        return false;
    case Kind::KioskQuitMode:
        if (value == u"never" || value == u"on-disconnect")
            return true;
        *error = QStringLiteral("'%1' is not never or on-disconnect").arg(value.left(32));
        return false;
    case Kind::Scaling:
        if (value == u"fit" || value == u"1:1" || value == u"fill")
            return true;
        *error = QStringLiteral("'%1' is not fit, 1:1 or fill").arg(value.left(32));
        return false;
    case Kind::Renderer:
        if (value == u"auto" || value == u"gpu" || value == u"software")
            return true;
        *error = QStringLiteral("'%1' is not auto, gpu or software").arg(value.left(32));
        return false;
    case Kind::UsbFilter:
        return parseUsbFilter(value, error).has_value();
    case Kind::Hotkey:
        // Empty unbinds the action, as in a .vv file.
        return value.isEmpty() || KeySequenceSpec::parse(value, error).has_value();
    case Kind::DelayMs: {
        bool ok = false;
        const qint64 ms = value.toLongLong(&ok);
        if (ok && ms >= 100 && ms <= 3'600'000 && !value.startsWith(u'+') && value == value.trimmed())
            return true;
        *error =
            QStringLiteral("'%1' is not a number of milliseconds from 100 to 3600000").arg(value.left(32));
        return false;
    }
    case Kind::AudioNode: {
        // A PipeWire node.name ("alsa_output.usb-Jabra-00.analog-stereo") or object.serial;
        // empty = the default device. It becomes a stream property, so no control characters.
        const bool printable = std::all_of(value.cbegin(), value.cend(), [](QChar c) { return c.isPrint(); });
        if (value.size() <= 256 && printable)
            return true;
        *error = QStringLiteral("'%1' is not a PipeWire node name").arg(value.left(32));
        return false;
    }
    case Kind::PinHash:
        if (value.isEmpty() || AdminPin::isWellFormed(value))
            return true;
        *error = QStringLiteral("not a pbkdf2-sha256 PIN hash with at least %1 iterations")
                     .arg(AdminPin::kMinIterations);
        return false;
    }
    return false;
}

} // namespace

QString SettingsProblem::text() const {
    return line > 0 ? QStringLiteral("%1:%2: %3").arg(file).arg(line).arg(message)
                    : QStringLiteral("%1: %2").arg(file, message);
}

SettingsPaths SettingsPaths::forRoot(const QString& root) {
    const QDir r(root);
    SettingsPaths p;
    p.systemFile = r.filePath(QStringLiteral("etc/saffron/saffron.conf"));
    p.dropInDir = r.filePath(QStringLiteral("etc/saffron/conf.d"));
    p.adminStateFile = r.filePath(QStringLiteral("var/lib/saffron/settings.conf"));
    // XDG Base Directory: $XDG_CONFIG_HOME if set and absolute, else $HOME/.config.
    QString config = qEnvironmentVariable("XDG_CONFIG_HOME");
    if (config.isEmpty() || !QDir::isAbsolutePath(config))
        config = QDir::homePath() + QStringLiteral("/.config");
    p.userFile = config + QStringLiteral("/saffron/saffron.conf");
    return p;
}

ShellSettings::ShellSettings(SettingsPaths paths) : paths_(std::move(paths)) {
    reload();
}

ShellSettings::ShellSettings(const QString& root) : ShellSettings(SettingsPaths::forRoot(root)) {}

QStringList ShellSettings::knownKeys() {
    QStringList keys;
    for (const KeyInfo& info : kKeys)
        keys << QLatin1String(info.key);
    return keys;
}

bool ShellSettings::validate(const QString& key, const QString& value, QString* error) {
    const KeyInfo* info = findKey(key);
    if (!info) {
        *error = QStringLiteral("unknown setting '%1'").arg(key.left(64));
        return false;
    }
    return validateKind(info->kind, value, error);
}

QMap<QString, ShellSettings::Entry> ShellSettings::parseLayer(const QByteArray& data, const QString& fileName,
                                                              QList<SettingsProblem>* problems) {
    QMap<QString, Entry> out;
    QString error;
    const auto file = KeyFile::parse(data, &error);
    if (!file) {
        // KeyFile errors start with "line N: "; the whole file is ignored, as a half-read
        // configuration is worse than none.
        problems->append({fileName, 0, error + QStringLiteral(" (file ignored)")});
        return out;
    }
    for (const KeyFileEntry& entry : file->entries()) {
        auto value = KeyFile::unescape(entry.rawValue, &error);
        if (!value) {
            problems->append({fileName, entry.line, QStringLiteral("%1: %2").arg(entry.key, error)});
            continue;
        }
        const QString key = entry.group + u'/' + entry.key;
        const auto previous = out.constFind(key);
        if (previous != out.constEnd())
            problems->append({fileName, entry.line,
                              QStringLiteral("'%1' is repeated (first on line %2); this line wins")
                                  .arg(entry.key)
                                  .arg(previous->line)});
        out.insert(key, Entry{*value, entry.line, fileName});
    }
    return out;
}

QByteArray ShellSettings::serialize(const QMap<QString, QString>& values) {
    // Grouped by the part before '/', groups and keys in sorted order (QMap order).
    QString text = QStringLiteral("# Written by saffron's settings screen; edits here are kept.\n");
    QString currentGroup;
    for (auto it = values.constBegin(); it != values.constEnd(); ++it) {
        const qsizetype slash = it.key().indexOf(u'/');
        if (slash <= 0)
            continue;
        const QString group = it.key().left(slash);
        if (group != currentGroup) {
            text += QStringLiteral("\n[%1]\n").arg(group);
            currentGroup = group;
        }
        text += it.key().mid(slash + 1) + u'=' + KeyFile::escape(it.value()) + u'\n';
    }
    return text.toUtf8();
}

void ShellSettings::mergeFile(const QString& path, bool userLayer, QMap<QString, Entry>* into) {
    QFile file(path);
    if (!file.exists())
        return;
    if (!file.open(QIODevice::ReadOnly)) {
        problems_.append({path, 0, QStringLiteral("cannot read: %1").arg(file.errorString())});
        return;
    }
    const QByteArray data = file.read(KeyFile::kMaxBytes + 1);
    const auto layer = parseLayer(data, path, &problems_);
    if (path == paths_.adminStateFile) {
        adminValues_.clear();
        for (auto it = layer.constBegin(); it != layer.constEnd(); ++it)
            adminValues_.insert(it.key(), it->value);
    }
    QString error;
    for (auto it = layer.constBegin(); it != layer.constEnd(); ++it) {
        const KeyInfo* info = findKey(it.key());
        if (!info) {
            problems_.append(
                {path, it->line, QStringLiteral("unknown setting '%1' (ignored)").arg(it.key().left(64))});
            continue;
        }
        if (userLayer && !info->userMaySet) {
            problems_.append(
                {path, it->line,
                 QStringLiteral("'%1' is a policy setting: only the system configuration may set it")
                     .arg(it.key())});
            continue;
        }
        if (!validateKind(info->kind, it->value, &error)) {
            problems_.append({path, it->line, QStringLiteral("%1: %2 (ignored)").arg(it.key(), error)});
            continue;
        }
        into->insert(it.key(), *it);
    }
}

void ShellSettings::reload(bool forceKiosk) {
    forceKiosk_ = forceKiosk;
    effective_.clear();
    adminValues_.clear();
    problems_.clear();

    mergeFile(paths_.systemFile, false, &effective_);
    QDir dropIns(paths_.dropInDir);
    QStringList names =
        dropIns.entryList({QStringLiteral("*.conf")}, QDir::Files | QDir::Readable, QDir::Name);
    if (names.size() > kMaxDropIns) {
        problems_.append(
            {paths_.dropInDir, 0,
             QStringLiteral("%1 drop-ins; only the first %2 are read").arg(names.size()).arg(kMaxDropIns)});
        names = names.mid(0, kMaxDropIns);
    }
    // QDir::Name sorts by Unicode code point (case-sensitive), like systemd's drop-in order.
    for (const QString& name : names)
        mergeFile(dropIns.filePath(name), false, &effective_);
    mergeFile(paths_.adminStateFile, false, &effective_);

    userLayerActive_ = !kiosk() && !locked();
    if (userLayerActive_)
        mergeFile(paths_.userFile, true, &effective_);
}

QString ShellSettings::value(const QString& key) const {
    const auto it = effective_.constFind(key);
    if (it != effective_.constEnd())
        return it->value;
    const KeyInfo* info = findKey(key);
    return info ? QLatin1String(info->defaultValue) : QString();
}

QString ShellSettings::sourceOf(const QString& key) const {
    const auto it = effective_.constFind(key);
    return it != effective_.constEnd() ? it->file : QString();
}

std::optional<bool> ShellSettings::boolValue(const QString& key) const {
    return parseBool(value(key));
}

bool ShellSettings::kiosk() const {
    return forceKiosk_ || boolValue(QStringLiteral("shell/kiosk")).value_or(false);
}

KioskQuit ShellSettings::kioskQuit() const {
    return value(QStringLiteral("shell/kiosk-quit")) == u"on-disconnect" ? KioskQuit::OnDisconnect
                                                                         : KioskQuit::Never;
}

bool ShellSettings::locked() const {
    return boolValue(QStringLiteral("shell/locked")).value_or(false);
}

ScalingMode ShellSettings::scaling() const {
    const QString v = value(QStringLiteral("shell/scaling"));
    return v == u"1:1" ? ScalingMode::OneToOne : v == u"fill" ? ScalingMode::Fill : ScalingMode::Fit;
}

RendererChoice ShellSettings::renderer() const {
    const QString v = value(QStringLiteral("shell/renderer"));
    return v == u"gpu"        ? RendererChoice::Gpu
           : v == u"software" ? RendererChoice::Software
                              : RendererChoice::Auto;
}

bool ShellSettings::virtualKeyboard() const {
    return boolValue(QStringLiteral("shell/virtual-keyboard")).value_or(false);
}

bool ShellSettings::clipboardAllowed() const {
    return boolValue(QStringLiteral("policy/clipboard")).value_or(true);
}

bool ShellSettings::usbRedirectAllowed() const {
    return boolValue(QStringLiteral("policy/usb-redirect")).value_or(true);
}

QString ShellSettings::usbAutoRedirectFilter() const {
    return value(QStringLiteral("usb/auto-redirect-filter"));
}

QString ShellSettings::usbRedirectOnConnectFilter() const {
    return value(QStringLiteral("usb/redirect-on-connect-filter"));
}

QString ShellSettings::audioOutput() const {
    return value(QStringLiteral("audio/output"));
}

QString ShellSettings::audioInput() const {
    return value(QStringLiteral("audio/input"));
}

QString ShellSettings::hotkey(const QString& action) const {
    return value(QStringLiteral("hotkeys/") + action);
}

QMap<QString, QString> ShellSettings::hotkeys() const {
    QMap<QString, QString> out;
    for (const KeyInfo& info : kKeys) {
        const QString key = QLatin1String(info.key);
        if (key.startsWith(u"hotkeys/"))
            out.insert(key.mid(8), value(key));
    }
    return out;
}

QMap<QString, QString> ShellSettings::defaultHotkeys() {
    QMap<QString, QString> out;
    for (const KeyInfo& info : kKeys) {
        const QString key = QLatin1String(info.key);
        if (key.startsWith(u"hotkeys/"))
            out.insert(key.mid(8), QLatin1String(info.defaultValue));
    }
    return out;
}

std::chrono::milliseconds ShellSettings::reconnectMin() const {
    return std::chrono::milliseconds(value(QStringLiteral("reconnect/min-delay-ms")).toLongLong());
}

std::chrono::milliseconds ShellSettings::reconnectMax() const {
    // A max below min would make no sense; min wins.
    return std::max(reconnectMin(),
                    std::chrono::milliseconds(value(QStringLiteral("reconnect/max-delay-ms")).toLongLong()));
}

QString ShellSettings::adminPinHash() const {
    return value(QStringLiteral("admin/pin-hash"));
}

bool ShellSettings::setAdminValue(const QString& key, const QString& value, QString* error) {
    if (!findKey(key)) {
        *error = QStringLiteral("unknown setting '%1'").arg(key.left(64));
        return false;
    }
    if (!value.isEmpty() && !validate(key, value, error))
        return false;
    QMap<QString, QString> values = adminValues_;
    if (value.isEmpty())
        values.remove(key);
    else
        values.insert(key, value);
    const QString dir = QFileInfo(paths_.adminStateFile).absolutePath();
    if (!QDir().mkpath(dir)) {
        *error = QStringLiteral("cannot create %1").arg(dir);
        return false;
    }
    // 0600: the file holds the PIN hash (issue 9: config files holding secrets).
    if (!AtomicFile::write(paths_.adminStateFile, serialize(values), 0600, error))
        return false;
    reload(forceKiosk_);
    return true;
}

} // namespace saffron
