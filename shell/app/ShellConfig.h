#pragma once

#include <QObject>
#include <QString>
#include <QVariantMap>

namespace saffron {

// What the QML shell needs to know about how it was started and what the administrator allows:
// set once by main() from the command line, the connection file and the settings files.
class ShellConfig : public QObject {
    Q_OBJECT
    Q_PROPERTY(bool kiosk MEMBER kiosk CONSTANT)
    Q_PROPERTY(bool fullScreen MEMBER fullScreen CONSTANT)
    Q_PROPERTY(QString windowTitle MEMBER windowTitle CONSTANT)
    Q_PROPERTY(QString scaling MEMBER scaling NOTIFY scalingChanged)
    Q_PROPERTY(QVariantMap sessionHotkeys MEMBER sessionHotkeys CONSTANT)
    Q_PROPERTY(bool clipboard MEMBER clipboard CONSTANT)
    Q_PROPERTY(bool launcher MEMBER launcher CONSTANT)
    Q_PROPERTY(bool virtualKeyboard MEMBER virtualKeyboard CONSTANT)
    Q_PROPERTY(QString version MEMBER version CONSTANT)
    Q_PROPERTY(QString startProblem MEMBER startProblem CONSTANT)
    Q_PROPERTY(QString startProblemDetail MEMBER startProblemDetail CONSTANT)
public:
    using QObject::QObject;

    bool kiosk = false;
    bool fullScreen = false;
    QString windowTitle = QStringLiteral("Saffron");
    QString scaling = QStringLiteral("fit");
    // action -> key sequence for the session view (release-cursor, toggle-menu, stats-overlay,
    // toggle-fullscreen, secure-attention, ...).
    QVariantMap sessionHotkeys;
    bool clipboard = true;
    bool launcher = false; // no target given (and not a kiosk): show the connection list
    bool virtualKeyboard = false;
    QString version;
    // Why a kiosk cannot connect as configured, shown on its status screen instead of a
    // session: "no-connection" (nothing in connections.d) or "bad-connection" (the one it has
    // cannot be used); the detail (a path, the parser's error) is shown as it is.
    QString startProblem;
    QString startProblemDetail;

signals:
    void scalingChanged();
};

} // namespace saffron
