// saffron: the client window. Until the Qt Quick kiosk shell lands this is a plain window
// showing one session with keyboard, mouse, clipboard, cursor and resolution following the
// window. Under QT_QPA_PLATFORM=offscreen it runs a short scripted demo instead, saving
// screenshots, so it can show what it does on a machine with no display.
#include "Session.h"
#include "app/SessionWidget.h"
#include "common/ConnectionTarget.h"

#include <QApplication>
#include <QClipboard>
#include <QCommandLineParser>
#include <QDir>
#include <QHash>
#include <QTimer>
#include <cstdio>
#include <spice/enums.h>

using namespace saffron;

namespace {

void say(const QString& s) {
    std::fputs(qPrintable(QStringLiteral("saffron: ") + s + QLatin1Char('\n')), stdout);
    std::fflush(stdout);
}

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

int main(int argc, char** argv) {
    QApplication app(argc, argv);
    QApplication::setApplicationName(QStringLiteral("saffron"));
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("Saffron SPICE client"));
    parser.addHelpOption();
    parser.addPositionalArgument(QStringLiteral("target"), QStringLiteral("spice:// URI or .vv file"));
    QCommandLineOption title(QStringLiteral("title"), QStringLiteral("window title"),
                             QStringLiteral("TITLE"));
    QCommandLineOption fullScreen(QStringLiteral("full-screen"), QStringLiteral("start full screen"));
    QCommandLineOption shots(QStringLiteral("demo-screenshots"),
                             QStringLiteral("offscreen demo: folder for screenshots (default ./demo-shots)"),
                             QStringLiteral("DIR"), QStringLiteral("demo-shots"));
    QCommandLineOption typeOpt(QStringLiteral("demo-type"), QStringLiteral("offscreen demo: text to type"),
                               QStringLiteral("TEXT"), QStringLiteral("uname -a\n"));
    parser.addOptions({title, fullScreen, shots, typeOpt});
    parser.process(app);
    if (parser.positionalArguments().isEmpty())
        parser.showHelp(2);

    QString error;
    auto target = loadConnectionTarget(parser.positionalArguments().first(), &error);
    if (!target) {
        std::fprintf(stderr, "saffron: %s\n", qPrintable(error));
        return 2;
    }

    Session session(target->options);
    SessionWidget view(session);
    view.setWindowTitle(parser.isSet(title)             ? parser.value(title)
                        : !target->spec.title.isEmpty() ? target->spec.title
                                                        : QStringLiteral("Saffron"));
    view.resize(1024, 768);

    QObject::connect(&session, &Session::disconnected, &app, [&](const QString& e) {
        std::fprintf(stderr, "saffron: %s\n", qPrintable(e.isEmpty() ? QStringLiteral("session ended") : e));
        app.exit(e.isEmpty() ? 0 : 1);
    });
    const QString baseTitle = view.windowTitle();
    QObject::connect(&view, &SessionWidget::pointerGrabChanged, &view, [&](bool grabbed) {
        view.setWindowTitle(grabbed ? baseTitle + QStringLiteral(" (Shift+F12 releases the pointer)")
                                    : baseTitle);
    });
    // Clipboard both ways through the agent.
    bool applyingGuestClipboard = false;
    QObject::connect(QGuiApplication::clipboard(), &QClipboard::dataChanged, &app, [&] {
        if (!applyingGuestClipboard)
            session.setClientClipboardText(QGuiApplication::clipboard()->text());
    });
    QObject::connect(&session, &Session::guestClipboardGrabbed, &app,
                     [&] { session.requestGuestClipboard(); });
    QObject::connect(&session, &Session::guestClipboardText, &app, [&](const QString& t) {
        applyingGuestClipboard = true;
        QGuiApplication::clipboard()->setText(t);
        applyingGuestClipboard = false;
    });

    const bool offscreen = QGuiApplication::platformName() == QLatin1String("offscreen");
    if (offscreen) {
        // Scripted demo: first frame -> screenshot -> type -> screenshot -> quit.
        const QString dir = parser.value(shots);
        QDir().mkpath(dir);
        const QString text = parser.value(typeOpt);
        auto save = [&](const QString& name) {
            const QString path = QDir(dir).filePath(name);
            view.grab().save(path);
            say(QStringLiteral("saved %1 (%2x%3 guest screen)")
                    .arg(path)
                    .arg(view.frame().width())
                    .arg(view.frame().height()));
        };
        QObject::connect(&session, &Session::displayMarked, &app, [&] {
            say(QStringLiteral("connected; first frame received"));
            QTimer::singleShot(1500, &app, [&] {
                save(QStringLiteral("1-connected.png"));
                say(QStringLiteral("typing \"%1\" into the guest")
                        .arg(QString(text).replace(QLatin1Char('\n'), QStringLiteral("\\n"))));
                auto strokes = std::make_shared<QList<QPair<AtScancode, bool>>>(keystrokes(text));
                auto* pacer = new QTimer(&app);
                QObject::connect(pacer, &QTimer::timeout, &app, [&session, strokes, pacer] {
                    if (strokes->isEmpty()) {
                        pacer->stop();
                        return;
                    }
                    const auto [code, down] = strokes->takeFirst();
                    down ? session.keyDown(code) : session.keyUp(code);
                });
                pacer->start(15);
                QTimer::singleShot(int(strokes->size()) * 15 + 3000, &app, [&] {
                    save(QStringLiteral("2-typed.png"));
                    const SessionInfo info = session.info();
                    QStringList names;
                    for (const auto& c : info.channels)
                        names << c.name + QLatin1Char('=') + c.state;
                    say(QStringLiteral("channels: %1").arg(names.join(QLatin1Char(' '))));
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

    if (parser.isSet(fullScreen) || target->spec.fullscreen)
        view.showFullScreen();
    else
        view.show();
    session.start();
    return app.exec();
}
