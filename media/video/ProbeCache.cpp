#include "ProbeCache.h"

#include "GpuIdentity.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QSaveFile>
#include <QStandardPaths>
#include <gst/gst.h>

namespace saffron {

namespace {

constexpr qint64 kMaxFileBytes = 64 * 1024; // a handful of lines; anything bigger is not ours

std::string entryKey(VideoCodec codec, const std::string& element) {
    return std::string(videoCodecName(codec)) + ' ' + element;
}

QString registryPath() {
    if (const QByteArray env = qgetenv("GST_REGISTRY"); !env.isEmpty())
        return QString::fromLocal8Bit(env);
    return QStandardPaths::writableLocation(QStandardPaths::GenericCacheLocation) +
           QStringLiteral("/gstreamer-1.0/registry.%1.bin")
               .arg(QStringLiteral(
#if defined(__x86_64__)
                   "x86_64"
#elif defined(__aarch64__)
                   "aarch64"
#else
                   "unknown"
#endif
                   ));
}

} // namespace

QString ProbeCache::defaultPath() {
    return QStandardPaths::writableLocation(QStandardPaths::GenericCacheLocation) +
           QStringLiteral("/saffron/decoder-probes");
}

QString ProbeCache::environmentKey() {
    const QFileInfo registry(registryPath());
    if (!registry.exists())
        return {};
    QStringList parts;
    guint major = 0, minor = 0, micro = 0, nano = 0;
    gst_version(&major, &minor, &micro, &nano);
    parts << QStringLiteral("gst=%1.%2.%3.%4").arg(major).arg(minor).arg(micro).arg(nano);
    parts << QStringLiteral("registry=%1:%2")
                 .arg(registry.lastModified().toMSecsSinceEpoch())
                 .arg(registry.size());
    parts << QStringLiteral("gpu=%1").arg(gpuIdentity());
    return parts.join(QLatin1Char(' '));
}

ProbeCache::ProbeCache(QString path) : path_(path.isEmpty() ? defaultPath() : std::move(path)) {
    key_ = environmentKey();
    if (key_.isEmpty())
        return;
    QFile f(path_);
    if (!f.open(QIODevice::ReadOnly) || f.size() > kMaxFileBytes)
        return;
    const QList<QByteArray> lines = f.readAll().split('\n');
    // Line 1 is the key the results were made under; a different key means stale results.
    if (lines.isEmpty() || QString::fromUtf8(lines.first()) != key_)
        return;
    for (qsizetype i = 1; i < lines.size(); ++i) {
        // "<codec> <element>\t<ok|fail>\t<detail>"
        const QList<QByteArray> f3 = lines[i].split('\t');
        if (f3.size() != 3 || (f3[1] != "ok" && f3[1] != "fail"))
            continue;
        entries_[f3[0].toStdString()] = Entry{f3[1] == "ok", f3[2].toStdString()};
    }
}

std::optional<ProbeCache::Entry> ProbeCache::find(VideoCodec codec, const std::string& element) const {
    std::lock_guard lock(mutex_);
    const auto it = entries_.find(entryKey(codec, element));
    if (it == entries_.end())
        return std::nullopt;
    return it->second;
}

void ProbeCache::store(VideoCodec codec, const std::string& element, const Entry& entry) {
    if (key_.isEmpty())
        return;
    std::lock_guard lock(mutex_);
    Entry clean = entry;
    // One line per entry: keep separators out of the detail text.
    std::replace(clean.detail.begin(), clean.detail.end(), '\t', ' ');
    std::replace(clean.detail.begin(), clean.detail.end(), '\n', ' ');
    entries_[entryKey(codec, element)] = clean;
    save();
}

void ProbeCache::save() const {
    QDir().mkpath(QFileInfo(path_).absolutePath());
    QSaveFile f(path_);
    if (!f.open(QIODevice::WriteOnly))
        return; // a read-only home only costs the probes next time
    QByteArray out = key_.toUtf8() + '\n';
    for (const auto& [k, e] : entries_)
        out += QByteArray::fromStdString(k) + '\t' + (e.ok ? "ok" : "fail") + '\t' +
               QByteArray::fromStdString(e.detail) + '\n';
    f.write(out);
    f.commit();
}

} // namespace saffron
