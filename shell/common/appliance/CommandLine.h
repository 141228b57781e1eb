#pragma once

#include "common/EngineOptions.h"
#include "common/appliance/ShellSettings.h"
#include "connection/ConnectionSpec.h"

#include <QMap>
#include <QString>
#include <QStringList>
#include <optional>

namespace saffron {

// Hotkey actions of our own, beyond virt-viewer's kHotkeyActions.
inline const QStringList kShellHotkeyActions = {QStringLiteral("toggle-menu"),
                                                QStringLiteral("stats-overlay")};
// Every action --hotkeys and the settings accept.
QStringList allHotkeyActions();

// Parses remote-viewer's --hotkeys value, "action=key,action=key" (e.g.
// "toggle-fullscreen=shift+f11,release-cursor=shift+f12"): each action must be a known one
// and each key a valid KeySequenceSpec; an empty key ("zoom-in=") unbinds the action, as in
// remote-viewer. Returns action -> key as written, or std::nullopt with *error naming the
// offending item.
std::optional<QMap<QString, QString>> parseHotkeys(const QString& text, QString* error);

// The command line of `saffron`, compatible with remote-viewer(1) so existing scripts and
// browser .vv handlers work unchanged:
//
//   saffron [spice://URI | FILE.vv] [-k|--kiosk] [--kiosk-quit never|on-disconnect]
//           [-f|--full-screen] [--hotkeys=action=key,...] [-t|--title TITLE]
//           [-v|--verbose] [-d|--debug] [-z|--zoom PERCENT] [-V|--version]
//
// plus Saffron's own: --settings-root DIR (tests), --image-compression NAME,
// --video-codecs LIST, --video-decoder LIST, --lip-sync, and the offscreen demo's
// --demo-screenshots DIR and --demo-type TEXT.
struct CommandLineOptions {
    QString target; // URI or .vv path; empty = launcher
    bool kiosk = false;
    std::optional<KioskQuit> kioskQuit;
    bool fullScreen = false;
    QString title; // empty = not given
    QMap<QString, QString> hotkeys;
    bool verbose = false;
    bool debug = false;
    std::optional<int> zoomPercent;
    QString settingsRoot = QStringLiteral("/");
    EngineOptions engine; // --image-compression, --video-codecs, --video-decoder, --lip-sync
    QString demoScreenshots = QStringLiteral("demo-shots");
    QString demoType = QStringLiteral("uname -a\n");
};

struct CommandLineResult {
    enum class Action { Run, ShowHelp, ShowVersion, Error };
    Action action = Action::Error;
    CommandLineOptions options; // valid for Run
    QString text;               // help text, version line or error message
};

// Parses argv-style arguments (arguments[0] is the program). Never exits or prints: the caller
// shows result.text on stdout (help, version) or stderr (error, exit status 2). Qt's own
// options (-platform, -qwindowgeometry ...) are skipped: QGuiApplication takes them later.
CommandLineResult parseCommandLine(const QStringList& arguments);

// Presentation merged from the settings defaults, a .vv file and the command line, the later
// winning key by key. remote-viewer semantics: the file turns full screen on and the command
// line can only add to it; a title on the command line replaces the file's.
struct Presentation {
    bool fullScreen = false;
    QString title;
    QMap<QString, QString> hotkeys; // action -> key string; an empty value is unbound
    // The file's hotkeys that were dropped (unknown key names; VvFile keeps them verbatim).
    QStringList warnings;
};
Presentation mergePresentation(const QMap<QString, QString>& settingsHotkeys, const ConnectionSpec& file,
                               const CommandLineOptions& commandLine);

} // namespace saffron
