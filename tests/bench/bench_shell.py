#!/usr/bin/env python3
"""The kiosk shell's bench (issue 7): saffron vs remote-viewer, same server, one run.

One QEMU (SeaBIOS on a qxl card, SPICE without a ticket) is started and left alone until its
screen shows the final "No bootable device." text. Then, --reps times, interleaved, each client
runs on a fresh Xvfb and connects through a small TCP relay (a child process of this script)
that timestamps every SPICE message it forwards:

  1. first frame   spawn to the first poll of the X root window that shows the BIOS text:
                   exactly bench_first_frame.py's test (its functions are imported).
  2. idle CPU      after --settle s, utime+stime of the client process (all its threads,
                   /proc/PID/stat) over --idle s, as percent of one core. The desktop is the
                   BIOS text screen: static except for the blinking text cursor, which the
                   server sends as small periodic updates to both clients alike. Per-thread
                   figures (/proc/PID/task/*/stat, by thread name) go to results.json and the
                   busiest threads are printed; so is the Xvfb's own CPU, where remote-viewer
                   does part of its drawing.
  3. memory        VmRSS at the end of the idle window, and VmHWM (peak).
  4. key latency   --keys presses of 'a' through XTEST (libXtst via ctypes) into the client's
                   window, which is given the X input focus first. The time is taken just
                   before XTestFakeKeyEvent; the latency is the time until the relay receives
                   the first key message (INPUTS_KEY_DOWN or _KEY_SCANCODE) on the client's
                   inputs connection. Each key is held --key-hold-ms, then --key-gap-ms pass
                   before the next one. The relay is the same for both clients, so its own
                   cost is too; it runs in its own process so it never waits on this one.

spice-gtk (remote-viewer) holds back a key press for 100 ms on TCP connections, hoping to merge
it with its release (spice-widget.c, keypress-delay; 0 on unix sockets, SPICE_KEYPRESS_DELAY
overrides it). That is part of what a remote-viewer user gets, so the table shows it; a third
client, "rv-nodelay" (SPICE_KEYPRESS_DELAY=0, no idle window), shows remote-viewer's latency
without it (--no-rv-nodelay leaves it out).

Standard library only. Prints one table (metric, saffron, remote-viewer, ratio ours/theirs,
goal) and never asserts a time. Exit status: 0 when every client produced a frame every time,
1 when one did not, 77 (ctest SKIP_RETURN_CODE) when a needed program or library is missing.
"""

import argparse
import ctypes
import ctypes.util
import json
import os
import selectors
import shutil
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_first_frame as bff  # noqa: E402  (same folder)

SKIP = 77
CLK_TCK = os.sysconf("SC_CLK_TCK")

# SPICE constants (spice-protocol enums.h / protocol.h).
SPICE_MAGIC = b"REDQ"
CHANNEL_NAMES = {1: "main", 2: "display", 3: "inputs", 4: "cursor", 5: "playback", 6: "record",
                 9: "usbredir", 10: "port", 11: "webdav"}  # fmt: skip
CHANNEL_INPUTS = 3
CAP_MINI_HEADER = 3  # SPICE_COMMON_CAP_MINI_HEADER, bit of the first common-caps word
MSGC_KEY_DOWN, MSGC_KEY_UP, MSGC_KEY_MODIFIERS, MSGC_KEY_SCANCODE = 101, 102, 103, 104
MSG_DISPLAY_MARK = 102  # spice-server sends it once the primary surface's first picture is out
KEY_PRESS_TYPES = (MSGC_KEY_DOWN, MSGC_KEY_SCANCODE)


# ---------------------------------------------------------------------------------------------
# The relay: `bench_shell.py relay PORT` listens on a free local port, prints "LISTEN port",
# forwards every connection to 127.0.0.1:PORT and prints one line per SPICE message:
#   L conn channel_type channel_id t_ns        a client's SpiceLinkMess
#   M conn dir type size t_ns                  a message header (dir c: client to server)
#   E conn t_ns                                the connection closed
# t_ns is CLOCK_MONOTONIC (time.monotonic_ns), the same clock in every process: the time of the
# recv() that returned the message's first byte. One thread and a selector: bytes are parsed in
# the order they were received, and a message is timestamped before it is forwarded.


class _Direction:
    """One direction of one SPICE connection, parsed just enough to find message headers:
    link header (16 bytes: magic, major, minor, size), link message or reply, then (client)
    authentication bytes up to the server's 4-byte link result, then data headers: mini
    (type u16, size u32) when both sides announced SPICE_COMMON_CAP_MINI_HEADER, else full
    (serial u64, type u16, size u32, sub_list u32)."""

    def __init__(self, conn, is_client):
        self.conn, self.is_client = conn, is_client
        self.state, self.need, self.hbuf, self.skip, self.msg_t = "linkhdr", 16, bytearray(), 0, 0
        self.caps = 0

    def feed(self, data, t):
        i = 0
        while i < len(data):
            if self.state in ("auth", "broken"):
                return  # authentication bytes (until the link result) or a parse we gave up on
            if self.skip:
                k = min(self.skip, len(data) - i)
                self.skip -= k
                i += k
                continue
            if not self.hbuf:
                self.msg_t = t
            k = min(self.need - len(self.hbuf), len(data) - i)
            self.hbuf += data[i : i + k]
            i += k
            if len(self.hbuf) == self.need:
                head = bytes(self.hbuf)
                self.hbuf.clear()
                self._header(head)

    def _header(self, head):
        c = self.conn
        if self.state == "linkhdr":
            if head[:4] != SPICE_MAGIC:
                self.state = "broken"
                return
            self.state, self.need = "link", struct.unpack_from("<I", head, 12)[0]
        elif self.state == "link" and self.is_client:
            # SpiceLinkMess: connection_id u32, channel_type u8, channel_id u8,
            # num_common_caps u32, num_channel_caps u32, caps_offset u32 (from the mess start).
            c.channel_type, c.channel_id = head[4], head[5]
            ncommon, _, off = struct.unpack_from("<III", head, 6)
            if ncommon and off + 4 <= len(head):
                self.caps = struct.unpack_from("<I", head, off)[0]
            c.emit("L %d %d %d %d" % (c.id, c.channel_type, c.channel_id, self.msg_t))
            self.state = "auth"
        elif self.state == "link":
            # SpiceLinkReply: error u32, pub_key[162], num_common_caps u32, num_channel_caps
            # u32, caps_offset u32. Next comes the 4-byte SpiceLinkResult.
            ncommon, _, off = struct.unpack_from("<III", head, 166)
            if ncommon and off + 4 <= len(head):
                self.caps = struct.unpack_from("<I", head, off)[0]
            self.state, self.need = "result", 4
        elif self.state == "result":
            # The client sends its first message only after it has this result, which is
            # forwarded after this line runs: whatever the client sent so far was authentication.
            mini = (self.caps >> CAP_MINI_HEADER) & 1 and (c.c2s.caps >> CAP_MINI_HEADER) & 1
            for d in (self, c.c2s):
                d.state, d.need, d.mini = "msgs", 6 if mini else 18, mini
            c.c2s.hbuf.clear()
        elif self.state == "msgs":
            if self.mini:
                kind, size = struct.unpack_from("<HI", head, 0)
            else:
                kind, size = struct.unpack_from("<HI", head, 8)
            self.skip = size
            c.emit("M %d %s %d %d %d" % (c.id, "c" if self.is_client else "s", kind, size, self.msg_t))


class _Conn:
    def __init__(self, ident, client, server, emit):
        self.id, self.client, self.server, self.emit = ident, client, server, emit
        self.channel_type = self.channel_id = -1
        self.c2s, self.s2c = _Direction(self, True), _Direction(self, False)


def relay_main(target_port):
    out = sys.stdout

    def emit(line):
        out.write(line + "\n")

    lsock = socket.socket()
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(16)
    emit("LISTEN %d" % lsock.getsockname()[1])
    out.flush()
    sel = selectors.DefaultSelector()
    sel.register(lsock, selectors.EVENT_READ, None)
    next_id = 0
    while True:
        for key, _ in sel.select():
            if key.data is None:
                client, _ = lsock.accept()
                server = socket.create_connection(("127.0.0.1", target_port))
                for s in (client, server):
                    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                next_id += 1
                conn = _Conn(next_id, client, server, emit)
                sel.register(client, selectors.EVENT_READ, (conn, True))
                sel.register(server, selectors.EVENT_READ, (conn, False))
                continue
            conn, from_client = key.data
            src, dst = (conn.client, conn.server) if from_client else (conn.server, conn.client)
            try:
                data = src.recv(1 << 16)
            except OSError:
                data = b""
            t = time.monotonic_ns()
            if data:
                (conn.c2s if from_client else conn.s2c).feed(data, t)
                try:
                    dst.sendall(data)  # blocking: local sockets, small traffic
                    data = True
                except OSError:
                    data = b""
            if not data:
                for s in (conn.client, conn.server):
                    try:
                        sel.unregister(s)
                    except (KeyError, ValueError):
                        pass
                    s.close()
                emit("E %d %d" % (conn.id, t))
            out.flush()


class Relay:
    """The relay process and the events it printed, read by a thread of this process."""

    def __init__(self, target_port):
        self.proc = bff.spawn([sys.executable, os.path.abspath(__file__), "relay", str(target_port)],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)  # fmt: skip
        line = self.proc.stdout.readline().decode()
        if not line.startswith("LISTEN "):
            raise RuntimeError("relay did not start")
        self.port = int(line.split()[1])
        self.channels = {}  # conn id -> channel type
        self.links = []  # (t_ns, channel type) of every SpiceLinkMess
        self.msgs = []  # (t_ns, conn, dir, type, size)
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        for raw in self.proc.stdout:
            f = raw.split()
            with self.lock:
                if f[0] == b"L":
                    self.channels[int(f[1])] = int(f[2])
                    self.links.append((int(f[4]), int(f[2])))
                elif f[0] == b"M":
                    self.msgs.append((int(f[5]), int(f[1]), f[2].decode(), int(f[3]), int(f[4])))

    def timeline(self, t0_ns):
        """ms after t0_ns at which each channel linked (first link of its type), and at which
        the display MARK passed: when the client's first picture had been sent."""
        with self.lock:
            out = {}
            for t, kind in self.links:
                out.setdefault("link:" + CHANNEL_NAMES.get(kind, str(kind)), round((t - t0_ns) / 1e6, 1))
            for t, conn, d, kind, _ in self.msgs:
                if d == "s" and kind == MSG_DISPLAY_MARK and self.channels.get(conn) == 2:
                    out["displayMark"] = round((t - t0_ns) / 1e6, 1)
                    break
            return out

    def snapshot(self):
        with self.lock:
            return dict(self.channels), list(self.msgs)

    def stop(self):
        bff.stop(self.proc)
        self.thread.join(timeout=2)


# ---------------------------------------------------------------------------------------------
# X: libX11 + libXtest through ctypes, to find the client's window, focus it and type.


class XWindowAttributes(ctypes.Structure):
    _fields_ = [("x", ctypes.c_int), ("y", ctypes.c_int), ("width", ctypes.c_int), ("height", ctypes.c_int),
                ("border_width", ctypes.c_int), ("depth", ctypes.c_int), ("visual", ctypes.c_void_p),
                ("root", ctypes.c_ulong), ("class_", ctypes.c_int), ("bit_gravity", ctypes.c_int),
                ("win_gravity", ctypes.c_int), ("backing_store", ctypes.c_int), ("backing_planes", ctypes.c_ulong),
                ("backing_pixel", ctypes.c_ulong), ("save_under", ctypes.c_int), ("colormap", ctypes.c_ulong),
                ("map_installed", ctypes.c_int), ("map_state", ctypes.c_int), ("all_event_masks", ctypes.c_long),
                ("your_event_mask", ctypes.c_long), ("do_not_propagate_mask", ctypes.c_long),
                ("override_redirect", ctypes.c_int), ("screen", ctypes.c_void_p)]  # fmt: skip


def load_x_libraries():
    """(libX11, libXtst) or None when either is missing."""
    try:
        x11 = ctypes.CDLL(ctypes.util.find_library("X11") or "libX11.so.6")
        xtst = ctypes.CDLL(ctypes.util.find_library("Xtst") or "libXtst.so.6")
    except OSError:
        return None
    x11.XOpenDisplay.restype = ctypes.c_void_p
    x11.XOpenDisplay.argtypes = [ctypes.c_char_p]
    x11.XCloseDisplay.argtypes = [ctypes.c_void_p]
    x11.XDefaultRootWindow.restype = ctypes.c_ulong
    x11.XDefaultRootWindow.argtypes = [ctypes.c_void_p]
    x11.XQueryTree.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.POINTER(ctypes.c_ulong),
                               ctypes.POINTER(ctypes.c_ulong), ctypes.POINTER(ctypes.POINTER(ctypes.c_ulong)),
                               ctypes.POINTER(ctypes.c_uint)]  # fmt: skip
    x11.XGetWindowAttributes.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.POINTER(XWindowAttributes)]
    x11.XFree.argtypes = [ctypes.c_void_p]
    x11.XSetInputFocus.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.c_int, ctypes.c_ulong]
    x11.XStringToKeysym.restype = ctypes.c_ulong
    x11.XStringToKeysym.argtypes = [ctypes.c_char_p]
    x11.XKeysymToKeycode.restype = ctypes.c_ubyte
    x11.XKeysymToKeycode.argtypes = [ctypes.c_void_p, ctypes.c_ulong]
    x11.XFlush.argtypes = [ctypes.c_void_p]
    x11.XSync.argtypes = [ctypes.c_void_p, ctypes.c_int]
    xtst.XTestFakeKeyEvent.argtypes = [ctypes.c_void_p, ctypes.c_uint, ctypes.c_int, ctypes.c_ulong]
    xtst.XTestFakeMotionEvent.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_ulong]
    return x11, xtst


class XInput:
    def __init__(self, libs, display):
        self.x11, self.xtst = libs
        self.dpy = self.x11.XOpenDisplay((":%d" % display).encode())
        if not self.dpy:
            raise RuntimeError("XOpenDisplay :%d failed" % display)
        self.root = self.x11.XDefaultRootWindow(self.dpy)

    def client_window(self):
        """The largest viewable top-level window (no window manager: top-levels are children
        of the root). Returns (window, x, y, w, h) or None."""
        root, parent = ctypes.c_ulong(), ctypes.c_ulong()
        children, n = ctypes.POINTER(ctypes.c_ulong)(), ctypes.c_uint()
        if not self.x11.XQueryTree(self.dpy, self.root, ctypes.byref(root), ctypes.byref(parent),
                                   ctypes.byref(children), ctypes.byref(n)):  # fmt: skip
            return None
        best = None
        for i in range(n.value):
            a = XWindowAttributes()
            if not self.x11.XGetWindowAttributes(self.dpy, children[i], ctypes.byref(a)):
                continue
            if a.map_state == 2 and not a.override_redirect and a.width * a.height > 1:  # IsViewable
                if best is None or a.width * a.height > best[3] * best[4]:
                    best = (children[i], a.x, a.y, a.width, a.height)
        if children:
            self.x11.XFree(children)
        return best

    def focus(self, win):
        _, x, y, w, h = win
        # The pointer inside the window too: with no window manager some toolkits take
        # keyboard focus from where the pointer is.
        self.xtst.XTestFakeMotionEvent(self.dpy, -1, x + w // 2, y + h // 2, 0)
        self.x11.XSetInputFocus(self.dpy, win[0], 2, 0)  # RevertToParent, CurrentTime
        self.x11.XSync(self.dpy, 0)

    def keycode(self, name):
        return self.x11.XKeysymToKeycode(self.dpy, self.x11.XStringToKeysym(name.encode()))

    def key(self, code, press):
        """Returns CLOCK_MONOTONIC ns taken just before the request was made."""
        t = time.monotonic_ns()
        self.xtst.XTestFakeKeyEvent(self.dpy, code, 1 if press else 0, 0)
        self.x11.XFlush(self.dpy)
        return t

    def close(self):
        self.x11.XCloseDisplay(self.dpy)


def grab(x, width=None, height=None):
    """bench_first_frame's XDisplay.grab, skipping events on the way to the reply. The X server
    sends MappingNotify to every client, selected or not, when XTEST's keyboard becomes the
    core keyboard's source; XDisplay.grab would read that 32-byte event as its reply."""
    width, height = min(width or x.width, x.width), min(height or x.height, x.height)
    x.sock.sendall(struct.pack("<BBHIhhHHI", 73, 2, 5, x.root, 0, 0, width, height, 0xFFFFFFFF))
    while True:
        reply = x._recv(32)
        if reply[0] == 0:
            raise RuntimeError("X error %d on GetImage" % reply[1])
        if reply[0] == 1:
            return bytes(x._recv(struct.unpack("<I", reply[4:8])[0] * 4))


# ---------------------------------------------------------------------------------------------
# /proc


def proc_ticks(path):
    """utime+stime (clock ticks) from a /proc stat file, or None once the task is gone."""
    try:
        with open(path) as f:
            rest = f.read().rsplit(")", 1)[1].split()
        return int(rest[11]) + int(rest[12])  # fields 14 and 15; rest[0] is field 3
    except (OSError, IndexError, ValueError):
        return None


def thread_times(pid):
    """{tid: (name, ticks, runtime ns)} of every live thread; runtime from schedstat (ns)."""
    out = {}
    base = "/proc/%d/task" % pid
    try:
        tids = os.listdir(base)
    except OSError:
        return out
    for tid in tids:
        try:
            with open("%s/%s/comm" % (base, tid)) as f:
                name = f.read().strip()
            with open("%s/%s/schedstat" % (base, tid)) as f:
                ns = int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            continue
        ticks = proc_ticks("%s/%s/stat" % (base, tid))
        if ticks is not None:
            out[int(tid)] = (name, ticks, ns)
    return out


def status_kib(pid, keys=("VmRSS", "VmHWM")):
    found = {}
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                k = line.split(":", 1)[0]
                if k in keys:
                    found[k] = int(line.split()[1])
    except OSError:
        pass
    return found


def pss_kib(pid):
    try:
        with open("/proc/%d/smaps_rollup" % pid) as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


# ---------------------------------------------------------------------------------------------
# One client run


def wait_first_frame(x, client, args, ref_text, t0):
    rw, rh = (int(v) for v in args.region.split("x"))
    threshold = max(200, ref_text // 3)
    while time.monotonic() - t0 < args.timeout:
        t_poll = time.monotonic()
        if bff.count_text_pixels(grab(x, rw, rh)) - args.empty_text >= threshold:
            return (t_poll - t0) * 1000.0
        if client.poll() is not None:
            return None
        rest = args.poll_ms / 1000.0 - (time.monotonic() - t_poll)
        if rest > 0:
            time.sleep(rest)
    return None


def measure_idle(pid, xvfb_pid, seconds):
    t0 = time.monotonic()
    p0, x0, th0 = proc_ticks("/proc/%d/stat" % pid), proc_ticks("/proc/%d/stat" % xvfb_pid), thread_times(pid)
    time.sleep(seconds)
    p1, x1, th1 = proc_ticks("/proc/%d/stat" % pid), proc_ticks("/proc/%d/stat" % xvfb_pid), thread_times(pid)
    wall = time.monotonic() - t0
    if p0 is None or p1 is None:
        return None
    threads = {}  # name -> [ticks, ns, count]
    for tid, (name, ticks, ns) in th1.items():
        b = th0.get(tid, (name, 0, 0))  # a thread born inside the window counts from zero
        t = threads.setdefault(name, [0, 0, 0])
        t[0] += ticks - b[1]
        t[1] += ns - b[2]
        t[2] += 1
    return {
        "wallS": round(wall, 3),
        "cpuPercent": round(100.0 * (p1 - p0) / CLK_TCK / wall, 3),
        "schedCpuPercent": round(100.0 * sum(t[1] for t in threads.values()) / 1e9 / wall, 3),
        "xvfbCpuPercent": round(100.0 * (x1 - x0) / CLK_TCK / wall, 3) if x0 is not None and x1 is not None else None,
        "threads": {
            n: {"cpuPercent": round(100.0 * t[1] / 1e9 / wall, 3), "ticks": t[0], "count": t[2]}
            for n, t in sorted(threads.items(), key=lambda kv: -kv[1][1])
        },
    }


def count_msgs(channels, msgs, t0_ns, t1_ns):
    """{'c:display': n, 's:cursor': n, ...}: messages per direction and channel in [t0, t1)."""
    out = {}
    for t, conn, d, _, _ in msgs:
        if t0_ns <= t < t1_ns:
            k = "%s:%s" % (d, CHANNEL_NAMES.get(channels.get(conn), str(channels.get(conn))))
            out[k] = out.get(k, 0) + 1
    return out


def type_keys(xin, relay, args, log):
    win = xin.client_window()
    if win is None:
        return {"error": "no client window"}
    xin.focus(win)
    time.sleep(0.5)  # focus-in handling, modifier sync: not part of any key's latency
    code = xin.keycode("a")
    presses = []
    for _ in range(args.keys):
        presses.append(xin.key(code, True))
        time.sleep(args.key_hold_ms / 1000.0)
        xin.key(code, False)
        time.sleep(args.key_gap_ms / 1000.0)
    time.sleep(0.5)  # the last key's messages
    end = time.monotonic_ns()
    channels, msgs = relay.snapshot()
    inputs = {c for c, kind in channels.items() if kind == CHANNEL_INPUTS}
    keys = [(t, kind) for t, conn, d, kind, _ in msgs if d == "c" and conn in inputs and kind in KEY_PRESS_TYPES]
    lat = []
    for i, tp in enumerate(presses):
        limit = presses[i + 1] if i + 1 < len(presses) else end
        first = next((t for t, _ in keys if tp <= t < limit), None)
        if first is not None:
            lat.append((first - tp) / 1e6)
    kinds = sorted({kind for t, kind in keys if t >= presses[0]})
    log.write(("bench_shell: window 0x%x %dx%d+%d+%d, %d inputs connection(s), %d/%d keys seen, types %s\n"
               % (win[0], win[3], win[4], win[1], win[2], len(inputs), len(lat), len(presses), kinds)).encode())
    return {"keysSent": len(presses), "keysSeen": len(lat), "latencyMs": [round(v, 3) for v in lat],
            "inputsConnections": len(inputs), "keyMessageTypes": kinds}  # fmt: skip


def run_client(name, argv, env_extra, args, ref_text, qemu_port, idle_s):
    relay = Relay(qemu_port)
    xvfb, display, x = bff.start_xvfb(args.xvfb, args.screen)
    client, xin, log = None, None, None
    result = {"client": name, "ok": False}
    try:
        rw, rh = (int(v) for v in args.region.split("x"))
        args.empty_text = bff.count_text_pixels(grab(x, rw, rh))
        env = dict(os.environ)
        env.update(env_extra)
        env["DISPLAY"] = ":%d" % display
        log = open(os.path.join(args.out, "%s-%d.log" % (name, args.rep)), "wb")
        t0 = time.monotonic()
        t0_ns = time.monotonic_ns()
        client = bff.spawn(argv + ["spice://127.0.0.1:%d" % relay.port], env=env, stdout=log, stderr=subprocess.STDOUT)
        first_ms = wait_first_frame(x, client, args, ref_text, t0)
        if first_ms is None:
            result["error"] = "no frame within %.0f s (exit %s)" % (args.timeout, client.poll())
            return result
        result.update(ok=True, firstFrameMs=round(first_ms, 1), timelineMs=relay.timeline(t0_ns))
        if idle_s > 0:
            time.sleep(args.settle)
            t_idle = time.monotonic_ns()
            idle = measure_idle(client.pid, xvfb.pid, idle_s)
            channels, msgs = relay.snapshot()
            mem = status_kib(client.pid)
            result.update(idle=idle, idleMessages=count_msgs(channels, msgs, t_idle, time.monotonic_ns()),
                          vmRssKiB=mem.get("VmRSS", 0), vmHwmKiB=mem.get("VmHWM", 0), pssKiB=pss_kib(client.pid))
            if idle is None:
                result.update(ok=False, error="client exited during the idle window (exit %s)" % client.poll())
                return result
        if args.keys > 0:
            xin = XInput(args.xlibs, display)
            result["keys"] = type_keys(xin, relay, args, log)
        result["aliveAtEnd"] = client.poll() is None
        bff.write_png(os.path.join(args.out, "%s-%d.png" % (name, args.rep)), x.width, x.height, grab(x))
        return result
    finally:
        if xin is not None:
            xin.close()
        if client is not None:
            bff.stop(client)
        if log is not None:
            log.close()
        x.close()
        bff.stop(xvfb)
        relay.stop()
        bff._children[:] = [p for p in bff._children if p.returncode is None]


# ---------------------------------------------------------------------------------------------


def median(xs):
    return statistics.median(xs) if xs else float("nan")


def p90(xs):
    if len(xs) < 2:
        return xs[0] if xs else float("nan")
    return statistics.quantiles(xs, n=10, method="inclusive")[8]


def ratio(a, b):
    return a / b if b else float("nan")


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "relay":
        signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
        relay_main(int(sys.argv[2]))
        return 0

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--saffron", required=True, help="path of the saffron shell binary")
    ap.add_argument("--remote-viewer", default=shutil.which("remote-viewer") or "remote-viewer")
    ap.add_argument("--qemu", default=os.environ.get("SAFFRON_QEMU") or shutil.which("qemu-system-x86_64"))
    ap.add_argument("--xvfb", default=shutil.which("Xvfb") or "Xvfb")
    ap.add_argument("-n", "--reps", type=int, default=3, help="repetitions per client (default 3)")
    ap.add_argument("--idle", type=float, default=60.0, help="idle window, s (default 60)")
    ap.add_argument("--settle", type=float, default=2.0, help="wait after the first frame before the idle window")
    ap.add_argument("--keys", type=int, default=30, help="key presses per run (default 30; 0: none)")
    ap.add_argument("--key-hold-ms", type=float, default=150.0, help="press to release (default 150)")
    ap.add_argument("--key-gap-ms", type=float, default=100.0, help="release to next press (default 100)")
    ap.add_argument("--saffron-env", action="append", default=[], metavar="NAME=VALUE",
                    help="extra environment for saffron (repeatable), e.g. QT_QUICK_BACKEND=software")
    ap.add_argument("--no-rv-nodelay", action="store_true",
                    help="leave out remote-viewer with SPICE_KEYPRESS_DELAY=0 (key latency only)")
    ap.add_argument("--poll-ms", type=float, default=20.0, help="root-window poll interval (default 20)")
    ap.add_argument("--timeout", type=float, default=30.0, help="first frame timeout per run (s)")
    ap.add_argument("--screen", default="1280x1024", help="Xvfb screen size")
    ap.add_argument("--region", default="640x320", help="top-left part polled for the BIOS text")
    ap.add_argument("--note", default="", help="printed in the header, e.g. the build type")
    ap.add_argument("--out", default=os.path.join(os.getcwd(), "bench-shell"),
                    help="folder for logs, final root-window captures and results.json")
    args = ap.parse_args()

    for tool in (args.saffron, args.remote_viewer, args.qemu, args.xvfb):
        if not tool or not shutil.which(tool):
            print("bench_shell: SKIP: %s not found" % tool, file=sys.stderr)
            return SKIP
    args.xlibs = load_x_libraries()
    if args.xlibs is None:
        print("bench_shell: SKIP: libX11 or libXtst not found", file=sys.stderr)
        return SKIP

    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, bff._on_signal)

    os.makedirs(args.out, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="saffron-bench-shell-") as workdir:
        args.workdir = workdir
        try:
            return bench(args)
        finally:
            bff.stop_all()


def fmt_threads(idle, n=4):
    items = [(k, v["cpuPercent"]) for k, v in idle["threads"].items()][:n]
    return ", ".join("%s %.2f%%" % kv for kv in items)


def bench(args):
    qemu, port, qmp = bff.start_qemu(args.qemu, args.workdir)
    t = time.monotonic()
    w, h, rgb = bff.wait_for_bios_screen(qmp, args.workdir)
    ref_text = bff.count_text_pixels(bff.rgb_to_bgrx(rgb))
    print("bench_shell: QEMU on port %d, BIOS screen %dx%d settled after %.1f s; load average %s"
          % (port, w, h, time.monotonic() - t, " ".join(open("/proc/loadavg").read().split()[:3])))  # fmt: skip
    print("bench_shell: %s; %d reps, idle %g s after %g s settle, %d keys (hold %g ms, gap %g ms)%s"
          % (bff.first_line([args.remote_viewer, "--version"]), args.reps, args.idle, args.settle, args.keys,
             args.key_hold_ms, args.key_gap_ms, "; " + args.note if args.note else ""))  # fmt: skip
    if args.saffron_env:
        print("bench_shell: saffron environment: %s" % " ".join(args.saffron_env))
    bus = bff.start_session_bus(args.workdir)
    print("bench_shell: session bus for the clients: %s" % (bus or "none (no dbus-daemon)"))

    gtk = {"GDK_BACKEND": "x11", "NO_AT_BRIDGE": "1"}  # a session bus, but no accessibility bus
    clients = [
        ("saffron", [args.saffron], dict([("QT_QPA_PLATFORM", "xcb"), ("QSG_INFO", "1")]
                                         + [tuple(e.split("=", 1)) for e in args.saffron_env]), args.idle),
        ("remote-viewer", [args.remote_viewer], gtk, args.idle),
    ]
    if not args.no_rv_nodelay and args.keys > 0:
        clients.append(("rv-nodelay", [args.remote_viewer], dict(gtk, SPICE_KEYPRESS_DELAY="0"), 0))
    runs = {c[0]: [] for c in clients}
    failed = False
    for rep in range(args.reps):
        args.rep = rep + 1
        for name, argv, env, idle_s in clients:
            try:
                r = run_client(name, argv, env, args, ref_text, port, idle_s)
            except (RuntimeError, OSError, ValueError, KeyError, subprocess.TimeoutExpired) as e:
                r = {"client": name, "ok": False, "error": "%s: %s" % (type(e).__name__, e)}
            runs[name].append(r)
            if not r["ok"]:
                failed = True
                print("bench_shell: rep %d %-13s FAILED: %s" % (rep + 1, name, r.get("error")))
                continue
            line = "bench_shell: rep %d %-13s first frame %6.0f ms" % (rep + 1, name, r["firstFrameMs"])
            if "idle" in r:
                line += ", idle CPU %.2f%% (Xvfb %.2f%%), VmRSS %.1f MiB, VmHWM %.1f MiB" % (
                    r["idle"]["cpuPercent"], r["idle"]["xvfbCpuPercent"] or 0, r["vmRssKiB"] / 1024.0,
                    r["vmHwmKiB"] / 1024.0)  # fmt: skip
            k = r.get("keys", {})
            if k.get("latencyMs"):
                line += ", key %d/%d median %.1f ms" % (k["keysSeen"], k["keysSent"], median(k["latencyMs"]))
            elif "keys" in r:
                line += ", no key seen (%s)" % k.get("error", "%d inputs connections" % k.get("inputsConnections", 0))
            print(line)
            tl = r.get("timelineMs", {})
            print("bench_shell:        relay saw (ms after spawn): %s"
                  % ", ".join("%s %.0f" % (k, v) for k, v in sorted(tl.items(), key=lambda kv: kv[1])))  # fmt: skip
            if "idle" in r:
                print("bench_shell:        busiest threads: %s; idle messages %s"
                      % (fmt_threads(r["idle"]), r["idleMessages"]))  # fmt: skip
        if qemu.poll() is not None:
            print("bench_shell: QEMU exited (%s)" % qemu.returncode)
            failed = True
            break
    qmp.close()

    def med(name, get):
        vals = []
        for r in runs.get(name, []):
            try:
                if r["ok"]:
                    vals.append(get(r))
            except (KeyError, TypeError):
                pass
        return median(vals)

    def keys(name):
        return [v for r in runs.get(name, []) if r["ok"] for v in r.get("keys", {}).get("latencyMs", [])]

    def sent(name):
        return sum(r.get("keys", {}).get("keysSent", 0) for r in runs.get(name, []) if r["ok"])

    rows = []  # metric, ours, theirs, goal text, goal met (or None)
    ff = (med("saffron", lambda r: r["firstFrameMs"]), med("remote-viewer", lambda r: r["firstFrameMs"]))
    rows.append(("first frame, ms", ff, "< 0.5 x remote-viewer", ratio(*ff) < 0.5))
    cpu = (med("saffron", lambda r: r["idle"]["cpuPercent"]), med("remote-viewer", lambda r: r["idle"]["cpuPercent"]))
    rows.append(("idle CPU, %% of a core (%g s)" % args.idle, cpu, "< 0.5 %", cpu[0] < 0.5))
    xcpu = (med("saffron", lambda r: r["idle"]["xvfbCpuPercent"]),
            med("remote-viewer", lambda r: r["idle"]["xvfbCpuPercent"]))  # fmt: skip
    rows.append(("  the Xvfb meanwhile, %", xcpu, "(context)", None))
    rss = (med("saffron", lambda r: r["vmRssKiB"] / 1024.0), med("remote-viewer", lambda r: r["vmRssKiB"] / 1024.0))
    rows.append(("VmRSS after idle, MiB", rss, "<= remote-viewer", rss[0] <= rss[1]))
    hwm = (med("saffron", lambda r: r["vmHwmKiB"] / 1024.0), med("remote-viewer", lambda r: r["vmHwmKiB"] / 1024.0))
    rows.append(("VmHWM (peak), MiB", hwm, "<= remote-viewer", hwm[0] <= hwm[1]))
    pss = (med("saffron", lambda r: r["pssKiB"] / 1024.0), med("remote-viewer", lambda r: r["pssKiB"] / 1024.0))
    rows.append(("  Pss after idle, MiB", pss, "(context)", None))
    ks, kr = keys("saffron"), keys("remote-viewer")
    rows.append(("key to wire, median ms", (median(ks), median(kr)), "(none set)", None))
    rows.append(("key to wire, p90 ms", (p90(ks), p90(kr)), "(none set)", None))
    all_seen = len(ks) == sent("saffron") and len(kr) == sent("remote-viewer") if sent("saffron") else None
    rows.append(("keys seen / sent", (len(ks), len(kr)), "all", all_seen))

    print()
    print("medians of %d runs each; key latency over all keys of all runs" % args.reps)
    print("%-30s %10s %14s %7s  %s" % ("metric", "saffron", "remote-viewer", "ratio", "goal"))
    for metric, (a, b), goal, met in rows:
        if metric.startswith("keys seen"):
            cells = ("%d/%d" % (a, sent("saffron")), "%d/%d" % (b, sent("remote-viewer")), "")
        else:
            form = "%.1f" if metric.startswith(("first", "key")) else "%.2f"
            cells = tuple("-" if v != v else f % v for f, v in ((form, a), (form, b), ("%.2f", ratio(a, b))))
            if a != a or b != b:
                met = None  # a client gave no figure: nothing to judge
        mark = "" if met is None else (" met" if met else " MISSED")
        print("%-30s %10s %14s %7s  %s%s" % ((metric,) + cells + (goal, mark)))
    if "rv-nodelay" in runs:
        kn = keys("rv-nodelay")
        if kn:
            print("remote-viewer with SPICE_KEYPRESS_DELAY=0: key to wire median %.1f ms, p90 %.1f ms (%d/%d keys);"
                  % (median(kn), p90(kn), len(kn), sent("rv-nodelay")))  # fmt: skip
        else:
            print("remote-viewer with SPICE_KEYPRESS_DELAY=0: no key seen;")
        print("  spice-gtk holds a key press back 100 ms on TCP to merge it with its release")
    for name in ("saffron", "remote-viewer"):
        if runs[name] and not keys(name):
            print("%s: no key seen" % name)
    print("logs, final captures and results.json in %s" % args.out)

    with open(os.path.join(args.out, "results.json"), "w") as f:
        json.dump({"port": port, "referenceTextPixels": ref_text, "args": {k: v for k, v in vars(args).items()
                   if isinstance(v, (int, float, str))}, "runs": runs}, f, indent=1)  # fmt: skip
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
