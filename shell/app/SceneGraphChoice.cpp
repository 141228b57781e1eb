#include "app/SceneGraphChoice.h"

#include "GpuIdentity.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QGuiApplication>
#include <QOffscreenSurface>
#include <QOpenGLContext>
#include <QOpenGLFunctions>
#include <QQuickWindow>
#include <QSGRendererInterface>
#include <QSaveFile>
#include <QStandardPaths>
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

// What the probe's answer depends on: the platform and the display it talks to, the GPUs
// (DRM nodes and their kernel drivers) and Qt. A thin client boots the same way every time, so
// after the first start the answer comes from the cache, and the OpenGL driver (Mesa's
// llvmpipe alone is ~50 MiB resident) is never loaded into a shell that will not use it.
QString probeKey() {
    const QStringList parts{QGuiApplication::platformName(), qEnvironmentVariable("WAYLAND_DISPLAY"),
                            qEnvironmentVariable("DISPLAY"), QString::fromLatin1(qVersion()), gpuIdentity()};
    return parts.join(QLatin1Char(' ')).simplified();
}

QString cachePath() {
    return QStandardPaths::writableLocation(QStandardPaths::GenericCacheLocation) +
           QStringLiteral("/saffron/gl-renderer");
}

// "key\nrenderer\n"; the renderer line may be empty (no OpenGL).
std::optional<QString> cachedRenderer(const QString& key) {
    QFile f(cachePath());
    if (!f.open(QIODevice::ReadOnly) || f.size() > 4096)
        return std::nullopt;
    const QStringList lines = QString::fromUtf8(f.readAll()).split(QLatin1Char('\n'));
    if (lines.size() < 2 || lines[0] != key)
        return std::nullopt;
    return lines[1];
}

void storeRenderer(const QString& key, const QString& renderer) {
    QDir().mkpath(QFileInfo(cachePath()).path());
    QSaveFile f(cachePath());
    if (f.open(QIODevice::WriteOnly)) {
        f.write((key + QLatin1Char('\n') + renderer + QLatin1Char('\n')).toUtf8());
        f.commit(); // a cache: failing to write it only costs the probe next time
    }
}

} // namespace

SceneGraphDecision chooseSceneGraph(RendererChoice choice) {
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
    QString renderer;
    if (const auto cached = cachedRenderer(key)) {
        renderer = *cached;
    } else {
        renderer = openGlRenderer();
        storeRenderer(key, renderer);
    }
    if (renderer.isEmpty())
        return {true, QStringLiteral("software renderer: no OpenGL here")};
    if (isCpuRasterizer(renderer))
        return {true, QStringLiteral("software renderer: OpenGL is %1, a CPU rasterizer").arg(renderer)};
    return {false, QStringLiteral("GPU: %1").arg(renderer)};
}

void applySceneGraph(const SceneGraphDecision& decision) {
    if (decision.software)
        QQuickWindow::setGraphicsApi(QSGRendererInterface::Software);
}

} // namespace saffron
