#!/usr/bin/env python3
"""First-frame latency and peak memory: saffron vs remote-viewer, same server, same workload.

One QEMU (SeaBIOS on a qxl card, SPICE without a ticket) is started and left alone until its
screen shows the final "No bootable device." text. Then, N times, interleaved:

  saffron        the demo window, on a fresh Xvfb display
  remote-viewer  the reference client (virt-viewer), on a fresh Xvfb display
  saffron-cli    headless: `info --json` (timing) and `screenshot` (memory, PNG)

A windowed client has its first frame "on screen" at the first poll of the X root window
(GetImage of the top-left --region, every --poll-ms) that shows at least a third as many BIOS
text pixels (light grey next to black) as the server's own QMP screendump has. Both windowed
clients are judged by exactly this test, so the poll interval is the same error for both.
Memory is VmHWM (peak RSS) from /proc/PID/status, read --hold-ms after the first frame, for
both windowed clients; for saffron-cli it is the ru_maxrss of `screenshot` (wait4).

Standard library only. Prints a table of medians and ratios (ours / remote-viewer); it never
asserts a time. Exit status: 0 when every client produced a frame every time, 1 when one did
not, 77 (ctest SKIP_RETURN_CODE) when a needed program is missing.
"""

import argparse
import ctypes
import json
import os
import re
import shutil
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import time
import zlib

SKIP = 77

# ---------------------------------------------------------------------------------------------
# Process bookkeeping: everything we start is killed on the way out, whatever the way out is.

_children = []  # Popen objects, newest last


def _die_with_parent():
    # Runs in the child between fork and exec. PR_SET_PDEATHSIG (1) = SIGKILL: if this script is
    # itself killed with SIGKILL (ctest timeout), QEMU, Xvfb and the clients still go.
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL, 0, 0, 0)
    except Exception:
        pass


def spawn(argv, env=None, **kw):
    p = subprocess.Popen(argv, env=env, preexec_fn=_die_with_parent, **kw)
    _children.append(p)
    return p


def start_session_bus(workdir):
    """Starts a private D-Bus session bus and points this process's environment (inherited by
    every client) at it; returns its address, or None without dbus-daemon. A desktop session has
    one and so has the appliance (user@.service's dbus.socket); on a bare Xvfb without it
    libdbus (Qt's accessibility bridge) and GIO autolaunch dbus-launch, forking the whole client
    on its way to the first frame, which no real session pays. Like the appliance's, the bus
    activates no services (no at-spi accessibility bus behind a client's back)."""
    daemon = shutil.which("dbus-daemon")
    if not daemon:
        return None
    config = os.path.join(workdir, "session-bus.conf")
    with open(config, "w") as f:
        f.write('<busconfig><type>session</type><listen>unix:tmpdir=%s</listen><auth>EXTERNAL</auth>'
                '<policy context="default"><allow send_destination="*" eavesdrop="true"/>'
                '<allow eavesdrop="true"/><allow own="*"/></policy></busconfig>\n' % workdir)
    p = spawn([daemon, "--config-file=" + config, "--nofork", "--nopidfile", "--print-address=1"],
              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    address = p.stdout.readline().decode().strip()
    if not address:
        return None
    os.environ["DBUS_SESSION_BUS_ADDRESS"] = address
    return address


def stop(p, grace=3.0):
    """SIGTERM, then SIGKILL after grace seconds. Returns (exit code, ru_maxrss KiB or 0)."""
    if p.returncode is not None:
        return p.returncode, 0
    try:
        p.send_signal(signal.SIGTERM)
    except ProcessLookupError:
        pass
    deadline = time.monotonic() + grace
    while True:
        pid, status, ru = os.wait4(p.pid, os.WNOHANG)
        if pid == p.pid:
            p.returncode = os.waitstatus_to_exitcode(status)
            return p.returncode, ru.ru_maxrss
        if time.monotonic() > deadline:
            p.kill()
            _, status, ru = os.wait4(p.pid, 0)
            p.returncode = os.waitstatus_to_exitcode(status)
            return p.returncode, ru.ru_maxrss
        time.sleep(0.02)


def stop_all():
    for p in reversed(_children):
        try:
            stop(p, grace=2.0)
        except ChildProcessError:
            pass
    _children.clear()


def _on_signal(signum, _frame):
    raise SystemExit(128 + signum)


# ---------------------------------------------------------------------------------------------
# Pixels. The test for "BIOS text on screen" counts text pixels: light grey pixels (all channels
# in [0x50, 0xd8]; SeaBIOS text is VGA light grey, 0xa8a8a8 in QEMU's screendump, and scaling
# blurs glyph edges to darker greys) with a pure black pixel at most TEXT_REACH columns away.
# The black neighbour keeps out window chrome (remote-viewer's header bar is grey text on dark
# grey) while scaled glyphs on the guest's black background still count.

LIGHT_LO, LIGHT_HI, BLACK_HI = 0x50, 0xD8, 0x08
TEXT_REACH = 3
_LIGHT = bytes(1 if LIGHT_LO <= v <= LIGHT_HI else 0 for v in range(256))
_BLACK = bytes(1 if v <= BLACK_HI else 0 for v in range(256))


def count_text_pixels(bgrx):
    """Text pixels in 32-bit little-endian BGRX data (the pad byte is ignored). One byte per
    pixel in big integers: AND across channels, shifts by 8 bits per column of reach."""

    def mask(table):
        m = -1
        for channel in (0, 1, 2):
            m &= int.from_bytes(bgrx[channel::4].translate(table), "little")
        return m

    light, black = mask(_LIGHT), mask(_BLACK)
    near = black
    for k in range(1, TEXT_REACH + 1):
        near |= (black << (8 * k)) | (black >> (8 * k))
    return (light & near).bit_count()


def read_ppm(path):
    with open(path, "rb") as f:
        data = f.read()
    m = re.match(rb"P6\s+(\d+)\s+(\d+)\s+(\d+)\s", data)
    if not m:
        raise RuntimeError("%s: not a binary PPM" % path)
    w, h = int(m.group(1)), int(m.group(2))
    rgb = data[m.end() : m.end() + w * h * 3]
    if len(rgb) != w * h * 3:
        raise RuntimeError("%s: short PPM" % path)
    return w, h, rgb


def rgb_to_bgrx(rgb):
    n = len(rgb) // 3
    out = bytearray(n * 4)
    out[0::4], out[1::4], out[2::4] = rgb[2::3], rgb[1::3], rgb[0::3]
    return bytes(out)


def write_png(path, w, h, bgrx):
    rows = bytearray()
    stride = w * 4
    for y in range(h):
        row = bgrx[y * stride : (y + 1) * stride]
        rgb = bytearray(w * 3)
        rgb[0::3], rgb[1::3], rgb[2::3] = row[2::4], row[1::4], row[0::4]
        rows.append(0)
        rows += rgb

    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n")
        f.write(chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)))
        f.write(chunk(b"IDAT", zlib.compress(bytes(rows), 1)))
        f.write(chunk(b"IEND", b""))


# ---------------------------------------------------------------------------------------------
# A minimal X11 client (core protocol over the local socket): connection setup and GetImage of
# the root window. Cheaper than spawning xwd every 20 ms and independent of xwd's multi-visual
# code path, which reads ARGB windows separately.


class XDisplay:
    def __init__(self, number, timeout=10.0):
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.settimeout(timeout)
        self.sock.connect("/tmp/.X11-unix/X%d" % number)
        # 'l' = little-endian, protocol 11.0, no authorisation (Xvfb started without -auth).
        self.sock.sendall(b"l\x00" + struct.pack("<HHHHxx", 11, 0, 0, 0))
        head = self._recv(8)
        extra = self._recv(struct.unpack("<H", head[6:8])[0] * 4)
        if head[0] != 1:
            raise RuntimeError("X connection refused: %r" % extra[: head[1]])
        vendor_len = struct.unpack("<H", extra[16:18])[0]
        formats = extra[21]
        screen = 32 + vendor_len + (-vendor_len % 4) + 8 * formats
        self.root = struct.unpack("<I", extra[screen : screen + 4])[0]
        self.width, self.height = struct.unpack("<HH", extra[screen + 20 : screen + 24])
        self.depth = extra[screen + 38]

    def _recv(self, n):
        buf = bytearray(n)
        view = memoryview(buf)
        got = 0
        while got < n:
            k = self.sock.recv_into(view[got:], n - got)
            if k == 0:
                raise RuntimeError("X server closed the connection")
            got += k
        return buf

    def grab(self, width=None, height=None):
        """The top-left width x height of the root window (default all) as 32-bit BGRX (depth 24
        on Xvfb): what is on screen, windows included."""
        width, height = min(width or self.width, self.width), min(height or self.height, self.height)
        self.sock.sendall(struct.pack("<BBHIhhHHI", 73, 2, 5, self.root, 0, 0, width, height, 0xFFFFFFFF))
        reply = self._recv(32)
        if reply[0] == 0:
            raise RuntimeError("X error %d on GetImage" % reply[1])
        return bytes(self._recv(struct.unpack("<I", reply[4:8])[0] * 4))

    def close(self):
        self.sock.close()


def start_xvfb(xvfb, geometry):
    """A fresh Xvfb; -displayfd lets it pick a free display number without races."""
    rfd, wfd = os.pipe()
    p = spawn(
        [xvfb, "-displayfd", str(wfd), "-screen", "0", geometry + "x24", "-nolisten", "tcp", "-br", "-noreset"],
        pass_fds=(wfd,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(wfd)
    data = b""
    deadline = time.monotonic() + 15
    while not data.endswith(b"\n"):
        if time.monotonic() > deadline or p.poll() is not None:
            os.close(rfd)
            raise RuntimeError("Xvfb did not start")
        chunk = os.read(rfd, 16)
        if not chunk:
            break
        data += chunk
    os.close(rfd)
    number = int(data.strip())
    for _ in range(200):
        try:
            return p, number, XDisplay(number)
        except OSError:
            time.sleep(0.02)
    raise RuntimeError("cannot connect to Xvfb :%d" % number)


# ---------------------------------------------------------------------------------------------
# QEMU + QMP


class Qmp:
    def __init__(self, path, timeout=20.0):
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.sock = socket.socket(socket.AF_UNIX)
                self.sock.connect(path)
                break
            except OSError:
                self.sock.close()
                if time.monotonic() > deadline:
                    raise RuntimeError("no QMP socket at %s" % path)
                time.sleep(0.02)
        self.sock.settimeout(timeout)
        self.f = self.sock.makefile("rwb")
        json.loads(self.f.readline())  # greeting
        self.cmd("qmp_capabilities")

    def cmd(self, name, **args):
        msg = {"execute": name}
        if args:
            msg["arguments"] = args
        self.f.write(json.dumps(msg).encode() + b"\n")
        self.f.flush()
        while True:
            line = self.f.readline()
            if not line:
                raise RuntimeError("QMP closed")
            reply = json.loads(line)
            if "error" in reply:
                raise RuntimeError("QMP %s: %s" % (name, reply["error"]))
            if "return" in reply:
                return reply["return"]

    def close(self):
        self.sock.close()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_qemu(qemu, workdir):
    # The port comes from the kernel, but another process may take it before QEMU binds it:
    # a few tries. QEMU exits at once when the SPICE socket cannot be bound.
    for attempt in range(5):
        port = free_port()
        qmp_path = os.path.join(workdir, "qmp%d.sock" % attempt)
        argv = [
            qemu, "-nodefaults", "-no-user-config", "-machine", "accel=tcg", "-vga", "qxl",
            "-spice", "port=%d,addr=127.0.0.1,disable-ticketing=on" % port,
            "-display", "none", "-qmp", "unix:%s,server=on,wait=off" % qmp_path,
        ]  # fmt: skip
        p = spawn(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and p.poll() is None and not os.path.exists(qmp_path):
            time.sleep(0.02)
        if p.poll() is None and os.path.exists(qmp_path):
            return p, port, Qmp(qmp_path)
        stop(p)
    raise RuntimeError("QEMU did not start (SPICE port taken five times?)")


def text_signature(w, h, rgb):
    """Light pixels per 16-line text row, counting only cell lines 0..12: the VGA text cursor
    blinks in lines 13..15 of its cell, and must not make a finished screen look unstable."""
    sig = []
    stride = w * 3
    for row in range(h // 16):
        n = 0
        for line in range(13):
            y = row * 16 + line
            n += rgb[y * stride : (y + 1) * stride].count(b"\xa8\xa8\xa8")
        sig.append(n)
    return sig


def wait_for_bios_screen(qmp, workdir, stable_s=0.6, timeout=60.0):
    """Polls QMP screendump until the text screen has not changed for stable_s seconds.
    Returns (width, height, rgb) of the final screen."""
    path = os.path.join(workdir, "server.ppm")
    deadline = time.monotonic() + timeout
    last, since = None, None
    while time.monotonic() < deadline:
        qmp.cmd("screendump", filename=path)
        w, h, rgb = read_ppm(path)
        sig = text_signature(w, h, rgb)
        now = time.monotonic()
        if sum(sig) == 0 or sig != last:
            last, since = sig, now
        elif now - since >= stable_s:
            return w, h, rgb
        time.sleep(0.05)
    raise RuntimeError("the BIOS screen did not settle within %.0f s" % timeout)


# ---------------------------------------------------------------------------------------------
# Measurements


def vm_hwm_kib(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def run_windowed(name, argv, env_extra, args, ref_text, shot_path):
    xvfb, display, x = start_xvfb(args.xvfb, args.screen)
    client = None
    try:
        env = dict(os.environ)
        env.update(env_extra)
        env["DISPLAY"] = ":%d" % display
        # Without a window manager both clients map their window at (0, 0): the BIOS text sits
        # in the top-left region whatever the client's scaling. A small region keeps a poll
        # (GetImage + count) well under the poll interval on a slow machine.
        rw, rh = (int(v) for v in args.region.split("x"))
        threshold = max(200, ref_text // 3)
        empty = count_text_pixels(x.grab(rw, rh))
        log = open(os.path.splitext(shot_path)[0] + ".log", "wb")
        t0 = time.monotonic()
        client = spawn(argv, env=env, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        first_ms, before = None, None
        trace = []  # (ms since spawn, text pixels) per poll
        while time.monotonic() - t0 < args.timeout:
            t_poll = time.monotonic()
            px = x.grab(rw, rh)
            text = count_text_pixels(px) - empty
            trace.append((round((t_poll - t0) * 1000.0, 1), text))
            if text >= threshold:
                # The frame was on screen by the time the server answered this GetImage; the
                # request left at t_poll. Either way the error is one poll, the same for both.
                first_ms = (t_poll - t0) * 1000.0
                break
            before = px
            if client.poll() is not None:
                break
            rest = args.poll_ms / 1000.0 - (time.monotonic() - t_poll)
            if rest > 0:
                time.sleep(rest)
        result = {"client": name, "ok": first_ms is not None, "threshold": threshold, "trace": trace}
        if first_ms is None:
            result["error"] = "no frame within %.0f s (exit %s)" % (args.timeout, client.poll())
            return result
        screen = x.grab()  # the whole root window, for a person to check
        hwm_at_frame = vm_hwm_kib(client.pid)
        time.sleep(args.hold_ms / 1000.0)
        hwm = vm_hwm_kib(client.pid)
        alive = client.poll() is None
        _, ru_maxrss = stop(client)
        result.update(
            firstFrameMs=round(first_ms, 1),
            polls=len(trace),
            peakRssKiB=max(hwm, hwm_at_frame),
            rssAtFrameKiB=hwm_at_frame,
            ruMaxRssKiB=ru_maxrss,
            aliveAfterHold=alive,
            shot=shot_path,
        )
        write_png(shot_path, x.width, x.height, screen)
        if before is not None:
            write_png(os.path.splitext(shot_path)[0] + "-before.png", min(rw, x.width), min(rh, x.height), before)
        return result
    finally:
        if client is not None:
            stop(client)
        x.close()
        stop(xvfb)
        _children[:] = [p for p in _children if p.returncode is None]


def run_headless(args, uri, shot_path):
    env = dict(os.environ)
    env.setdefault("QT_QPA_PLATFORM", "offscreen")
    result = {"client": "saffron-cli", "ok": False}

    # Timing: `info --json` reports when the server's display MARK arrived on CLOCK_MONOTONIC
    # (Python's time.monotonic), so spawn to that instant is "process start to first frame". (It
    # exits a little later: info waits for the other channels, which link after the picture.)
    t0 = time.monotonic()
    p = spawn([args.saffron_cli, "info", uri, "--json", "--timeout", str(int(args.timeout))], env=env,
              stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip
    out, err = p.communicate(timeout=args.timeout + 10)
    # Spawn to exit, unless the CLI tells when the MARK arrived (older builds don't).
    first_frame_ms = (time.monotonic() - t0) * 1000.0
    if p.returncode != 0:
        result["error"] = "info exited %d: %s" % (p.returncode, err.decode(errors="replace").strip())
        return result
    info = json.loads(out.decode().strip().splitlines()[-1])
    ffm = float(info["firstFrameMs"])
    if info.get("firstFrameMonotonicNs"):
        first_frame_ms = info["firstFrameMonotonicNs"] / 1e6 - t0 * 1000.0

    # Memory and the frame itself: `screenshot` keeps the complete first frame and writes a PNG.
    png = shot_path or os.path.join(args.workdir, "cli.png")
    p = spawn([args.saffron_cli, "screenshot", uri, png, "--timeout", str(int(args.timeout))], env=env,
              stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip
    t1 = time.monotonic()
    _, status, ru = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    shot_wall_ms = (time.monotonic() - t1) * 1000.0
    out = p.stdout.read().decode(errors="replace")
    err = p.stderr.read().decode(errors="replace")
    p.stdout.close()
    p.stderr.close()
    if p.returncode != 0 or not os.path.exists(png):
        result["error"] = "screenshot exited %d: %s" % (p.returncode, err.strip())
        return result
    result.update(
        ok=True,
        firstFrameMs=round(first_frame_ms, 1),
        inProcessFirstFrameMs=ffm,
        startOverheadMs=round(first_frame_ms - ffm, 1),
        screenshotWallMs=round(shot_wall_ms, 1),
        peakRssKiB=ru.ru_maxrss,
        shot=png,
        screenshotOutput=out.strip(),
    )
    return result


# ---------------------------------------------------------------------------------------------


def first_line(argv):
    try:
        out = subprocess.run(argv, capture_output=True, timeout=20, text=True, env=dict(os.environ, DISPLAY=""))
        return (out.stdout or out.stderr).strip().splitlines()[0]
    except (OSError, IndexError, subprocess.TimeoutExpired):
        return " ".join(argv) + ": ?"


def median(xs):
    return statistics.median(xs) if xs else float("nan")


def ratio(a, b):
    return a / b if b else float("nan")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--saffron", required=True, help="path of the saffron window binary")
    ap.add_argument("--saffron-cli", required=True, help="path of saffron-cli")
    ap.add_argument("--remote-viewer", default=shutil.which("remote-viewer") or "remote-viewer")
    ap.add_argument("--qemu", default=os.environ.get("SAFFRON_QEMU") or shutil.which("qemu-system-x86_64"))
    ap.add_argument("--xvfb", default=shutil.which("Xvfb") or "Xvfb")
    ap.add_argument("-n", "--reps", type=int, default=5, help="repetitions per client (default 5)")
    ap.add_argument("--poll-ms", type=float, default=20.0, help="root-window poll interval (default 20)")
    ap.add_argument("--hold-ms", type=float, default=1000.0,
                    help="keep a windowed client this long after its first frame before reading VmHWM")
    ap.add_argument("--timeout", type=float, default=30.0, help="per client run (s)")
    ap.add_argument("--screen", default="1280x1024", help="Xvfb screen size")
    ap.add_argument("--region", default="640x320",
                    help="top-left part of the screen polled for the BIOS text (default 640x320)")
    ap.add_argument("--note", default="", help="printed in the header, e.g. the build type")
    ap.add_argument("--out", default=os.path.join(os.getcwd(), "bench-first-frame"),
                    help="folder for root-window captures, logs and results.json")
    args = ap.parse_args()

    for tool in (args.saffron, args.saffron_cli, args.remote_viewer, args.qemu, args.xvfb):
        if not tool or not shutil.which(tool):
            print("bench: SKIP: %s not found" % tool, file=sys.stderr)
            return SKIP

    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, _on_signal)

    os.makedirs(args.out, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="saffron-bench-") as workdir:
        args.workdir = workdir
        try:
            return bench(args)
        finally:
            stop_all()


def bench(args):
    qemu, port, qmp = start_qemu(args.qemu, args.workdir)
    t = time.monotonic()
    w, h, rgb = wait_for_bios_screen(qmp, args.workdir)
    ref_text = count_text_pixels(rgb_to_bgrx(rgb))
    write_png(os.path.join(args.out, "server.png"), w, h, rgb_to_bgrx(rgb))
    print("bench: QEMU on port %d, BIOS screen %dx%d settled after %.1f s (%d text pixels)"
          % (port, w, h, time.monotonic() - t, ref_text))  # fmt: skip
    uri = "spice://127.0.0.1:%d" % port
    bus = start_session_bus(args.workdir)
    print("bench: session bus for the clients: %s" % (bus or "none (no dbus-daemon)"))
    print("bench: %s; %s; %d repetitions, poll %g ms, region %s of a %s Xvfb%s"
          % (first_line([args.remote_viewer, "--version"]), first_line([args.qemu, "--version"]), args.reps,
             args.poll_ms, args.region, args.screen, "; " + args.note if args.note else ""))  # fmt: skip

    windowed = {
        "saffron": ([args.saffron, uri], {"QT_QPA_PLATFORM": "xcb"}),
        # NO_AT_BRIDGE: no accessibility bus on a bare Xvfb; without it GTK waits for one.
        "remote-viewer": ([args.remote_viewer, uri], {"GDK_BACKEND": "x11", "NO_AT_BRIDGE": "1"}),
    }
    runs = {"saffron": [], "remote-viewer": [], "saffron-cli": []}
    failed = False
    for rep in range(args.reps):
        for name in ("saffron", "remote-viewer", "saffron-cli"):
            shot = os.path.join(args.out, "%s-%d.png" % (name, rep + 1))
            try:
                if name == "saffron-cli":
                    r = run_headless(args, uri, shot)
                else:
                    argv, env = windowed[name]
                    r = run_windowed(name, argv, env, args, ref_text, shot)
            except (RuntimeError, OSError, ValueError, KeyError, subprocess.TimeoutExpired) as e:
                r = {"client": name, "ok": False, "error": "%s: %s" % (type(e).__name__, e)}
            runs[name].append(r)
            if r["ok"]:
                extra = ""
                if name == "saffron-cli":
                    extra = " (in-process %.0f ms + start/exit %.0f ms)" % (
                        r["inProcessFirstFrameMs"], r["startOverheadMs"])  # fmt: skip
                print("bench: rep %d %-13s first frame %7.1f ms%s, peak RSS %6.1f MiB"
                      % (rep + 1, name, r["firstFrameMs"], extra, r["peakRssKiB"] / 1024.0))  # fmt: skip
            else:
                failed = True
                print("bench: rep %d %-13s FAILED: %s" % (rep + 1, name, r.get("error")))
        if qemu.poll() is not None:
            print("bench: QEMU exited (%s)" % qemu.returncode)
            failed = True
            break
    qmp.close()

    def med(name, key):
        return median([r[key] for r in runs[name] if r["ok"]])

    ff = {n: med(n, "firstFrameMs") for n in runs}
    mem = {n: med(n, "peakRssKiB") / 1024.0 for n in runs}
    print()
    print("medians of %d runs (saffron-cli: headless, spawn to exit of `info`; peak RSS of `screenshot`)"
          % args.reps)  # fmt: skip
    print("first-frame ms: saffron %.0f | remote-viewer %.0f | ratio %.2f | saffron-cli %.0f | ratio %.2f"
          % (ff["saffron"], ff["remote-viewer"], ratio(ff["saffron"], ff["remote-viewer"]),
             ff["saffron-cli"], ratio(ff["saffron-cli"], ff["remote-viewer"])))  # fmt: skip
    print("peak RSS MiB:   saffron %.1f | remote-viewer %.1f | ratio %.2f | saffron-cli %.1f | ratio %.2f"
          % (mem["saffron"], mem["remote-viewer"], ratio(mem["saffron"], mem["remote-viewer"]),
             mem["saffron-cli"], ratio(mem["saffron-cli"], mem["remote-viewer"])))  # fmt: skip
    print("saffron-cli in-process firstFrameMs median %.0f, process start+exit overhead median %.0f ms"
          % (med("saffron-cli", "inProcessFirstFrameMs"), med("saffron-cli", "startOverheadMs")))  # fmt: skip
    print("captures and results.json in %s" % args.out)

    with open(os.path.join(args.out, "results.json"), "w") as f:
        json.dump({"port": port, "referenceTextPixels": ref_text, "pollMs": args.poll_ms, "region": args.region,
                   "holdMs": args.hold_ms, "runs": runs,
                   "medians": {"firstFrameMs": ff, "peakRssMiB": mem}}, f, indent=1)  # fmt: skip
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
