#pragma once

#include "common/appliance/ShellSettings.h"

#include <QString>

namespace saffron {

// Which Qt Quick scene graph the shell runs: the GPU one (QRhi over OpenGL: partial texture
// uploads, video as YUV layers converted in a shader) or Qt's software renderer (the surface in
// 64-px tiles, video as RGB pictures the session converted). Without a GPU, OpenGL is a CPU rasterizer
// (Mesa's llvmpipe in a VM or under Xvfb) that repaints the whole window through a GL emulation
// for every update: bench_shell measured 2.8 % of a core idle and 149 MiB resident that way on
// the BIOS screen, against 0.43 % and 69 MiB with the software renderer.
struct SceneGraphDecision {
    bool software = false;
    QString reason; // for the journal
};

// True for the OpenGL renderer strings of CPU rasterizers (GL_RENDERER: "llvmpipe (LLVM 15.0.6,
// 256 bits)", "softpipe", "Software Rasterizer", "SWR", "swrast").
bool isCpuRasterizer(const QString& glRenderer);

// Decides for `choice` (the settings' shell/renderer). QT_QUICK_BACKEND or QSG_RHI_BACKEND in
// the environment win, as Qt's own switches. Auto probes OpenGL (a context on an offscreen
// surface) and keeps the renderer's name in $XDG_CACHE_HOME/saffron/gl-renderer for the next
// start on the same platform, display and GPUs; no OpenGL at all means software. On X11 and
// Wayland the probe runs as `probeProgram --probe-opengl` (the shell's own binary, see
// runOpenGlProbe), so the driver never loads into a shell that will not use it; an empty
// `probeProgram` probes in this process. Call after the QGuiApplication exists and before the
// first window.
SceneGraphDecision chooseSceneGraph(RendererChoice choice, const QString& probeProgram = {});

// The child's side of the probe, for `saffron --probe-opengl` once its QGuiApplication exists:
// prints "opengl-renderer:NAME" (an empty name: no OpenGL) and returns the exit status.
int runOpenGlProbe();

// QQuickWindow::setGraphicsApi for the decision; before the first window.
void applySceneGraph(const SceneGraphDecision& decision);

} // namespace saffron
