#!/usr/bin/env python3
"""Writes the seed corpus of fuzz_video_submit (corpus/fuzz_video_submit/).

Each seed is one stream in the fuzzer's input format: a codec byte (index in kAllVideoCodecs:
mjpeg, vp8, vp9, h264, h265) then frames as 16-bit little-endian length + bytes. Seeds are the
embedded probe samples (media/video/samples) and 6-frame 96x64 clips made with gst-launch-1.0
(a codec whose encoder is missing is skipped).

Usage: tests/unit-media/make_corpus.py
"""
import glob
import os
import subprocess
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
SAMPLES = os.path.join(HERE, '..', '..', 'media', 'video', 'samples')
OUT = os.path.join(HERE, 'corpus', 'fuzz_video_submit')
CODECS = ['mjpeg', 'vp8', 'vp9', 'h264', 'h265']
ENCODERS = {
    'mjpeg': 'jpegenc quality=30',
    'vp8': 'vp8enc deadline=1 lag-in-frames=0',
    'vp9': 'vp9enc deadline=1 lag-in-frames=0',
    'h264': 'x264enc byte-stream=true aud=true tune=zerolatency speed-preset=ultrafast intra-refresh=true '
            'key-int-max=3 ! video/x-h264,stream-format=byte-stream,alignment=au',
    'h265': 'x265enc tune=zerolatency speed-preset=ultrafast option-string=info=0 key-int-max=3 ! h265parse ! '
            'video/x-h265,stream-format=byte-stream,alignment=au',
}


def seed(codec, frames):
    out = bytes([CODECS.index(codec)])
    for f in frames:
        out += len(f).to_bytes(2, 'little') + f
    return out


def frames_of(pattern):
    files = sorted(glob.glob(pattern), key=lambda p: int(p.rsplit('-', 1)[1].split('.')[0]))
    return [open(f, 'rb').read() for f in files]


def main():
    os.makedirs(OUT, exist_ok=True)
    for codec in CODECS:
        frames = frames_of(os.path.join(SAMPLES, codec + '-[0-9].bin'))
        if frames:
            open(os.path.join(OUT, codec + '-sample'), 'wb').write(seed(codec, frames))
        # The 4:4:4 probes: SPS / colour config paths the 4:2:0 ones do not reach.
        frames = frames_of(os.path.join(SAMPLES, codec + '-444-[0-9].bin'))
        if frames:
            open(os.path.join(OUT, codec + '-444-sample'), 'wb').write(seed(codec, frames))
        with tempfile.TemporaryDirectory() as tmp:
            cmd = ('gst-launch-1.0 -q videotestsrc num-buffers=6 pattern=ball ! '
                   'video/x-raw,format=I420,width=96,height=64,framerate=30/1 ! %s ! multifilesink location=%s/f-%%d.bin'
                   % (ENCODERS[codec], tmp))
            if subprocess.run(cmd, shell=True).returncode != 0:
                print('make_corpus: no clip for', codec)
                continue
            clip = frames_of(os.path.join(tmp, 'f-*.bin'))
            if all(len(f) < 65536 for f in clip):
                open(os.path.join(OUT, codec + '-clip'), 'wb').write(seed(codec, clip))


if __name__ == '__main__':
    main()
