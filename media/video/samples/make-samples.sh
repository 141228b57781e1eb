#!/usr/bin/env bash
# Regenerates the probe bitstreams embedded into saffron_media (media/video/EmbeddedSamples.cmake
# turns every <codec>-<n>.bin here into a C++ array at configure time).
#
# Each codec gets two frames of the 75% SMPTE colour bars at 176x144 (QCIF): the first is a key
# frame, the second an inter frame, so a probe exercises reference handling and not only intra
# decoding. 176x144 rather than 64x64 because hardware decoders have minimum sizes (NVDEC needs
# 144x144 for HEVC, 128x128 for VP9); a probe below them would reject decoders that handle every
# real SPICE stream. One file per access unit / frame, exactly what VideoDecoder::submit() is fed.
#
# Encoder settings follow spice-server's GStreamer encoder (server/gstreamer-encoder.c): Annex-B
# byte-stream with AUDs, zerolatency (no B-frames, sliced threads), VP8/VP9 realtime without
# lag, so the probes see the same bitstream features as real streams.
#
# Usage: media/video/samples/make-samples.sh   (needs gst-launch-1.0 and the encoders below;
# x265enc is in gstreamer1.0-plugins-bad, x264enc in -ugly). A missing encoder leaves that
# codec without a sample: it is then reported as "no probe sample" and never selected.
set -euo pipefail
cd "$(dirname "$0")"

src="videotestsrc num-buffers=2 pattern=smpte75 ! video/x-raw,width=176,height=144,format=I420,framerate=30/1"
# The 4:4:4 probes (<codec>-444-<n>.bin): what spice-server sends when videoconvert hands its
# encoder Y444 (H.264 High 4:4:4 Predictive, VP9 profile 1), and H.265 Main 4:4:4 (RExt). Hardware
# decoders are asked to decode them only when a stream is 4:4:4; most refuse them.
src444="videotestsrc num-buffers=2 pattern=smpte75 ! video/x-raw,width=176,height=144,format=Y444,framerate=30/1"

have() { gst-inspect-1.0 "$1" >/dev/null 2>&1; }

encode() { # codec encoder-chain [source]
    local codec=$1 chain=$2 source=${3:-$src}
    local encoder
    encoder=$(grep -o '[a-z0-9]*enc' <<<"$chain" | head -1)
    if ! have "$encoder"; then
        echo "make-samples: $encoder missing, no $codec sample" >&2
        return
    fi
    rm -f "$codec"-?.bin
    # shellcheck disable=SC2086 # the chain is a gst-launch description, split on purpose
    gst-launch-1.0 -q $source ! $chain ! multifilesink location="$codec-%d.bin"
    echo "make-samples: $codec: $(wc -c "$codec"-?.bin | tail -1 | awk '{print $1}') bytes"
}

encode h264 "x264enc byte-stream=true aud=true tune=zerolatency speed-preset=ultrafast qp-max=35 ! video/x-h264,stream-format=byte-stream,alignment=au"
# info=0: x265 otherwise writes its whole option string as an SEI (2 KB of text).
encode h265 "x265enc tune=zerolatency speed-preset=ultrafast option-string=info=0 ! h265parse ! video/x-h265,stream-format=byte-stream,alignment=au"
encode vp8 "vp8enc deadline=1 lag-in-frames=0"
encode vp9 "vp9enc deadline=1 lag-in-frames=0"
# JPEG is full-range YCbCr 4:2:0 (what libjpeg makes from RGB in spice-server): go through RGB so
# the TV-range bars are really expanded (videotestsrc paints TV-range values whatever the caps say).
encode mjpeg "videoconvert ! video/x-raw,format=RGB ! videoconvert ! video/x-raw,format=I420,colorimetry=1:4:0:0 ! jpegenc quality=60"

encode h264-444 "x264enc byte-stream=true aud=true tune=zerolatency speed-preset=ultrafast qp-max=35 ! video/x-h264,stream-format=byte-stream,alignment=au" "$src444"
encode h265-444 "x265enc tune=zerolatency speed-preset=ultrafast option-string=info=0 ! h265parse ! video/x-h265,stream-format=byte-stream,alignment=au" "$src444"
encode vp9-444 "vp9enc deadline=1 lag-in-frames=0" "$src444"
