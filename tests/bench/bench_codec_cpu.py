#!/usr/bin/env python3
"""Whole-process CPU per frame: saffron-cli, remote-viewer and saffron, one image codec at a time.

For each codec (default: quic, then glz) and each client, the bench starts a fresh
saffron-test-server (libspice-server) with an animated workload (default `video` at 1920x1080:
the photo, then every 40 ms a new picture over the centre quarter), connects the client, waits
for the server to report the display client (`DISPLAY client-connected`) plus a warm-up, then
reads the client's utime+stime from /proc/PID/stat at the start and at the end of a fixed window
(default 10 s). The server prints `FRAME n` as it submits each frame to its QXL device; the frames
submitted inside the window are the common denominator for every client, whatever each client
draws or skips. spice-server drops a queued draw that a newer one covers before it encodes it,
so a client is not sent every frame; the second denominator, the bytes the server sent to the
client in the window (ss's bytes_acked on the server's sockets), counts what it really had to
decode. Figures: CPU ms per server frame and per MB sent, and the ratio ours / remote-viewer.

Clients:
  saffron-cli    `saffron-cli stats URI`: headless, decodes into its surface, paints nothing
  remote-viewer  virt-viewer's client, `--full-screen` on a private Xvfb of the guest's size
  saffron        Saffron's window, covering that screen (the fair comparison with remote-viewer)
Both windowed clients thus paint the guest 1:1, without scaling (remote-viewer below its header
bar); a run in which a client's agent resized the guest counts as failed.

Python standard library only. Never asserts a time: exits 0 when every client ran through its
window, 1 when one died or never connected, 77 when the test server is missing. Windowed
clients are left out (and said so) when Xvfb or remote-viewer is not installed.
"""

import argparse
import ctypes
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time

CLK_TCK = os.sysconf("SC_CLK_TCK")
PR_SET_PDEATHSIG = 1


def die_with_parent():
    # preexec_fn: the child gets SIGKILL when the bench dies, even by SIGKILL (ctest timeout).
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except OSError:
        pass


class Processes:
    """Every child the bench starts, stopped on the way out (finally, SIGTERM, SIGINT)."""

    def __init__(self):
        self.procs = []

    def start(self, args, **kw):
        p = subprocess.Popen(args, preexec_fn=die_with_parent, **kw)
        self.procs.append(p)
        return p

    def stop(self, p, grace=3.0):
        if p.poll() is None:
            p.terminate()
            try:
                p.wait(grace)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        if p in self.procs:
            self.procs.remove(p)

    def stop_all(self):
        for p in reversed(list(self.procs)):
            self.stop(p, grace=1.0)


def cpu_ticks(pid):
    """utime + stime of the whole process (all threads), in clock ticks."""
    with open(f"/proc/{pid}/stat") as f:
        stat = f.read()
    # The command name (field 2) may hold spaces: count fields after its closing parenthesis.
    fields = stat[stat.rindex(")") + 2:].split()
    return int(fields[11]) + int(fields[12])  # fields 14 and 15 of proc(5)


def bytes_sent(port):
    """Bytes the server has sent and had acknowledged on its connections from `port` (the sum of
    tcp_info bytes_acked, via iproute2's ss): the same measure whichever client reads them
    (glib's recv() and Qt's read() alike). None without ss."""
    try:
        out = subprocess.run(["ss", "-tinH", "state", "established", f"( sport = :{port} )"],
                             capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    return sum(int(tok.split(":")[1]) for tok in out.split() if tok.startswith("bytes_acked:"))


def rss_kib(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


class TestServer:
    """saffron-test-server on a free port; a thread follows its stdout (also for bench_audio)."""

    def __init__(self, procs, binary, server_args, log_path):
        self.frame = 0
        self.ready = threading.Event()
        self.client = threading.Event()
        self.port = None
        self.resized = []  # sizes the client's agent made the guest take
        self.markers = []  # --audio-playback marker: CLOCK_MONOTONIC ns of each click put
        self.log = open(log_path, "w")
        self.proc = procs.start([binary, "--port", "0", "--no-stdin"] + server_args,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.thread = threading.Thread(target=self._follow, daemon=True)
        self.thread.start()
        if not self.ready.wait(15):
            raise RuntimeError("test server never printed READY")

    def _follow(self):
        for line in self.proc.stdout:
            self.log.write(line)
            word, _, rest = line.strip().partition(" ")
            if word == "READY":
                for kv in rest.split():
                    if kv.startswith("port="):
                        self.port = int(kv[5:])
                self.ready.set()
            elif word == "FRAME":
                self.frame = int(rest)
            elif word == "RESIZED" and not rest.endswith("unchanged"):
                self.resized.append(rest)
            elif word == "MARKER":
                self.markers.append(int(rest.split("t_ns=")[1].split()[0]))
            elif line.startswith("DISPLAY client-connected"):
                self.client.set()
        self.log.close()


class Xvfb:
    def __init__(self, procs, screen):
        # -displayfd: Xvfb picks a free display number and writes it to the pipe when ready.
        r, w = os.pipe()
        self.proc = procs.start(["Xvfb", "-displayfd", str(w), "-screen", "0", screen,
                                 "-nolisten", "tcp", "-noreset"],
                                pass_fds=(w,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(w)
        with os.fdopen(r) as f:
            number = f.readline().strip()
        if not number:
            raise RuntimeError("Xvfb did not start")
        self.display = ":" + number


def client_command(args, client, uri, xvfb, seconds):
    """(argv, environment) that starts `client` on `uri`: saffron-cli measuring for `seconds`,
    the windowed ones on `xvfb`."""
    env = dict(os.environ)
    if client == "saffron-cli":
        return [args.saffron_cli, "stats", uri, "--seconds", str(seconds), "--timeout", str(seconds + 30)], env
    env.update(DISPLAY=xvfb.display, GDK_BACKEND="x11", QT_QPA_PLATFORM="xcb", NO_AT_BRIDGE="1")
    # Both windows get a screen of the guest's size, so each paints the guest 1:1 and asks the
    # agent for the size the guest already has. Without a window manager neither can truly go
    # full screen: remote-viewer --full-screen still shows its header bar (the guest below it,
    # its bottom rows off-screen, checked with xwd), and Qt's full screen does nothing, so
    # saffron gets Qt's own -qwindowgeometry instead.
    if client == "remote-viewer":
        return [args.remote_viewer, "--full-screen", uri], env
    return [args.saffron, "-qwindowgeometry", args.size + "+0+0", uri], env


def measure(args, procs, codec, client, xvfb, out_dir):
    """One client against a fresh server; returns a dict of figures."""
    server_args = ["--workload", args.workload, "--size", args.size, "--image-compression", codec] + args.server_arg
    server = TestServer(procs, args.server, server_args, os.path.join(out_dir, f"{codec}-{client}-server.log"))
    uri = f"spice://127.0.0.1:{server.port}"
    # Longer than the bench can take: the bench stops the client after the window.
    cmd, env = client_command(args, client, uri, xvfb, int(args.warmup + args.window + 60))
    log_path = os.path.join(out_dir, f"{codec}-{client}.log")
    with open(log_path, "w") as log:
        proc = procs.start(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
    result = {"codec": codec, "client": client, "command": " ".join(cmd)}
    try:
        if not server.client.wait(30):
            raise RuntimeError("the client never opened its display channel")
        connected = server.frame
        time.sleep(args.warmup)
        # The first, full-screen frame costs the server and the client far more than the
        # others: keep it out of the window on a slow machine too.
        deadline = time.monotonic() + 30
        while server.frame < connected + args.min_frames and time.monotonic() < deadline:
            time.sleep(0.1)
        if proc.poll() is not None:
            raise RuntimeError(f"exited early ({proc.returncode})")
        t0, c0, f0 = time.monotonic(), cpu_ticks(proc.pid), server.frame
        b0 = bytes_sent(server.port)
        s0 = cpu_ticks(server.proc.pid)
        time.sleep(args.window)
        if proc.poll() is not None:
            raise RuntimeError(f"exited inside the window ({proc.returncode})")
        t1, c1, f1 = time.monotonic(), cpu_ticks(proc.pid), server.frame
        b1 = bytes_sent(server.port)
        s1 = cpu_ticks(server.proc.pid)
        if server.resized:
            raise RuntimeError(f"the client resized the guest to {', '.join(server.resized)}")
        result.update(window_s=t1 - t0, frames=f1 - f0, cpu_ms=(c1 - c0) * 1000.0 / CLK_TCK,
                      server_cpu_ms=(s1 - s0) * 1000.0 / CLK_TCK, rss_kib=rss_kib(proc.pid),
                      sent_mb=(b1 - b0) / 1e6 if b0 is not None and b1 is not None else 0.0)
        result["ms_per_frame"] = result["cpu_ms"] / result["frames"] if result["frames"] else None
        result["ms_per_mb"] = result["cpu_ms"] / result["sent_mb"] if result["sent_mb"] > 0.01 else None
    except RuntimeError as e:
        result["error"] = str(e)
    finally:
        procs.stop(proc)
        procs.stop(server.proc)
    return result


def fmt(ms):
    return "n/a" if ms is None else f"{ms:.2f}"


def add_client_arguments(ap):
    """The binaries every whole-process bench compares: the test server and the three clients."""
    ap.add_argument("--server", required=True, help="saffron-test-server binary")
    ap.add_argument("--saffron-cli", required=True)
    ap.add_argument("--saffron", help="Saffron's windowed client (left out when not given)")
    ap.add_argument("--remote-viewer", default=shutil.which("remote-viewer"))


def windowed_clients(args, order=("remote-viewer", "saffron")):
    """The windowed clients that can run here, in `order`; says which are left out and why."""
    if not shutil.which("Xvfb"):
        print("note: no Xvfb (Debian: xvfb): windowed clients left out")
        return []
    if not args.remote_viewer:
        print("note: no remote-viewer (Debian: virt-viewer): left out")
    present = {"remote-viewer": bool(args.remote_viewer), "saffron": bool(args.saffron)}
    return [c for c in order if present[c]]


def exit_on_signals():
    """SIGTERM and SIGINT end the bench through SystemExit, so its `finally` stops every child."""

    def on_signal(signum, _frame):
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_client_arguments(ap)
    ap.add_argument("--codecs", default="quic,glz", help="--image-compression values, comma-separated")
    ap.add_argument("--workload", default="video")
    ap.add_argument("--server-arg", action="append", default=[],
                    help="extra saffron-test-server argument (repeat), e.g. for video streams: "
                         "--server-arg=--streaming-video --server-arg=all --server-arg=--video-codecs "
                         "--server-arg=gstreamer:h264 --server-arg=--video-fullscreen")
    ap.add_argument("--size", default="1920x1080")
    ap.add_argument("--window", type=float, default=10.0, help="measured seconds")
    ap.add_argument("--warmup", type=float, default=3.0,
                    help="seconds between the display connection and the window")
    ap.add_argument("--min-frames", type=int, default=5,
                    help="server frames after the connection before the window starts (besides --warmup)")
    ap.add_argument("--out", default="codec-cpu", help="folder for logs and results.json")
    ap.add_argument("--note", default="", help="printed with the results (build type...)")
    args = ap.parse_args()

    if not os.access(args.server, os.X_OK):
        print(f"SKIP: no test server at {args.server}")
        return 77
    os.makedirs(args.out, exist_ok=True)
    windowed = windowed_clients(args)
    clients = ["saffron-cli"] + windowed

    procs = Processes()
    exit_on_signals()
    results = []
    try:
        xvfb = Xvfb(procs, args.size + "x24") if windowed else None
        for codec in args.codecs.split(","):
            for client in clients:
                r = measure(args, procs, codec, client, xvfb, args.out)
                results.append(r)
                if "error" in r:
                    print(f"{codec.upper()} {client}: FAILED: {r['error']}", flush=True)
                else:
                    print(f"  {codec.upper():5} {client:13} {r['cpu_ms']:6.0f} ms CPU in {r['window_s']:.1f} s:"
                          f" {r['frames']:4} server frames = {fmt(r['ms_per_frame'])} ms/frame;"
                          f" server sent {r['sent_mb']:6.1f} MB = {fmt(r['ms_per_mb'])} ms/MB"
                          f" (RSS {r['rss_kib'] / 1024:.0f} MiB, server {r['server_cpu_ms']:.0f} ms CPU)",
                          flush=True)
    finally:
        procs.stop_all()

    with open(os.path.join(args.out, "results.json"), "w") as f:
        json.dump({"args": vars(args), "results": results}, f, indent=1)

    print(f"\nCPU ms per server frame, then per MB the server sent ({args.workload} {args.size}, {args.window:.0f} s window"
          f"{', ' + args.note if args.note else ''});"
          " saffron-cli is headless, remote-viewer and saffron are windowed (Xvfb):")
    for key, unit in (("ms_per_frame", "ms/frame"), ("ms_per_mb", "ms/MB")):
        by = {(r["codec"], r["client"]): r.get(key) for r in results}
        for codec in args.codecs.split(","):
            cli, rv, sw = by.get((codec, "saffron-cli")), by.get((codec, "remote-viewer")), by.get((codec, "saffron"))
            line = f"{codec.upper()}: saffron-cli {fmt(cli)} {unit} (headless)"
            if "remote-viewer" in clients:
                line += f" | remote-viewer {fmt(rv)} {unit} (windowed)"
                line += f" | ratio {cli / rv:.2f}" if cli and rv else " | ratio n/a"
            if "saffron" in clients:
                line += f" | saffron {fmt(sw)} {unit} (windowed)"
                line += f" | ratio {sw / rv:.2f}" if sw and rv else " | ratio n/a"
            print(line)
    return 1 if any("error" in r for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
