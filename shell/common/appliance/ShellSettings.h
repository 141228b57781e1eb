#pragma once

#include <QByteArray>
#include <QKeyCombination>
#include <QMap>
#include <QString>
#include <QStringList>
#include <chrono>
#include <optional>

namespace saffron {

enum class KioskQuit { Never, OnDisconnect };
enum class ScalingMode { Fit, OneToOne, Fill };
enum class RendererChoice { Auto, Gpu, Software };

// Where ShellSettings reads and writes. forRoot("/") is the real appliance layout; tests pass
// a temporary directory as root, or fill the paths one by one.
struct SettingsPaths {
    QString systemFile;     // <root>/etc/saffron/saffron.conf
    QString dropInDir;      // <root>/etc/saffron/conf.d (*.conf, in name order)
    QString adminStateFile; // <root>/var/lib/saffron/settings.conf (written by admin edits)
    QString userFile;       // $XDG_CONFIG_HOME/saffron/saffron.conf, else ~/.config/...

    // The user file follows XDG_CONFIG_HOME (or HOME) whatever the root, so tests set it.
    static SettingsPaths forRoot(const QString& root);
};

// A problem found while reading settings: never fatal, the key keeps its default (or the
// value of a lower layer) and the UI/journal shows the message.
struct SettingsProblem {
    QString file;
    int line = 0; // 0 = the whole file
    QString message;
    QString text() const; // "file:line: message"
};

// The one settings layer of the shell. INI files in the GLib key-file dialect (KeyFile), read
// in this order, a later layer overriding an earlier one key by key:
//
//   1. the system file,          /etc/saffron/saffron.conf
//   2. drop-ins,                 /etc/saffron/conf.d/*.conf, sorted by file name
//   3. the admin state file,     /var/lib/saffron/settings.conf (PIN-protected edits)
//   4. the user file,            ~/.config/saffron/saffron.conf
//
// The admin state is a separate file because /etc is read-only under the shell's sandbox
// (ProtectSystem=strict) and image updates replace it; admin edits must survive both.
//
// The user file is skipped entirely in kiosk mode and when shell/locked=true, and even then it
// may only set preference keys (scaling, renderer, hotkeys, virtual keyboard, audio devices): policy keys
// (clipboard, USB, kiosk, reconnect, the PIN) are reported and ignored there.
//
// Keys (group/key = default):
//   shell/kiosk = false              shell/kiosk-quit = never (never | on-disconnect)
//   shell/locked = false             shell/scaling = fit (fit | 1:1 | fill)
//   shell/virtual-keyboard = false
//   shell/renderer = auto            (auto | gpu | software: Qt Quick's scene graph; auto takes
//                                     the GPU unless OpenGL is a CPU rasterizer such as llvmpipe)
//   policy/clipboard = true          policy/usb-redirect = true
//   usb/auto-redirect-filter = ""    usb/redirect-on-connect-filter = ""  (usbredir filters)
//   hotkeys/release-cursor = Shift+F12        (as remote-viewer)
//   hotkeys/toggle-fullscreen = Shift+F11     (plain F11 still reaches the guest)
//   hotkeys/secure-attention = Ctrl+Alt+End   (as remote-viewer: sends Ctrl+Alt+Del)
//   hotkeys/toggle-menu = Ctrl+Alt+Shift+M    (remote-viewer has none; Shift+F12 is taken by
//                                              release-cursor, and a plain F-key would be
//                                              stolen from the guest)
//   hotkeys/stats-overlay = Ctrl+Alt+Shift+S
//   audio/output = ""                audio/input = ""   (PipeWire node.name or object.serial;
//                                              empty = the default device, followed when it
//                                              changes; the command line's --audio-* win)
//   reconnect/min-delay-ms = 1000    reconnect/max-delay-ms = 30000
//   admin/pin-hash = ""              (AdminPin format)
class ShellSettings {
public:
    explicit ShellSettings(SettingsPaths paths);
    // Reads SettingsPaths::forRoot(root).
    explicit ShellSettings(const QString& root = QStringLiteral("/"));

    // Re-reads every layer. `forceKiosk` is the command line's --kiosk: it also disables the
    // user layer even when no file sets shell/kiosk.
    void reload(bool forceKiosk = false);

    bool kiosk() const;
    KioskQuit kioskQuit() const;
    bool locked() const;
    ScalingMode scaling() const;
    bool virtualKeyboard() const;
    RendererChoice renderer() const;
    bool clipboardAllowed() const;
    bool usbRedirectAllowed() const;
    QString usbAutoRedirectFilter() const;
    QString usbRedirectOnConnectFilter() const;
    // PipeWire nodes for the session's sound and microphone; empty = the default device.
    QString audioOutput() const;
    QString audioInput() const;
    // Key sequences as written (validated with KeySequenceSpec): "release-cursor",
    // "toggle-fullscreen", "secure-attention", "toggle-menu", "stats-overlay".
    QString hotkey(const QString& action) const;
    // Every hotkeys/ key that is set (defaults included): action -> key string.
    QMap<QString, QString> hotkeys() const;
    // The built-in defaults of every hotkey action: the one table the shell starts from.
    static QMap<QString, QString> defaultHotkeys();
    std::chrono::milliseconds reconnectMin() const;
    std::chrono::milliseconds reconnectMax() const;
    QString adminPinHash() const;

    // True when the user file was considered (not kiosk, not locked).
    bool userLayerActive() const { return userLayerActive_; }
    const QList<SettingsProblem>& problems() const { return problems_; }
    const SettingsPaths& paths() const { return paths_; }

    // Where the effective value of "group/key" came from ("" = built-in default).
    QString sourceOf(const QString& key) const;
    // The raw effective value (validated), or the default.
    QString value(const QString& key) const;

    // An admin edit: validates `value` for `key` ("shell/scaling"), stores it in the admin
    // state file (written atomically, mode 0600: it holds the PIN hash) and applies it.
    // An empty value removes the key from the admin file.
    bool setAdminValue(const QString& key, const QString& value, QString* error);

    // Known keys ("group/key"), for the settings screen and the fuzzer.
    static QStringList knownKeys();
    // Validates one value for a known key; false with *error otherwise.
    static bool validate(const QString& key, const QString& value, QString* error);

    // One layer parsed from bytes: "group/key" -> (value, line). Problems are appended. Used by
    // reload() and by the fuzzer.
    struct Entry {
        QString value;
        int line = 0;
        QString file;
    };
    static QMap<QString, Entry> parseLayer(const QByteArray& data, const QString& fileName,
                                           QList<SettingsProblem>* problems);
    // Serialises `values` ("group/key" -> value) as a key file with GLib escapes.
    static QByteArray serialize(const QMap<QString, QString>& values);

private:
    std::optional<bool> boolValue(const QString& key) const;
    void mergeFile(const QString& path, bool userLayer, QMap<QString, Entry>* into);

    SettingsPaths paths_;
    QMap<QString, Entry> effective_;
    QMap<QString, QString> adminValues_; // what the admin state file holds
    QList<SettingsProblem> problems_;
    bool userLayerActive_ = false;
    bool forceKiosk_ = false;
};

} // namespace saffron
