#include "common/appliance/UpdateStatus.h"

#include <QFile>
#include <QFileInfo>

namespace saffron {

namespace {
constexpr qint64 kMaxStatusBytes = 4096; // a few short lines; anything bigger is not ours
constexpr int kMaxFieldChars = 300;      // keeps a banner a banner
} // namespace

UpdateStatus UpdateStatus::parse(const QByteArray& content) {
    UpdateStatus s;
    QString state;
    for (const QByteArray& raw : content.left(kMaxStatusBytes).split('\n')) {
        const int eq = raw.indexOf('=');
        if (eq <= 0)
            continue;
        const QByteArray key = raw.left(eq).trimmed();
        const QString value = QString::fromUtf8(raw.mid(eq + 1)).trimmed().left(kMaxFieldChars);
        if (key == "state")
            state = value;
        else if (key == "version")
            s.version = value;
        else if (key == "message")
            s.message = value;
    }
    if (state == QLatin1String("installing") || state == QLatin1String("installed") ||
        state == QLatin1String("refused"))
        s.state = state;
    else
        s = UpdateStatus{};
    return s;
}

QString UpdateStatusWatcher::defaultPath() {
    const QString env = qEnvironmentVariable("SAFFRON_UPDATE_STATUS");
    return env.isEmpty() ? QStringLiteral("/run/saffron-update/status") : env;
}

UpdateStatusWatcher::UpdateStatusWatcher(const QString& path, QObject* parent)
    : QObject(parent), path_(path) {
    refusedTimer_.setSingleShot(true);
    connect(&refusedTimer_, &QTimer::timeout, this, [this] {
        if (shown_.state == QLatin1String("refused"))
            show(UpdateStatus{});
    });
    // The folder, not the file: the writer renames a new file over it, which a file watch
    // loses track of.
    const QString dir = QFileInfo(path_).absolutePath();
    if (!QFileInfo(dir).isDir())
        return;
    watcher_.addPath(dir);
    connect(&watcher_, &QFileSystemWatcher::directoryChanged, this, &UpdateStatusWatcher::reload);
    reload();
}

void UpdateStatusWatcher::reload() {
    UpdateStatus now;
    QFile f(path_);
    if (f.open(QIODevice::ReadOnly))
        now = UpdateStatus::parse(f.read(kMaxStatusBytes));
    if (now == read_)
        return; // another file in the folder changed
    read_ = now;
    show(now);
    if (now.state == QLatin1String("refused"))
        refusedTimer_.start(refusedShownMs_);
    else
        refusedTimer_.stop();
}

void UpdateStatusWatcher::show(const UpdateStatus& s) {
    if (s == shown_)
        return;
    shown_ = s;
    emit changed();
}

} // namespace saffron
