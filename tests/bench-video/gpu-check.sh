#!/usr/bin/env bash
# Runs on the GPU machine, from a bundle made by gpu-bundle.sh: which decoders the hardware-first
# selection picks there, test_media's decode tests through them (colour bars checked per pixel,
# corrupt input), how the 4:4:4 streams spice-server sends fare, and bench_video with the
# hardware H.264 decoder on both sides.
#
#   tests/bench-video/gpu-check.sh BUNDLE_DIR OUT_DIR [H264_ELEMENT]     (default nvh264dec)
#   GPU_CHECK_BENCH="--seconds 1 --reps 1" for a short bench (default 4 s clips, 3 repetitions)
set -u
bundle=$(realpath "$1")
out=$2
element=${3:-nvh264dec}
mkdir -p "$out"
root=/tmp/saffron-gpu
rm -rf "$root" && mkdir -p "$root/cache"
tar -C "$root" -xJf "$bundle/bundle.tar.xz"

echo "== machine"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>&1
ldd --version 2>&1 | head -1
grep PRETTY_NAME /etc/os-release
nproc
# The driver's user-space libraries: libcuda for CUDA, libnvcuvid for NVDEC. Container runtimes
# often mount only the compute ones; without libnvcuvid nvcodec registers no decoder.
driver_dirs=""
for lib in libcuda.so.1 libnvcuvid.so.1; do
    found=$(ldconfig -p | awk -v l="$lib" '$1 == l {print $NF; exit}')
    [ -z "$found" ] && found=$(find /usr/local/nvidia /usr/lib /usr/lib64 /lib -name "$lib" 2>/dev/null | head -1)
    echo "$lib: ${found:-not found}"
    [ -n "$found" ] && driver_dirs="$driver_dirs:$(dirname "$found")"
done

export LD_LIBRARY_PATH="$root/lib$driver_dirs"
export PATH="$root/bin:$PATH"
export GST_PLUGIN_SYSTEM_PATH_1_0="$root/plugins" GST_PLUGIN_SYSTEM_PATH="$root/plugins"
export GST_PLUGIN_PATH_1_0="" GST_PLUGIN_PATH=""
export GST_REGISTRY_1_0="$root/registry.bin" GST_REGISTRY_FORK=no
export XDG_CACHE_HOME="$root/cache" QT_QPA_PLATFORM=offscreen

echo "== nvcodec"
gst-inspect-1.0 nvcodec 2>&1 | grep -E 'dec|enc|Version|Filename' | head -30
if ! gst-inspect-1.0 "$element" >/dev/null 2>&1; then
    echo "$element not registered; nvcodec's own account:"
    GST_DEBUG='nv*:6,cuda*:6,GST_PLUGIN_LOADING:4' gst-inspect-1.0 --gst-disable-registry-update nvcodec 2>&1 | tail -40
    rm -f "$GST_REGISTRY_1_0"
    GST_DEBUG='nv*:5,cuda*:5' gst-inspect-1.0 nvcodec 2>&1 | grep -iE 'cuda|cuvid|nvdec|error|fail' | head -40
fi

echo "== test_media (decode tests through whatever the selection picks here)"
test_media selectionRealSoftware accessUnitChromaFormat decodeSoftware corruptRandomBytes corruptTruncatedFrames absurdH264Size \
    resetAndReuseWithNewSize 2>&1 | tee "$out/test_media.log" | grep -vE '^(QDEBUG|QWARN).*saffron.media: .*(error|Error)' |
    tail -60

echo "== bench_video --selection --decoder $element"
# shellcheck disable=SC2086 # options, split on purpose
bench_video --selection --clips "$bundle/clips" --decoder "$element" ${GPU_CHECK_BENCH:---seconds 4 --reps 3} \
    --out "$root/out" 2>&1 |
    tee "$out/bench_video.log"
nvidia-smi --query-gpu=utilization.decoder --format=csv 2>&1 | tail -1
