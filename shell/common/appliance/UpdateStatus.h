#pragma once

#include <QFileSystemWatcher>
#include <QObject>
#include <QString>
#include <QTimer>

namespace saffron {

// What the appliance's updater is doing, from the status file its scripts write
// (/usr/lib/saffron/update/install-from-media: /run/saffron-update/status). Lines of KEY=VALUE:
//   state=installing|installed|refused   version=0.1.0.202611270900   message=free text
// Anything else (a missing file, unknown state) reads as "idle". The file is written to a
// temporary name and renamed, so a reader never sees half of it.
struct UpdateStatus {
    QString state = QStringLiteral("idle");
    QString version;
    QString message;

    static UpdateStatus parse(const QByteArray& content);
    bool operator==(const UpdateStatus& o) const {
        return state == o.state && version == o.version && message == o.message;
    }
};

// Watches the status file's folder and re-reads the file on every change, so the shell can tell
// whoever stands at the screen that an update is installing ("do not switch off") or was
// refused. A refusal is shown for `refusedShownMs`, then reads as idle again. Without the folder
// (a PC install, a test machine) it stays idle and watches nothing.
class UpdateStatusWatcher : public QObject {
    Q_OBJECT
    Q_PROPERTY(QString state READ state NOTIFY changed)
    Q_PROPERTY(QString version READ version NOTIFY changed)
    Q_PROPERTY(QString message READ message NOTIFY changed)
public:
    static QString defaultPath(); // $SAFFRON_UPDATE_STATUS, else /run/saffron-update/status

    explicit UpdateStatusWatcher(const QString& path = defaultPath(), QObject* parent = nullptr);

    QString state() const { return shown_.state; }
    QString version() const { return shown_.version; }
    QString message() const { return shown_.message; }
    const UpdateStatus& status() const { return shown_; }
    void setRefusedShownMs(int ms) { refusedShownMs_ = ms; }

signals:
    void changed();

private:
    void reload();
    void show(const UpdateStatus& s);

    QString path_;
    QFileSystemWatcher watcher_;
    QTimer refusedTimer_;
    int refusedShownMs_ = 30000;
    UpdateStatus read_; // what the file says
    UpdateStatus shown_;
};

} // namespace saffron
