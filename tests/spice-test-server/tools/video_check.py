#!/usr/bin/env python3
"""Does libspice-server stream a video workload with a given codec to the reference client?

Starts saffron-test-server with a video workload (`video-moving` by default), `--streaming-video
all` and `--video-codecs CODEC`, shows it with remote-viewer (virt-viewer) under xvfb-run, both
with GLib debug output on, lets the workload run for a fixed number of frames and reads both
logs:

  server (spice-server debug)  "display_channel_create_stream: stream ID WxH (l, t) (r, b) F fps",
                               "GStreamer pipeline: ... ! ENCODER name=encoder ..." (no pipeline:
                               the built-in MJPEG encoder), "input-fps=N", "client report: ...
                               bw X/Y Mbps" (GStreamer encoders only)
  client (spice-gtk debug)     "display_handle_stream_create: id ID", the GStreamer decoder
                               element added to the stream's pipeline (none: spice-gtk's built-in
                               MJPEG decoder), one "video margin"/"too late" line per stream
                               frame received, "display_stream_stats_debug: ... #in-frames=N"
                               when the stream ends

spice-server only encodes with a codec the client advertises and silently falls back to its
built-in MJPEG encoder when a GStreamer encoder cannot be created, so the codec on the wire is
taken from the client's decoder, not from the request. The workload stops after --seconds; the
server then ends the stream (1 s without frames, RED_STREAM_TIMEOUT) and the client prints its
statistics. Exit status 0 when a stream of the requested codec arrived, 1 otherwise, 77 when
xvfb-run or remote-viewer is missing.

  tools/video_check.py BUILD/tests/spice-test-server/saffron-test-server --codec gstreamer:vp8 \\
      [--workload video-moving] [--size 640x480] [--fps 25] [--seconds 8] [--full-screen] \\
      [--video-fullscreen | --video-rect X,Y,W,H] [--log-dir DIR] [--json] [-- server options]

run_check() is the same as a function (returns a dict), for benches. Python standard library only.
"""

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

# GStreamer decoder elements spice-gtk's playbin may pick, by the codec they decode.
DECODERS = {
    "mjpeg": ("jpegdec", "avdec_mjpeg"),
    "vp8": ("vp8dec", "avdec_vp8", "vp8alphadecodebin"),
    "h264": ("avdec_h264", "openh264dec", "vah264dec", "vaapih264dec", "nvh264dec"),
    "vp9": ("vp9dec", "avdec_vp9", "vp9alphadecodebin"),
    "h265": ("avdec_h265", "libde265dec"),
}
# spice-server's GStreamer encoder element per codec (gstreamer-encoder.c).
ENCODERS = {"avenc_mjpeg": "mjpeg", "vp8enc": "vp8", "x264enc": "h264", "vp9enc": "vp9"}

GLIB_TIME = re.compile(r"(\d\d):(\d\d):(\d\d)\.(\d\d\d)")
SERVER_STREAM = re.compile(r"display_channel_create_stream: stream (\d+) (\d+)x(\d+) \((-?\d+), (-?\d+)\) "
                           r"\((-?\d+), (-?\d+)\) (\d+) fps")
CLIENT_STATS = re.compile(r"display_stream_stats_debug: id=(\d+) #in-frames=(\d+) out/in=([\d.]+) "
                          r"#drops-on-receive=(\d+) .*#drops-on-playback=(\d+)")


def glib_seconds(line):
    """Seconds since midnight of a GLib debug line's timestamp, or None."""
    m = GLIB_TIME.search(line)
    if not m:
        return None
    h, mi, s, ms = (int(g) for g in m.groups())
    return h * 3600 + mi * 60 + s + ms / 1000.0


def bytes_acked(port):
    """Bytes the server sent and had acknowledged on its sockets of `port` (iproute2 ss)."""
    try:
        out = subprocess.run(["ss", "-tinH", "state", "established", f"( sport = :{port} )"],
                             capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    return sum(int(tok.split(":", 1)[1]) for tok in out.split() if tok.startswith("bytes_acked:"))


class Server:
    """saffron-test-server on a free port, its stdout (and spice-server's debug) followed."""

    def __init__(self, binary, args, log_path):
        env = dict(os.environ, G_MESSAGES_DEBUG="all")
        self.log = open(log_path, "w")
        self.lines = []
        self.port = None
        self.frame = 0
        self.connected_frame = None
        self.connected_bytes = None
        self.ready = threading.Event()
        self.client = threading.Event()
        self.stream = threading.Event()
        self.proc = subprocess.Popen([binary, "--port", "0", "--no-stdin"] + args, env=env,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.thread = threading.Thread(target=self._follow, daemon=True)
        self.thread.start()

    def _follow(self):
        for line in self.proc.stdout:
            self.log.write(line)
            self.lines.append(line.rstrip("\n"))
            word, _, rest = line.strip().partition(" ")
            if word == "READY":
                m = re.search(r"\bport=(\d+)", rest)
                self.port = int(m.group(1)) if m else None
                self.ready.set()
            elif word == "FRAME":
                self.frame = int(rest)
            elif SERVER_STREAM.search(line):
                self.stream.set()
            elif line.startswith("DISPLAY client-connected") and self.connected_frame is None:
                self.connected_frame = self.frame
                self.connected_bytes = bytes_acked(self.port)
                self.client.set()
        self.log.close()
        self.ready.set()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)  # the server quits cleanly on SIGTERM
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.thread.join(5)


def parse_server(lines):
    out = {"streams": [], "encoder": None, "pipeline": None, "input_fps": [], "bandwidth_mbps": [],
           "warnings": [], "resized": [], "video_rect": None}
    for line in lines:
        m = SERVER_STREAM.search(line)
        if m:
            sid, w, h, left, top, right, bottom, fps = (int(g) for g in m.groups())
            out["streams"].append({"id": sid, "size": f"{w}x{h}", "dest": [left, top, right, bottom],
                                   "initial_fps": fps})
        elif "GStreamer pipeline:" in line:
            out["pipeline"] = line.split("GStreamer pipeline:", 1)[1].strip()
            for element, codec in ENCODERS.items():
                if re.search(r"!\s*" + element + r"\b", out["pipeline"]):
                    out["encoder"] = f"gstreamer:{codec} ({element})"
        elif "input-fps=" in line:
            out["input_fps"].append(int(line.rsplit("input-fps=", 1)[1].split()[0]))
        elif "client report:" in line and " bw " in line:
            # "bw X/Y Mbps": X the bandwidth the client measured, Y the server's estimate.
            out["bandwidth_mbps"].append(float(line.split(" bw ", 1)[1].split("/")[0]))
        elif line.startswith("RESIZED") and not line.endswith("unchanged"):
            out["resized"].append(line.split(" ", 1)[1])
        elif line.startswith("VIDEO "):
            out["video_rect"] = line.split("rect=", 1)[1].split()[0]
        elif "-WARNING" in line or "-CRITICAL" in line or "GStreamer error" in line:
            out["warnings"].append(line)
    return out


def parse_client(lines):
    out = {"streams": [], "decoders": [], "frames_received": 0, "late": 0, "stats": [], "warnings": [],
           "first_frame_s": None, "last_frame_s": None}
    for line in lines:
        if "display_handle_stream_create: id" in line:
            out["streams"].append(int(line.rsplit("id", 1)[1]))
        elif "A new element was added to Gstreamer's pipeline (" in line:
            element = line.rsplit("(", 1)[1].rstrip(")")
            if any(element in names for names in DECODERS.values()) and element not in out["decoders"]:
                out["decoders"].append(element)
        elif "video margin:" in line or "stream data too late" in line:
            out["frames_received"] += 1
            if "too late" in line:
                out["late"] += 1
            t = glib_seconds(line)
            if t is not None:
                out["first_frame_s"] = t if out["first_frame_s"] is None else out["first_frame_s"]
                out["last_frame_s"] = t
        elif "display_stream_stats_debug: id=" in line:
            m = CLIENT_STATS.search(line)
            if m:
                sid, frames, ratio, late, dropped = m.groups()
                out["stats"].append({"id": int(sid), "in_frames": int(frames), "out_in": float(ratio),
                                     "drops_on_receive": int(late), "drops_on_playback": int(dropped)})
        elif ("could not create" in line or "does not support" in line or "GStreamer error" in line
              or "-WARNING" in line or "-CRITICAL" in line):
            out["warnings"].append(line)
    return out


def run_check(server, codec, workload="video-moving", size="640x480", fps=25, seconds=8.0,
              full_screen=False, video_fullscreen=False, video_rect=None, extra_args=(),
              log_dir=None, remote_viewer="remote-viewer", connect_early=False):
    """One server + remote-viewer run; returns a dict of facts (see main() for the summary).

    Unless connect_early, remote-viewer starts once the server has created the stream: with a
    client attached, frames that are not yet streamed go out as lossless images, and when
    encoding one takes the worker more than 200 ms (1920x1080 on a slow machine) the gaps
    break spice-server's detection (RED_STREAM_DETECTION_MAX_DELTA) and no stream ever starts.
    The stream then reaches the client when it connects (spice-server creates the existing
    streams for each new display channel client)."""
    width, height = (int(v) for v in size.split("x"))
    frames = max(1, int(round(fps * seconds)))
    args = ["--workload", workload, "--size", size, "--fps", str(fps), "--frames", str(frames),
            "--streaming-video", "all", "--video-codecs", codec]
    if video_fullscreen:
        args.append("--video-fullscreen")
    if video_rect:
        args += ["--video-rect", video_rect]
    args += list(extra_args)
    tmp = None
    if log_dir is None:
        tmp = tempfile.TemporaryDirectory()
        log_dir = tmp.name
    os.makedirs(log_dir, exist_ok=True)
    tag = codec.replace(":", "-")
    server_log = os.path.join(log_dir, f"{tag}-server.log")
    client_log = os.path.join(log_dir, f"{tag}-remote-viewer.log")
    result = {"codec": codec, "workload": workload, "size": size, "fps": fps, "frames": frames,
              "connect": "early" if connect_early else "after-stream", "server_args": args, "server_log": server_log, "client_log": client_log}

    srv = Server(server, args, server_log)
    viewer = None
    try:
        if not srv.ready.wait(30) or srv.port is None:
            raise RuntimeError("the test server never printed READY")
        if not connect_early:
            # 20 frames make a stream (RED_STREAM_FRAMES_START_CONDITION); allow slow starts.
            if not srv.stream.wait(20 * 2.0 / fps + 20):
                raise RuntimeError("spice-server created no stream before the client connected")
            if frames - srv.frame < fps * 2:
                raise RuntimeError("too few frames left after the stream started: raise --seconds")
        # remote-viewer paints the guest 1:1 below its menu and tool bars; without a window
        # manager --full-screen still keeps a header bar, so the screen gets some slack.
        screen = f"{width}x{height}x24" if full_screen else f"{width + 64}x{height + 192}x24"
        cmd = ["xvfb-run", "-a", "-s", f"-screen 0 {screen} -nolisten tcp", remote_viewer]
        if full_screen:
            cmd.append("--full-screen")
        cmd.append(f"spice://127.0.0.1:{srv.port}")
        env = dict(os.environ, SPICE_DEBUG="1", G_MESSAGES_DEBUG="all", GDK_BACKEND="x11", NO_AT_BRIDGE="1")
        with open(client_log, "w") as log:
            # Its own process group: xvfb-run, Xvfb and remote-viewer are stopped together.
            viewer = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT,
                                      start_new_session=True)
        if not srv.client.wait(60):
            raise RuntimeError("remote-viewer never opened its display channel")
        deadline = time.monotonic() + seconds + 60
        while srv.frame < frames and time.monotonic() < deadline and srv.proc.poll() is None:
            time.sleep(0.1)
        end_bytes = bytes_acked(srv.port)
        # The stream times out one second after the last frame; the client then logs its stats.
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            with open(client_log, errors="replace") as f:
                if "display_stream_stats_debug" in f.read():
                    break
            time.sleep(0.2)
        time.sleep(0.3)
        result["frames_while_connected"] = srv.frame - (srv.connected_frame or 0)
        if srv.connected_bytes is not None and end_bytes is not None and end_bytes >= srv.connected_bytes:
            result["sent_mb"] = (end_bytes - srv.connected_bytes) / 1e6
    except RuntimeError as e:
        result["error"] = str(e)
    finally:
        if viewer is not None and viewer.poll() is None:
            os.killpg(viewer.pid, signal.SIGTERM)
            try:
                viewer.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(viewer.pid, signal.SIGKILL)
                viewer.wait()
        srv.stop()

    result["server"] = parse_server(srv.lines)
    with open(client_log, errors="replace") as f:
        result["client"] = parse_client(f.read().splitlines())
    client = result["client"]
    wire = None
    for codec_name, names in DECODERS.items():
        if any(d in names for d in client["decoders"]):
            wire = codec_name
    if wire is None and client["streams"]:
        wire = "mjpeg"  # spice-gtk decodes MJPEG itself, no GStreamer element
    result["wire_codec"] = wire
    if result["server"]["encoder"] is None and result["server"]["streams"] and client["streams"]:
        result["server"]["encoder"] = "spice:mjpeg (built-in)"
    span = (client["last_frame_s"] or 0) - (client["first_frame_s"] or 0)
    result["received_fps"] = (client["frames_received"] - 1) / span if span > 0 else None
    if "sent_mb" in result and span > 0:
        result["mbps"] = result["sent_mb"] * 8 / max(span, 1e-3)
    if srv.proc.returncode not in (0, None):
        result.setdefault("error", f"the test server exited with status {srv.proc.returncode}")
    wanted = [entry.split(":", 1)[-1] for entry in codec.split(";") if entry]
    result["ok"] = ("error" not in result and bool(client["streams"]) and wire in wanted
                    and client["frames_received"] > 0 and not result["server"]["resized"])
    if tmp is not None:
        result["server_log"] = result["client_log"] = None
        tmp.cleanup()
    return result


def summary(r):
    s, c = r["server"], r["client"]
    lines = [f"codec {r['codec']}: {'STREAMED' if r['ok'] else 'NOT STREAMED'} ({r['workload']} {r['size']} "
             f"at {r['fps']} fps, client connected {r['connect']})"
             + (f" ({r['error']})" if "error" in r else "")]
    for st in s["streams"]:
        lines.append(f"  server stream {st['id']}: {st['size']} at {st['dest']}, initial {st['initial_fps']} fps")
    lines.append(f"  server encoder: {s['encoder'] or 'none'}; input fps {s['input_fps'] or 'n/a'}")
    if s["bandwidth_mbps"]:
        bw = s["bandwidth_mbps"]
        lines.append(f"  client-reported bandwidth: {min(bw):.2f}..{max(bw):.2f} Mbps")
    lines.append(f"  client streams {c['streams']}, decoder {c['decoders'] or 'built-in'} -> wire codec "
                 f"{r['wire_codec']}")
    fps = f"{r['received_fps']:.1f}" if r.get("received_fps") else "n/a"
    lines.append(f"  frames: {r.get('frames_while_connected', 'n/a')} submitted while connected, "
                 f"{c['frames_received']} stream frames received ({c['late']} late), {fps} fps")
    for st in c["stats"]:
        lines.append(f"  client stats stream {st['id']}: in {st['in_frames']}, out/in {st['out_in']}, "
                     f"late {st['drops_on_receive']}, dropped on playback {st['drops_on_playback']}")
    if "sent_mb" in r:
        rate = f", {r['mbps']:.2f} Mbit/s" if "mbps" in r else ""
        lines.append(f"  bytes sent while connected: {r['sent_mb']:.2f} MB{rate}")
    if s["resized"]:
        lines.append(f"  the client resized the guest: {s['resized']}")
    # The same warning repeats every frame ("too slow to encode"): once each, with a count.
    counts = {}
    for w in s["warnings"] + c["warnings"]:
        text = GLIB_TIME.sub("", w.split(": ", 1)[-1]).strip(" :")
        counts[text] = counts.get(text, 0) + 1
    for text, n in list(counts.items())[:8]:
        lines.append(f"  warning ({n}x): {text[:200]}")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("server")
    parser.add_argument("--codec", action="append", required=True,
                        help="spice:mjpeg, gstreamer:mjpeg|vp8|h264|vp9 (repeat for several runs)")
    parser.add_argument("--workload", default="video-moving")
    parser.add_argument("--size", default="640x480")
    parser.add_argument("--fps", type=int, default=25)
    parser.add_argument("--seconds", type=float, default=8.0, help="length of the workload")
    parser.add_argument("--full-screen", action="store_true", help="remote-viewer --full-screen on a screen of the guest's size")
    parser.add_argument("--video-fullscreen", action="store_true")
    parser.add_argument("--video-rect")
    parser.add_argument("--connect-early", action="store_true",
                        help="start remote-viewer at once, not after the server created the stream")
    parser.add_argument("--log-dir", help="keep the server and client logs here")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    argv = sys.argv[1:]
    extra = argv[argv.index("--") + 1:] if "--" in argv else []
    args = parser.parse_args(argv[: argv.index("--")] if "--" in argv else argv)
    for tool in ("xvfb-run", "remote-viewer"):
        if shutil.which(tool) is None:
            print(f"SKIP: {tool} is not installed")
            return 77
    results = []
    for codec in args.codec:
        r = run_check(args.server, codec, args.workload, args.size, args.fps, args.seconds, args.full_screen,
                      args.video_fullscreen, args.video_rect, extra, args.log_dir,
                      connect_early=args.connect_early)
        results.append(r)
        if not args.json:
            print(summary(r), flush=True)
    if args.json:
        print(json.dumps(results, indent=2))
    return 0 if all(r["ok"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
