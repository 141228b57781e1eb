#pragma once

#include <QString>

namespace saffron {

// Which GPUs this machine shows, as one line: each DRM node under /sys/class/drm with its kernel
// driver ("card0=i915 renderD128=i915"), then NVIDIA's device nodes (/dev/nvidia*, which the
// proprietary driver creates whether or not it has DRM nodes). Keys caches of probe results that
// a new or removed GPU, or another driver, makes stale: the decoder probes (video/ProbeCache) and
// the shell's OpenGL renderer probe. Reads sysfs and /dev only; cheap enough for every start.
QString gpuIdentity();

} // namespace saffron
