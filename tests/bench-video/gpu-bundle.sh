#!/usr/bin/env bash
# Packs what tests/bench-video/gpu-check.sh needs on a GPU machine that has a driver but no
# GStreamer, Qt or Debian packages (the workplace's lent NVIDIA machines): bench_video, test_media,
# gst-inspect/gst-launch, the GStreamer plugins the video path uses (nvcodec included) and every
# shared library they load, minus glibc, which the target brings. libcuda and libnvcuvid are the
# driver's and are found there. The clips are made here, where x264enc is.
#
#   tests/bench-video/gpu-bundle.sh BUILD_DIR OUT_DIR      (OUT_DIR ends up ~25 MB, xz inside)
set -euo pipefail
build=$(realpath "$1")
out=$2
src=$(cd "$(dirname "$0")" && pwd)
rm -rf "$out" && mkdir -p "$out"
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/bin" "$stage/lib" "$stage/plugins"

gstlib=/usr/lib/x86_64-linux-gnu/gstreamer-1.0
cp "$build/tests/bench-video/bench_video" "$build/tests/unit-media/test_media" \
    "$(command -v gst-inspect-1.0)" "$(command -v gst-launch-1.0)" "$stage/bin/"
# jpegformat holds jpegparse, which the MJPEG pipeline puts before every decoder (without it
# the H200 run reported nvjpegdec as failing its probe; it decodes our sample fine).
for p in coreelements app videoparsersbad jpegformat nvcodec vpx jpeg; do
    cp "$gstlib/libgst$p.so" "$stage/plugins/"
done
# Everything they link, except the C library family: the target's glibc is newer (Ubuntu 24.04's
# 2.39 against Debian 12's 2.36) and must stay the one its driver libraries were linked against.
for f in "$stage"/bin/* "$stage"/plugins/*; do
    ldd "$f" | awk '$3 ~ /^\// {print $3}'
done | sort -u | grep -Ev '/(libc|libm|libpthread|libdl|librt|libresolv|ld-linux-x86-64)\.so' |
    while read -r lib; do cp -L "$lib" "$stage/lib/"; done

mkdir -p "$out/clips"
tar -C "$stage" -cJf "$out/bundle.tar.xz" .
cp "$src/gpu-check.sh" "$out/"
x264="x264enc bitrate=10000 byte-stream=true aud=true tune=zerolatency sliced-threads=true speed-preset=ultrafast intra-refresh=true"
for c in "moving:pattern=smpte horizontal-speed=8" "snow:pattern=snow"; do
    # shellcheck disable=SC2086 # gst-launch descriptions, split on purpose
    gst-launch-1.0 -q videotestsrc num-buffers=240 ${c#*:} ! \
        video/x-raw,format=I420,width=1920,height=1080,framerate=60/1 ! $x264 ! \
        video/x-h264,stream-format=byte-stream,alignment=au ! filesink location="$out/clips/${c%%:*}.h264"
done
# What spice-server makes of its BGRx surfaces: videoconvert hands x264enc Y444 (High 4:4:4).
gst-launch-1.0 -q videotestsrc num-buffers=60 pattern=smpte horizontal-speed=4 ! \
    video/x-raw,format=BGRx,width=1280,height=720,framerate=30/1 ! videoconvert ! \
    x264enc byte-stream=true aud=true tune=zerolatency speed-preset=ultrafast ! \
    video/x-h264,stream-format=byte-stream,alignment=au ! filesink location="$out/clips/h264-444.h264"
# H.265 Main 4:4:4 (RExt), which NVDEC decodes since Turing: the 4:4:4 probe should pass there.
mkdir -p "$out/clips/h265-444"
gst-launch-1.0 -q videotestsrc num-buffers=60 pattern=smpte horizontal-speed=4 ! \
    video/x-raw,format=Y444,width=1280,height=720,framerate=30/1 ! \
    x265enc tune=zerolatency speed-preset=ultrafast option-string=info=0 ! h265parse ! \
    video/x-h265,stream-format=byte-stream,alignment=au ! multifilesink location="$out/clips/h265-444/f-%05d.bin"
mkdir -p "$out/clips/vp9-444"
gst-launch-1.0 -q videotestsrc num-buffers=60 pattern=smpte horizontal-speed=4 ! \
    video/x-raw,format=BGRx,width=1280,height=720,framerate=30/1 ! videoconvert ! video/x-raw,format=Y444 ! \
    vp9enc deadline=1 lag-in-frames=0 ! multifilesink location="$out/clips/vp9-444/f-%05d.bin"
du -sh "$out"
