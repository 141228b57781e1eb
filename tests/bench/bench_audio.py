#!/usr/bin/env python3
"""Audio playback latency and CPU per second of audio: saffron-cli against remote-viewer.

One saffron-test-server workload for every client: `--audio-playback marker`, silence with a
3 ms click every second (latencies up to 950 ms are told apart), through libspice-server's playback channel (Opus unless --raw). The
server prints `MARKER n frame=F t_ns=T put_us=P` when it hands the frame holding a click to
spice_server_playback_put_samples, T on CLOCK_MONOTONIC. Each client plays into the null sink
`test-sink` of a private PipeWire (pipewire + wireplumber, plus pipewire-pulse for
remote-viewer, whose spice-gtk plays through GStreamer's pulsesink); `pw-record` captures the
sink's monitor, and every read of its output is stamped with time.monotonic_ns() (the same
clock). A least-squares line through (frames read, time) gives the capture's frame clock, the
lower envelope of the residuals the reads with the least scheduling delay, so each click onset
gets the time it left the sink's graph. Latency = that time - the server's submission time: it
includes the network, the client, PipeWire's graph and the monitor capture's own quantum.

CPU: the client's utime+stime (/proc/PID/stat) over the window, per second of audio played
(the window's length: the stream never stops, silence is audio too).

Clients:
  saffron-cli    `saffron-cli stats URI`: headless; plays through PipeWire (pw_stream)
  remote-viewer  virt-viewer's client on a private Xvfb; GStreamer -> PulseAudio (pipewire-pulse)

Python standard library only. Never asserts a time: exits 0 when every client gave figures,
1 when one failed, 77 when a tool it needs is missing (pipewire, wireplumber, pw-record,
dbus-daemon, the test server, saffron-cli).
"""

import argparse
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

# Process handling, CPU ticks, the test server and Xvfb are bench_codec_cpu.py's, as bench_shell borrows
# bench_first_frame's.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_codec_cpu import CLK_TCK, Processes, TestServer, Xvfb, cpu_ticks  # noqa: E402

RATE = 48000
SKIP = 77


def wait_for(path, seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if os.path.exists(path):
            return True
        time.sleep(0.05)
    return False


class PipeWire:
    """A private dbus + pipewire + wireplumber (+ pipewire-pulse) with a null sink test-sink."""

    def __init__(self, procs, out_dir):
        self.dir = tempfile.mkdtemp(prefix="saffron-bench-pw-")
        os.chmod(self.dir, 0o700)
        for sub in ("state", "config"):
            os.makedirs(os.path.join(self.dir, sub))
        bus = f"unix:path={self.dir}/bus"
        env = dict(os.environ)
        env.update(XDG_RUNTIME_DIR=self.dir, PIPEWIRE_RUNTIME_DIR=self.dir, DBUS_SESSION_BUS_ADDRESS=bus,
                   XDG_STATE_HOME=self.dir + "/state", XDG_CONFIG_HOME=self.dir + "/config")
        env.pop("PIPEWIRE_REMOTE", None)
        env.pop("PULSE_SERVER", None)
        self.env = env

        def log(name):
            return open(os.path.join(out_dir, name), "w")

        procs.start(["dbus-daemon", "--session", "--nofork", "--address=" + bus], env=env,
                    stdout=log("dbus.log"), stderr=subprocess.STDOUT)
        if not wait_for(self.dir + "/bus", 5):
            raise RuntimeError("dbus-daemon did not start")
        procs.start(["pipewire"], env=env, stdout=log("pipewire.log"), stderr=subprocess.STDOUT)
        if not wait_for(self.dir + "/pipewire-0", 5):
            raise RuntimeError("pipewire did not start")
        procs.start(["wireplumber"], env=env, stdout=log("wireplumber.log"), stderr=subprocess.STDOUT)
        self.pulse = bool(shutil.which("pipewire-pulse"))
        if self.pulse:
            procs.start(["pipewire-pulse"], env=env, stdout=log("pipewire-pulse.log"), stderr=subprocess.STDOUT)
            if not wait_for(self.dir + "/pulse/native", 5):
                self.pulse = False
        subprocess.run(["pw-cli", "create-node", "adapter",
                        "{ factory.name=support.null-audio-sink node.name=test-sink media.class=Audio/Sink "
                        "object.linger=true audio.position=[FL FR] audio.rate=48000 }"],
                       env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=10, check=True)
        time.sleep(1.0)  # WirePlumber makes it the default sink


class MonitorCapture:
    """pw-record of test-sink's monitor; each read stamped on CLOCK_MONOTONIC."""

    def __init__(self, procs, pw):
        self.proc = procs.start(["pw-record", "--target", "test-sink", "--rate", str(RATE), "--channels", "1",
                                 "--format", "s16", "--latency", "256", "-P", "{ stream.capture.sink=true }",
                                 "-"], env=pw.env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self.lock = threading.Lock()
        self.left = bytearray()  # s16le mono
        self.reads = []  # (frames after this read, t_ns)
        threading.Thread(target=self.run, daemon=True).start()

    def run(self):
        # pw-record writes raw s16le on a pipe ('-'), no header; mono: PipeWire downmixes the
        # stereo monitor, and the bench does not spend CPU splitting channels.
        fd = self.proc.stdout.fileno()
        frames = 0
        odd = b""
        while True:
            chunk = os.read(fd, 65536)
            now = time.monotonic_ns()
            if not chunk:
                return
            chunk = odd + chunk
            usable = len(chunk) - len(chunk) % 2
            odd = chunk[usable:]
            with self.lock:
                self.left += chunk[:usable]
                frames += usable // 2
                self.reads.append((frames, now))

    def snapshot(self):
        with self.lock:
            return bytes(self.left), list(self.reads)


def frame_clock(reads):
    n = len(reads)
    if n < 10:
        return None
    t0 = reads[0][1]
    xs = [r[0] for r in reads]
    ys = [r[1] - t0 for r in reads]
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sxx
    lowest = min(y - x * slope for x, y in zip(xs, ys))
    return lambda frame: t0 + lowest + frame * slope


def click_onsets(left, threshold):
    """Frame indices where a click starts: a sample over threshold after 100 ms of quiet."""
    samples = memoryview(left).cast("h")
    onsets, quiet = [], 0
    for i, v in enumerate(samples):
        if v >= threshold or v <= -threshold:
            if quiet >= RATE // 10:
                onsets.append(i)
            quiet = 0
        else:
            quiet += 1
    return onsets


def measure(args, procs, pw, xvfb, client, out_dir):
    server_args = ["--audio-playback", "marker", "--audio-marker-ms", "1000", "--audio-amplitude", "0.5",
                   "--audio-opus", "off" if args.raw else "on"]
    server = TestServer(procs, args.server, server_args, os.path.join(out_dir, f"{client}-server.log"))
    uri = f"spice://127.0.0.1:{server.port}"
    env = dict(pw.env)
    if client == "saffron-cli":
        seconds = int(args.warmup + args.window + 30)
        cmd = [args.saffron_cli, "stats", uri, "--seconds", str(seconds), "--timeout", str(seconds + 30)]
    else:
        env.update(DISPLAY=xvfb.display, GDK_BACKEND="x11", NO_AT_BRIDGE="1")
        cmd = [args.remote_viewer, uri]
    capture = MonitorCapture(procs, pw)
    with open(os.path.join(out_dir, f"{client}.log"), "w") as log:
        proc = procs.start(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
    result = {"client": client}
    try:
        time.sleep(args.warmup)
        if proc.poll() is not None:
            raise RuntimeError(f"exited early ({proc.returncode})")
        t0, c0 = time.monotonic(), cpu_ticks(proc.pid)
        start_ns = time.monotonic_ns()
        time.sleep(args.window)
        if proc.poll() is not None:
            raise RuntimeError(f"exited inside the window ({proc.returncode})")
        t1, c1 = time.monotonic(), cpu_ticks(proc.pid)
        left, reads = capture.snapshot()
        clock = frame_clock(reads)
        if clock is None:
            raise RuntimeError("the monitor capture delivered nothing")
        markers = sorted(server.markers)  # appended by the server's reader thread
        latencies = []
        for onset in click_onsets(left, int(0.25 * 0.5 * 32767)):
            t = clock(onset)
            if t < start_ns:
                continue
            before = [m for m in markers if m <= t]
            if before and t - before[-1] < 950e6:
                latencies.append((t - before[-1]) / 1e6)
        if len(latencies) < args.window / 2:  # one click a second: at least half of them
            raise RuntimeError(f"only {len(latencies)} clicks reached the sink")
        latencies.sort()
        result.update(window_s=t1 - t0, cpu_ms=(c1 - c0) * 1000.0 / CLK_TCK, clicks=len(latencies),
                      lat_median=statistics.median(latencies), lat_min=latencies[0],
                      lat_p90=latencies[int(0.9 * (len(latencies) - 1))])
        result["cpu_ms_per_s"] = result["cpu_ms"] / result["window_s"]
    except RuntimeError as e:
        result["error"] = str(e)
    finally:
        procs.stop(proc)
        procs.stop(capture.proc)
        procs.stop(server.proc)
    return result


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--server", required=True, help="saffron-test-server binary")
    ap.add_argument("--saffron-cli", required=True)
    ap.add_argument("--remote-viewer", default=shutil.which("remote-viewer"))
    ap.add_argument("--window", type=float, default=20, help="seconds measured per client")
    ap.add_argument("--warmup", type=float, default=4)
    ap.add_argument("--raw", action="store_true", help="raw PCM instead of Opus")
    ap.add_argument("--out", default="bench-audio")
    ap.add_argument("--note", default="")
    args = ap.parse_args()

    missing = [t for t in ("pipewire", "wireplumber", "pw-record", "pw-cli", "dbus-daemon") if not shutil.which(t)]
    for path in (args.server, args.saffron_cli):
        if not (path and os.access(path, os.X_OK)):
            missing.append(path)
    if missing:
        print("SKIP: missing " + ", ".join(missing))
        return SKIP
    os.makedirs(args.out, exist_ok=True)
    procs = Processes()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    results = []
    try:
        pw = PipeWire(procs, args.out)
        clients = ["saffron-cli"]
        xvfb = None
        if not args.remote_viewer or not shutil.which("Xvfb"):
            print("remote-viewer or Xvfb not installed: remote-viewer left out")
        elif not pw.pulse:
            print("pipewire-pulse not installed (Debian: pipewire-pulse): remote-viewer would play nowhere, "
                  "left out")
        else:
            xvfb = Xvfb(procs, "1024x768x24")
            clients.append("remote-viewer")
        for client in clients:
            results.append(measure(args, procs, pw, xvfb, client, args.out))
    finally:
        procs.stop_all()

    mode = "raw PCM" if args.raw else "Opus"
    print(f"Audio playback, marker clicks every second ({mode}, 48 kHz stereo), {args.window:.0f} s window. {args.note}")
    print("latency = server put_samples -> click leaving the null sink (monitor capture, CLOCK_MONOTONIC)")
    by = {r["client"]: r for r in results}
    rv = by.get("remote-viewer")
    failed = False
    for r in results:
        if "error" in r:
            print(f"  {r['client']:14s} FAILED: {r['error']}")
            failed = True
            continue
        line = (f"  {r['client']:14s} latency median {r['lat_median']:6.1f} ms (min {r['lat_min']:.1f}, "
                f"p90 {r['lat_p90']:.1f}, {r['clicks']} clicks), CPU {r['cpu_ms_per_s']:6.1f} ms per s of audio")
        if rv and "error" not in rv and r is not rv:
            line += (f"  | vs remote-viewer: latency x{r['lat_median'] / rv['lat_median']:.2f}, "
                     f"CPU x{r['cpu_ms_per_s'] / rv['cpu_ms_per_s']:.2f}")
        print(line)
    print("goal (issue 5): at most 40 ms added latency, at most half of remote-viewer's")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
