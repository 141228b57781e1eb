#include "app/SceneGraphChoice.h"

#include "GpuIdentity.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QGuiApplication>
#include <QOffscreenSurface>
#include <QOpenGLContext>
#include <QOpenGLFunctions>
#include <QProcess>
#include <QQuickWindow>
#include <QSGRendererInterface>
#include <QSaveFile>
#include <QStandardPaths>
#include <algorithm>
#include <cstdio>
#include <optional>

namespace saffron {

bool isCpuRasterizer(const QString& glRenderer) {
    const QString r = glRenderer.toLower();
    for (const char* name : {"llvmpipe", "softpipe", "software rasterizer", "swrast", "swr "})
        if (r.contains(QLatin1String(name)))
            return true;
    return r == QLatin1String("swr");
}

namespace {

// GL_RENDERER of the platform's default OpenGL, or an empty string without OpenGL.
QString openGlRenderer() {
    QOpenGLContext context;
    if (!context.create())
        return {};
    QOffscreenSurface surface;
    surface.setFormat(context.format());
    surface.create();
    if (!surface.isValid() || !context.makeCurrent(&surface))
        return {};
    const auto* name = reinterpret_cast<const char*>(context.functions()->glGetString(GL_RENDERER));
    const QString renderer = name ? QString::fromLatin1(name) : QString();
    context.doneCurrent();
    return renderer;
}

constexpr QLatin1String kProbeAnswer("opengl-renderer:");
// A GPU driver's first start may build its shader cache; one that takes longer than this is
// taken as broken for this start (and not remembered).
constexpr int kChildProbeMs = 8000;

// On a windowing system the probe runs in a child process (`program --probe-opengl`), a client
// of the same display: loading an OpenGL driver cannot be undone in a process (Mesa's llvmpipe
// stays ~55 MiB resident with two idle threads, bench_shell: VmRSS 112 against 57 MiB on a
// start that probed), and a driver that crashes or hangs while it starts takes the child down,
// not the shell. Without an answer (crash, time-out) there is no OpenGL for this start.
std::optional<QString> openGlRendererOfChild(const QString& program, QString* failure) {
    QProcess child;
    child.setProgram(program);
    child.setArguments(
        {QStringLiteral("--probe-opengl"), QStringLiteral("-platform"), QGuiApplication::platformName()});
    child.setProcessChannelMode(QProcess::ForwardedErrorChannel); // driver complaints: journal
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.remove(QStringLiteral("QT_IM_MODULE")); // the probe has no text input to offer a keyboard
    child.setProcessEnvironment(env);
    child.start(QIODevice::ReadOnly);
    if (!child.waitForFinished(kChildProbeMs)) {
        *failure = child.state() == QProcess::NotRunning
                       ? QStringLiteral("cannot run %1: %2").arg(program, child.errorString())
                       : QStringLiteral("no answer within %1 ms").arg(kChildProbeMs);
        child.kill();
        child.waitForFinished(1000);
        return std::nullopt;
    }
    // The answer counts even where the child then failed on its way out (a sanitizer's leak
    // report about the driver, a driver crashing in its exit handler).
    for (const QByteArray& line : child.readAllStandardOutput().split('\n'))
        if (line.startsWith(QByteArray(kProbeAnswer.data(), kProbeAnswer.size())))
            return QString::fromUtf8(line.mid(kProbeAnswer.size())).trimmed();
    *failure = child.exitStatus() == QProcess::CrashExit
                   ? QStringLiteral("the probe crashed")
                   : QStringLiteral("the probe exited with %1 and no answer").arg(child.exitCode());
    return std::nullopt;
}

// Platforms where each process is a client of a shared display; elsewhere (eglfs owns the DRM
// device, offscreen has no display) the probe stays in this process.
bool probesInChild() {
    const QString p = QGuiApplication::platformName();
    return p == QLatin1String("xcb") || p.startsWith(QLatin1String("wayland"));
}

// What the probe's answer depends on: the platform and the display it talks to, the GPUs
// (DRM nodes and their kernel drivers) and Qt. A thin client boots the same way every time, so
// after the first start the answer comes from the cache and no probe runs.
QString probeKey() {
    const QStringList parts{QGuiApplication::platformName(), qEnvironmentVariable("WAYLAND_DISPLAY"),
                            qEnvironmentVariable("DISPLAY"), QString::fromLatin1(qVersion()), gpuIdentity()};
    return parts.join(QLatin1Char(' ')).simplified();
}

QString cachePath() {
    return QStandardPaths::writableLocation(QStandardPaths::GenericCacheLocation) +
           QStringLiteral("/saffron/gl-renderer");
}

// Pairs of lines, "key\nrenderer\n", the newest first; a renderer line may be empty (no
// OpenGL). Several keys, so that a PC alternating between an X11 and a Wayland session, or
// between displays, does not probe at every start.
constexpr qsizetype kCachedKeys = 8;

using CachedAnswers = QList<std::pair<QString, QString>>; // (key, renderer), the newest first

CachedAnswers readCache() {
    CachedAnswers entries;
    QFile f(cachePath());
    if (!f.open(QIODevice::ReadOnly) || f.size() > 16384)
        return entries;
    const QStringList lines = QString::fromUtf8(f.readAll()).split(QLatin1Char('\n'));
    for (qsizetype i = 0; i + 1 < lines.size() && entries.size() < kCachedKeys; i += 2)
        if (!lines[i].isEmpty())
            entries.append({lines[i], lines[i + 1]});
    return entries;
}

std::optional<QString> cachedRenderer(const CachedAnswers& entries, const QString& key) {
    for (const auto& [k, renderer] : entries)
        if (k == key)
            return renderer;
    return std::nullopt;
}

// `entries`: what readCache() gave before the probe.
void storeRenderer(CachedAnswers entries, const QString& key, const QString& renderer) {
    entries.removeIf([&](const auto& e) { return e.first == key; });
    entries.prepend({key, renderer});
    QString text;
    for (qsizetype i = 0; i < std::min(entries.size(), kCachedKeys); ++i)
        text += entries[i].first + QLatin1Char('\n') + entries[i].second + QLatin1Char('\n');
    QDir().mkpath(QFileInfo(cachePath()).path());
    QSaveFile f(cachePath());
    if (f.open(QIODevice::WriteOnly)) {
        f.write(text.toUtf8());
        f.commit(); // a cache: failing to write it only costs the probe next time
    }
}

} // namespace

SceneGraphDecision chooseSceneGraph(RendererChoice choice, const QString& probeProgram) {
    if (qEnvironmentVariableIsSet("QT_QUICK_BACKEND") || qEnvironmentVariableIsSet("QSG_RHI_BACKEND"))
        return {false, QStringLiteral("as QT_QUICK_BACKEND / QSG_RHI_BACKEND say")};
    switch (choice) {
    case RendererChoice::Software:
        return {true, QStringLiteral("software renderer (shell/renderer=software)")};
    case RendererChoice::Gpu:
        return {false, QStringLiteral("GPU (shell/renderer=gpu)")};
    case RendererChoice::Auto:
        break;
    }
    const QString key = probeKey();
    const CachedAnswers cache = readCache();
    std::optional<QString> renderer = cachedRenderer(cache, key);
    if (!renderer) {
        QString failure;
        renderer = !probeProgram.isEmpty() && probesInChild() ? openGlRendererOfChild(probeProgram, &failure)
                                                              : openGlRenderer();
        if (!renderer) // not remembered: the next start asks again
            return {true, QStringLiteral("software renderer: OpenGL probe failed (%1)").arg(failure)};
        storeRenderer(cache, key, *renderer);
    }
    if (renderer->isEmpty())
        return {true, QStringLiteral("software renderer: no OpenGL here")};
    if (isCpuRasterizer(*renderer))
        return {true, QStringLiteral("software renderer: OpenGL is %1, a CPU rasterizer").arg(*renderer)};
    return {false, QStringLiteral("GPU: %1").arg(*renderer)};
}

int runOpenGlProbe() {
    const QString renderer = openGlRenderer();
    std::fprintf(stdout, "%s%s\n", kProbeAnswer.data(), renderer.toUtf8().constData());
    std::fflush(stdout);
    return 0;
}

void applySceneGraph(const SceneGraphDecision& decision) {
    if (decision.software)
        QQuickWindow::setGraphicsApi(QSGRendererInterface::Software);
}

} // namespace saffron
