// saffron: the Qt Quick shell. Connects to the desktop named on the command line (a spice://
// URI or a .vv file, remote-viewer compatible), or shows the connection list. Under
// QT_QPA_PLATFORM=offscreen with --demo-screenshots it runs a short scripted demo (type a
// line into the guest, save screenshots) so it can show what it does without a display.
#include "Session.h"
#include "app/SceneGraphChoice.h"
#include "app/ShellApp.h"
#include "common/ConnectionTarget.h"
#include "common/appliance/CommandLine.h"
#include "common/appliance/ConnectionCatalog.h"
#include "common/appliance/JournalLog.h"
#include "common/appliance/SessionBusAddress.h"
#include "common/appliance/ShellSettings.h"
#include "common/appliance/SystemdNotifier.h"

#include <QDir>
#include <QFile>
#include <QGuiApplication>
#include <QHash>
#include <QQuickWindow>
#include <QTimer>
#include <cstdio>
#include <cstring>

using namespace saffron;

namespace {

// Key presses (US layout) for the scripted demo. A real keyboard never delivers a whole line in
// one instant, and the guest's emulated i8042 has a short queue: keys sent faster than the guest
// drains it are lost, so they are paced like fast typing.
QList<QPair<AtScancode, bool>> keystrokes(const QString& text) {
    QList<QPair<AtScancode, bool>> out; // (code, down)
    for (QChar ch : text) {
        int key = 0;
        bool shift = false;
        if (ch.isLetter()) {
            key = Qt::Key_A + (ch.toLower().unicode() - 'a');
            shift = ch.isUpper();
        } else if (ch.isDigit()) {
            key = Qt::Key_0 + (ch.unicode() - '0');
        } else {
            static const QHash<QChar, QPair<int, bool>> symbols = {
                {QLatin1Char('\n'), {Qt::Key_Return, false}},   {QLatin1Char(' '), {Qt::Key_Space, false}},
                {QLatin1Char('-'), {Qt::Key_Minus, false}},     {QLatin1Char('|'), {Qt::Key_Backslash, true}},
                {QLatin1Char('/'), {Qt::Key_Slash, false}},     {QLatin1Char('.'), {Qt::Key_Period, false}},
                {QLatin1Char(';'), {Qt::Key_Semicolon, false}}, {QLatin1Char(':'), {Qt::Key_Semicolon, true}},
                {QLatin1Char('!'), {Qt::Key_1, true}},          {QLatin1Char('='), {Qt::Key_Equal, false}},
            };
            auto it = symbols.find(ch);
            if (it == symbols.end())
                continue;
            key = it->first;
            shift = it->second;
        }
        const auto code = scancodeFromQtKey(key);
        if (!code)
            continue;
        constexpr AtScancode kLeftShift = 0x2a;
        if (shift)
            out.append({kLeftShift, true});
        out.append({*code, true});
        out.append({*code, false});
        if (shift)
            out.append({kLeftShift, false});
    }
    return out;
}

} // namespace

namespace {

QString scalingName(ScalingMode m) {
    switch (m) {
    case ScalingMode::OneToOne:
        return QStringLiteral("1:1");
    case ScalingMode::Fill:
        return QStringLiteral("fill");
    case ScalingMode::Fit:
        break;
    }
    return QStringLiteral("fit");
}

// Engine options a command line may add to any target (the same as saffron-cli's).
QString statusLine(const SessionController& c) {
    const QString& s = c.state();
    if (s == QLatin1String("connected"))
        return QStringLiteral("Connected to %1").arg(c.title());
    if (s == QLatin1String("connecting"))
        return QStringLiteral("Connecting to %1").arg(c.title());
    if (s == QLatin1String("idle"))
        return QStringLiteral("Not connected");
    return QStringLiteral("%1: %2").arg(s, c.message());
}

} // namespace

int main(int argc, char** argv) {
    // Before any thread starts and before Qt's accessibility asks for the session bus.
    pinSessionBusAddress();
    // The scene graph's OpenGL probe, run by another saffron (SceneGraphChoice): nothing else.
    if (argc >= 2 && std::strcmp(argv[1], "--probe-opengl") == 0) {
        QGuiApplication app(argc, argv);
        return runOpenGlProbe();
    }
    QStringList arguments;
    for (int i = 0; i < argc; ++i)
        arguments << QString::fromLocal8Bit(argv[i]);
    QCoreApplication::setApplicationName(QStringLiteral("saffron")); // for --help, before the app exists
    QCoreApplication::setApplicationVersion(QStringLiteral(SAFFRON_VERSION));
    const CommandLineResult cl = parseCommandLine(arguments);
    if (cl.action == CommandLineResult::Action::ShowHelp ||
        cl.action == CommandLineResult::Action::ShowVersion) {
        std::fputs(qPrintable(cl.text + QLatin1Char('\n')), stdout);
        return 0;
    }
    if (cl.action == CommandLineResult::Action::Error) {
        std::fprintf(stderr, "saffron: %s\n", qPrintable(cl.text));
        return 2;
    }
    const CommandLineOptions& o = cl.options;

    // Settings come first: the virtual keyboard must be chosen before the GUI exists.
    ShellSettings settings(o.settingsRoot);
    settings.reload(o.kiosk);
    if (settings.virtualKeyboard())
        qputenv("QT_IM_MODULE", "qtvirtualkeyboard");

    QGuiApplication app(argc, argv);
    // Overlaps GStreamer's start with the GUI's; the display channel's link waits for it.
    const std::vector<std::future<void>> sessionWarmUp = Session::warmUp();
    QGuiApplication::setApplicationName(QStringLiteral("saffron"));
    QGuiApplication::setApplicationVersion(QStringLiteral(SAFFRON_VERSION));
    JournalLog::install();
    for (const SettingsProblem& p : settings.problems())
        qWarning().noquote() << "settings:" << p.text();
    const SceneGraphDecision sceneGraph =
        chooseSceneGraph(settings.renderer(), QCoreApplication::applicationFilePath());
    applySceneGraph(sceneGraph);
    qInfo().noquote() << "scene graph:" << sceneGraph.reason;

    const auto fail = [](const QString& e) {
        qCritical().noquote() << e;
        std::fprintf(stderr, "saffron: %s\n", qPrintable(e));
        return 2;
    };

    ShellStart start;
    start.kiosk = settings.kiosk();
    start.quitOnDisconnect = o.kioskQuit.value_or(settings.kioskQuit()) == KioskQuit::OnDisconnect;
    start.scaling = scalingName(settings.scaling());
    start.clipboard = settings.clipboardAllowed();
    start.virtualKeyboard = settings.virtualKeyboard();
    start.usbAllowed = settings.usbRedirectAllowed();
    start.usbAutoFilter = settings.usbAutoRedirectFilter();
    start.usbConnectFilter = settings.usbRedirectOnConnectFilter();
    const QString usbRules = QDir(o.settingsRoot).filePath(QStringLiteral("etc/saffron/usb-policy.conf"));
    if (QFile f(usbRules); f.open(QIODevice::ReadOnly))
        start.usbPolicy = QString::fromUtf8(f.readAll());
    start.settingsRoot = o.settingsRoot;
    start.backoffMinMs = int(settings.reconnectMin().count());
    start.backoffMaxMs = int(settings.reconnectMax().count());

    // A kiosk that cannot connect as configured says so on its screen (and keeps running, under
    // systemd's Restart=always it would otherwise be started again every half second, a black
    // screen for whoever stands in front of it); a desktop user gets the error and exit code.
    const auto kioskCannotStart = [&](const QString& problem, const QString& detail) {
        qCritical().noquote() << "kiosk cannot connect:" << detail;
        start.startProblem = problem;
        start.startProblemDetail = detail;
    };
    // The machine's audio devices (settings), unless the command line names others.
    const auto applyEngine = [&settings, &o](SessionOptions& options) {
        options.audioOutput = settings.audioOutput();
        options.audioInput = settings.audioInput();
        o.engine.applyTo(options);
    };
    // The launcher's connections: the image's, the admin panel's, and outside kiosk mode the
    // user's. Problems go to the journal and, for the kiosk's problem screen, to *unusable.
    const bool kiosk = start.kiosk;
    const auto loadConnections = [&o, kiosk, applyEngine](QStringList* unusable) {
        ConnectionCatalog catalog;
        catalog.load(ConnectionCatalog::systemDirForRoot(o.settingsRoot),
                     kiosk ? QString() : ConnectionCatalog::defaultUserDir(),
                     ConnectionCatalog::adminDirForRoot(o.settingsRoot));
        std::vector<LauncherModel::Entry> entries = LauncherModel::entriesFrom(catalog, unusable);
        for (LauncherModel::Entry& entry : entries)
            applyEngine(entry.target.options);
        return entries;
    };

    ConnectionSpec fileSpec;
    if (!o.target.isEmpty()) {
        QString error;
        start.target = loadConnectionTarget(o.target, &error);
        if (start.target) {
            JournalLog::addSecretsOf(start.target->spec);
            fileSpec = start.target->spec;
        } else if (start.kiosk) {
            kioskCannotStart(QStringLiteral("bad-connection"), error);
        } else {
            return fail(error);
        }
    } else {
        QStringList unusable; // what the kiosk's problem screen lists when nothing is left
        start.connections = loadConnections(&unusable);
        // A kiosk shows one desktop and nothing else: the first configured connection.
        if (start.kiosk && start.connections.empty()) {
            unusable.prepend(QStringLiteral("no usable connection in %1")
                                 .arg(ConnectionCatalog::systemDirForRoot(o.settingsRoot)));
            kioskCannotStart(QStringLiteral("no-connection"), unusable.join(QLatin1Char('\n')));
        } else if (start.kiosk) {
            start.target = start.connections.front().target;
            fileSpec = start.target->spec;
        }
    }
    if (start.target && !o.target.isEmpty())
        applyEngine(start.target->options); // a catalog connection has it already
    // The admin panel's edits show in the launcher at once (a kiosk keeps its one connection
    // until the next start).
    if (!start.kiosk)
        start.reloadConnections = [loadConnections] { return loadConnections(nullptr); };
    const Presentation look = mergePresentation(settings.hotkeys(), fileSpec, o);
    for (const QString& w : look.warnings)
        qWarning().noquote() << w;
    for (auto it = look.hotkeys.cbegin(); it != look.hotkeys.cend(); ++it)
        start.hotkeys.insert(it.key(), it.value());
    start.fullScreen = look.fullScreen;
    start.title = look.title;

    ShellApp shell(std::move(start));
    QObject::connect(&shell, &ShellApp::quitRequested, &app, &QCoreApplication::exit);
    // Connecting first lets the session link on its own thread while this thread compiles the
    // QML (bench_shell: first frame 0.80 -> 0.58 of remote-viewer's time). Nothing is missed:
    // the session's signals are queued until the event loop runs, after every connection below.
    shell.begin();
    if (!shell.load())
        return 3;
    SessionController& controller = shell.controller();
    QQuickWindow* window = shell.window();

    // systemd: READY once the first screen has been drawn, STATUS as the session changes, and a
    // watchdog fed from this (the GUI) thread, so a hung UI gets restarted.
    GuiWatchdog watchdog;
    watchdog.start();
    QObject::connect(
        window, &QQuickWindow::frameSwapped, &app,
        [] {
            static bool once = false;
            if (!once) {
                once = true;
                SystemdNotifier::ready();
            }
        },
        Qt::QueuedConnection);
    QObject::connect(&controller, &SessionController::stateChanged, &app,
                     [&controller] { SystemdNotifier::status(statusLine(controller)); });
    if (!shell.config().startProblem.isEmpty())
        SystemdNotifier::status(QStringLiteral("Cannot connect: ") +
                                shell.config().startProblemDetail.section(QLatin1Char('\n'), 0, 0));
    QObject::connect(&app, &QCoreApplication::aboutToQuit, [] { SystemdNotifier::stopping(); });

    if (!o.target.isEmpty() && QGuiApplication::platformName() == QLatin1String("offscreen")) {
        // Scripted demo: first frame -> screenshot -> type -> screenshot -> quit.
        const QString dir = o.demoScreenshots;
        QDir().mkpath(dir);
        const QString text = o.demoType;
        const auto say = [](const QString& s) {
            std::fputs(qPrintable(QStringLiteral("saffron: ") + s + QLatin1Char('\n')), stdout);
            std::fflush(stdout);
        };
        const auto save = [=](const QString& name) {
            const QString path = QDir(dir).filePath(name);
            window->grabWindow().save(path);
            say(QStringLiteral("saved %1").arg(path));
        };
        QObject::connect(&controller, &SessionController::firstFrame, &app, [&, save, say, text] {
            say(QStringLiteral("connected; first frame received"));
            QTimer::singleShot(1500, &app, [&, save, say, text] {
                save(QStringLiteral("1-connected.png"));
                say(QStringLiteral("typing \"%1\" into the guest")
                        .arg(QString(text).replace(QLatin1Char('\n'), QStringLiteral("\\n"))));
                auto strokes = std::make_shared<QList<QPair<AtScancode, bool>>>(keystrokes(text));
                auto* pacer = new QTimer(&app);
                QObject::connect(pacer, &QTimer::timeout, &app, [&controller, strokes, pacer] {
                    Session* s = controller.session();
                    if (strokes->isEmpty() || !s) {
                        pacer->stop();
                        return;
                    }
                    const auto [code, down] = strokes->takeFirst();
                    down ? s->keyDown(code) : s->keyUp(code);
                });
                pacer->start(15);
                QTimer::singleShot(int(strokes->size()) * 15 + 3000, &app, [&, save, say] {
                    save(QStringLiteral("2-typed.png"));
                    say(QStringLiteral("demo done"));
                    app.exit(0);
                });
            });
        });
        QTimer::singleShot(120000, &app, [&] {
            say(QStringLiteral("no first frame within 120 s"));
            app.exit(1);
        });
    }

    return app.exec();
}
