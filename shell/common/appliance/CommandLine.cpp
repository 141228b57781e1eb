#include "common/appliance/CommandLine.h"

#include "common/ConnectionTarget.h"
#include "common/appliance/KeySequenceSpec.h"

#include <QCommandLineParser>
#include <QCoreApplication>

namespace saffron {

QStringList allHotkeyActions() {
    return kHotkeyActions + kShellHotkeyActions;
}

std::optional<QMap<QString, QString>> parseHotkeys(const QString& text, QString* error) {
    QMap<QString, QString> out;
    // virt-viewer splits on ',' and then on the first '='; an empty list is allowed.
    for (const QString& item : text.split(u',', Qt::SkipEmptyParts)) {
        const qsizetype equals = item.indexOf(u'=');
        if (equals < 0) {
            *error = QStringLiteral("hotkey '%1' is not action=key").arg(item.left(60));
            return std::nullopt;
        }
        const QString action = item.left(equals).trimmed().toLower();
        const QString key = item.mid(equals + 1).trimmed();
        if (!allHotkeyActions().contains(action)) {
            *error = QStringLiteral("unknown hotkey action '%1' (valid: %2)")
                         .arg(action.left(40), allHotkeyActions().join(QStringLiteral(", ")));
            return std::nullopt;
        }
        if (out.contains(action)) {
            *error = QStringLiteral("hotkey action '%1' is given twice").arg(action);
            return std::nullopt;
        }
        QString keyError;
        if (!key.isEmpty() && !KeySequenceSpec::parse(key, &keyError)) {
            *error = QStringLiteral("hotkey %1: %2").arg(action, keyError);
            return std::nullopt;
        }
        out.insert(action, key);
    }
    return out;
}

namespace {

// The options QGuiApplication takes for itself (Qt's QGuiApplication documentation, plus the
// xcb platform's -display and -geometry). The command line is parsed before the application
// object exists, so they are still there and would read as unknown options (or, with compacted
// short options, as a run of letters): e.g. `saffron -qwindowgeometry 1920x1080+0+0 URI`.
QStringList withoutQtOptions(const QStringList& arguments) {
    static const QStringList withValue{
        QStringLiteral("platform"),        QStringLiteral("platformpluginpath"),
        QStringLiteral("platformtheme"),   QStringLiteral("plugin"),
        QStringLiteral("qwindowgeometry"), QStringLiteral("qwindowicon"),
        QStringLiteral("qwindowtitle"),    QStringLiteral("session"),
        QStringLiteral("display"),         QStringLiteral("geometry")};
    static const QStringList flags{QStringLiteral("reverse"), QStringLiteral("qmljsdebugger")};
    QStringList out;
    for (qsizetype i = 0; i < arguments.size(); ++i) {
        const QString& a = arguments[i];
        if (a == QLatin1String("--")) {
            out << arguments.mid(i); // everything after it is positional
            break;
        }
        if (i > 0 && a.startsWith(u'-')) {
            const QString body = a.mid(a.startsWith(QLatin1String("--")) ? 2 : 1);
            const QString name = body.section(u'=', 0, 0);
            if (withValue.contains(name)) {
                if (!body.contains(u'='))
                    ++i; // its value is the next argument
                continue;
            }
            if (flags.contains(name))
                continue;
        }
        out << a;
    }
    return out;
}

} // namespace

CommandLineResult parseCommandLine(const QStringList& rawArguments) {
    const QStringList arguments = withoutQtOptions(rawArguments);
    CommandLineResult result;
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("Saffron SPICE client (remote-viewer compatible)"));
    parser.setSingleDashWordOptionMode(QCommandLineParser::ParseAsCompactedShortOptions);
    const QCommandLineOption help({QStringLiteral("h"), QStringLiteral("help")},
                                  QStringLiteral("show this help"));
    const QCommandLineOption version({QStringLiteral("V"), QStringLiteral("version")},
                                     QStringLiteral("show the version"));
    const QCommandLineOption kiosk({QStringLiteral("k"), QStringLiteral("kiosk")},
                                   QStringLiteral("kiosk mode: full screen, no way out, reconnect forever"));
    const QCommandLineOption kioskQuit(
        QStringLiteral("kiosk-quit"),
        QStringLiteral("in kiosk mode, quit when the session ends (never | on-disconnect)"),
        QStringLiteral("WHEN"));
    const QCommandLineOption fullScreen({QStringLiteral("f"), QStringLiteral("full-screen")},
                                        QStringLiteral("start full screen"));
    const QCommandLineOption hotkeys(
        QStringLiteral("hotkeys"),
        QStringLiteral("hotkeys, e.g. toggle-fullscreen=shift+f11,release-cursor=shift+f12"),
        QStringLiteral("LIST"));
    const QCommandLineOption title({QStringLiteral("t"), QStringLiteral("title")},
                                   QStringLiteral("window title"), QStringLiteral("TITLE"));
    const QCommandLineOption verbose({QStringLiteral("v"), QStringLiteral("verbose")},
                                     QStringLiteral("show more messages"));
    const QCommandLineOption debug({QStringLiteral("d"), QStringLiteral("debug")},
                                   QStringLiteral("show debug messages"));
    const QCommandLineOption zoom({QStringLiteral("z"), QStringLiteral("zoom")},
                                  QStringLiteral("zoom level in percent (10-400)"),
                                  QStringLiteral("PERCENT"));
    const QCommandLineOption settingsRoot(
        QStringLiteral("settings-root"),
        QStringLiteral("read /etc/saffron and /var/lib/saffron under DIR (tests)"), QStringLiteral("DIR"));
    const EngineOptionSet engine;
    const QCommandLineOption shots(QStringLiteral("demo-screenshots"),
                                   QStringLiteral("offscreen demo: folder for screenshots"),
                                   QStringLiteral("DIR"), QStringLiteral("demo-shots"));
    const QCommandLineOption typeOpt(QStringLiteral("demo-type"),
                                     QStringLiteral("offscreen demo: text to type"), QStringLiteral("TEXT"),
                                     QStringLiteral("uname -a\n"));
    parser.addOptions({help, version, kiosk, kioskQuit, fullScreen, hotkeys, title, verbose, debug, zoom,
                       settingsRoot, shots, typeOpt});
    engine.addTo(parser);
    parser.addPositionalArgument(QStringLiteral("target"), QStringLiteral("spice:// URI or .vv file"),
                                 QStringLiteral("[spice://URI | FILE.vv]"));

    auto error = [&](const QString& message) {
        result.action = CommandLineResult::Action::Error;
        result.text = message;
        return result;
    };
    if (!parser.parse(arguments))
        return error(parser.errorText());
    if (parser.isSet(help)) {
        result.action = CommandLineResult::Action::ShowHelp;
        result.text = parser.helpText();
        return result;
    }
    if (parser.isSet(version)) {
        result.action = CommandLineResult::Action::ShowVersion;
        result.text = QStringLiteral("saffron %1").arg(QCoreApplication::applicationVersion());
        return result;
    }

    CommandLineOptions& o = result.options;
    const QStringList positional = parser.positionalArguments();
    if (positional.size() > 1)
        return error(
            QStringLiteral("more than one target given: %1").arg(positional.join(QStringLiteral(" "))));
    if (!positional.isEmpty())
        o.target = positional.first();
    o.kiosk = parser.isSet(kiosk);
    if (parser.isSet(kioskQuit)) {
        const QString v = parser.value(kioskQuit);
        if (v == u"never")
            o.kioskQuit = KioskQuit::Never;
        else if (v == u"on-disconnect")
            o.kioskQuit = KioskQuit::OnDisconnect;
        else
            return error(QStringLiteral("--kiosk-quit: '%1' is not never or on-disconnect").arg(v.left(40)));
    }
    o.fullScreen = parser.isSet(fullScreen);
    if (parser.isSet(hotkeys)) {
        QString hotkeyError;
        auto map = parseHotkeys(parser.value(hotkeys), &hotkeyError);
        if (!map)
            return error(QStringLiteral("--hotkeys: %1").arg(hotkeyError));
        o.hotkeys = *map;
    }
    if (parser.isSet(title))
        o.title = parser.value(title);
    o.verbose = parser.isSet(verbose);
    o.debug = parser.isSet(debug);
    if (parser.isSet(zoom)) {
        bool ok = false;
        const int z = parser.value(zoom).toInt(&ok);
        if (!ok || z < 10 || z > 400)
            return error(QStringLiteral("--zoom: '%1' is not a percentage from 10 to 400")
                             .arg(parser.value(zoom).left(20)));
        o.zoomPercent = z;
    }
    if (parser.isSet(settingsRoot))
        o.settingsRoot = parser.value(settingsRoot);
    QString engineError;
    const std::optional<EngineOptions> engineOptions = engine.read(parser, &engineError);
    if (!engineOptions)
        return error(engineError);
    o.engine = *engineOptions;
    o.demoScreenshots = parser.value(shots);
    o.demoType = parser.value(typeOpt);
    result.action = CommandLineResult::Action::Run;
    return result;
}

Presentation mergePresentation(const QMap<QString, QString>& settingsHotkeys, const ConnectionSpec& file,
                               const CommandLineOptions& commandLine) {
    Presentation p;
    p.hotkeys = settingsHotkeys;
    for (auto it = file.hotkeys.constBegin(); it != file.hotkeys.constEnd(); ++it) {
        QString keyError;
        if (!it.value().isEmpty() && !KeySequenceSpec::parse(it.value(), &keyError)) {
            p.warnings
                << QStringLiteral("hotkey %1 from the connection file ignored: %2").arg(it.key(), keyError);
            continue;
        }
        p.hotkeys.insert(it.key(), it.value());
    }
    for (auto it = commandLine.hotkeys.constBegin(); it != commandLine.hotkeys.constEnd(); ++it)
        p.hotkeys.insert(it.key(), it.value());
    p.fullScreen = file.fullscreen || commandLine.fullScreen || commandLine.kiosk;
    p.title = !commandLine.title.isEmpty() ? commandLine.title : file.title;
    return p;
}

} // namespace saffron
