#!/usr/bin/env python3
"""The shell under cage, the compositor of the appliance image, with the software scene graph.

cage 0.1.4 (Debian 12, wlroots 0.15) answers a frame callback only when its output repaints, and
repaints only for damage. A commit that asks for a frame callback without damage is never
answered; Qt Wayland then declares the window unexposed after 100 ms and Qt Quick stops drawing
it for good (the thin-client image froze on "Connecting" that way). This runs the shell under a
headless cage against QEMU's SPICE server, the thin-client way (launcher mode, connecting at
start), records the shell's Wayland requests (WAYLAND_DEBUG=client) and fails if any commit asks
for a frame callback without damage, or if the shell stops committing before it has shown the
desktop.

    shell_under_cage.py --shell build/shell/saffron [--seconds 8] [--keep DIR]

With --outputs 2 --test-server PATH, cage gets two outputs and the server (saffron-test-server)
two displays. cage maximizes every window over all its outputs together, so the shell must show
both monitors inside one window, each on its own output: a screenshot of the output layout
(grim) must show display 2's picture on one output and not on the other.

Exit 77 (ctest: skipped) without cage, Qt's Wayland platform plugin, QEMU (or grim with two
outputs). cage refuses to run as root, so as root the shell and cage run as `nobody` from a copy
of the binary.
"""
import argparse
import glob
import os
import queue
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

SKIP = 77


def log(msg):
    print(f"shell_under_cage: {msg}", flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def missing_tool(outputs):
    tools = ("cage", "setpriv") + (("grim",) if outputs > 1 else ("qemu-system-x86_64",))
    for tool in tools:
        if not shutil.which(tool):
            return f"{tool} is not installed"
    if not glob.glob("/usr/lib/*/qt6/plugins/platforms/libqwayland-generic.so"):
        return "Qt's Wayland platform plugin (qt6-wayland) is not installed"
    return None


NOBODY = 65534


def as_nobody(cmd, root):
    """CMD, run as `nobody` when this script runs as root (cage refuses root, and grim must be
    its client's user to use its socket)."""
    return ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"] + cmd if root else cmd


def wait_for_port(port, seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return True
        except OSError:
            time.sleep(0.1)
    return False


def read_ppm(data):
    """(width, height, rgb bytes) of a binary PPM (P6, maxval 255), as grim writes it."""
    fields = []
    pos = 0
    while len(fields) < 4:
        while data[pos : pos + 1].isspace():
            pos += 1
        end = pos
        while end < len(data) and not data[end : end + 1].isspace():
            end += 1
        if end >= len(data):
            raise ValueError("truncated PPM header")
        fields.append(data[pos:end])
        pos = end
    if fields[0] != b"P6" or fields[3] != b"255":
        raise ValueError("not an 8-bit P6 PPM")
    w, h = int(fields[1]), int(fields[2])
    pixels = data[pos + 1 : pos + 1 + w * h * 3]
    if len(pixels) != w * h * 3:
        raise ValueError("short PPM")
    return w, h, pixels


def colour_share(w, h, pixels, x0, x1, rgb, tolerance=8):
    """Share of the pixels in columns x0..x1 (every 4th row and column) within tolerance of rgb."""
    hits = total = 0
    for y in range(0, h, 4):
        row = y * w * 3
        for x in range(x0, x1, 4):
            i = row + x * 3
            total += 1
            if all(abs(pixels[i + k] - rgb[k]) <= tolerance for k in range(3)):
                hits += 1
    return hits / max(1, total)


class Commits:
    """Follows one Wayland client's requests on its surfaces (WAYLAND_DEBUG=client lines)."""

    REQUEST = re.compile(r"^\[\s*[\d.]+\]\s+-> (wl_surface@\d+)\.(frame|damage|damage_buffer|commit)\(")

    def __init__(self):
        self.pending = {}  # surface -> {"frame": bool, "damage": bool} since its last commit
        self.commits = 0
        self.undamaged = []  # lines of commits that asked for a frame callback without damage

    def feed(self, line):
        m = self.REQUEST.match(line)
        if not m:
            return
        surface, request = m.groups()
        state = self.pending.setdefault(surface, {"frame": False, "damage": False})
        if request == "frame":
            state["frame"] = True
        elif request.startswith("damage"):
            state["damage"] = True
        else:
            self.commits += 1
            if state["frame"] and not state["damage"]:
                self.undamaged.append(line.strip())
            self.pending[surface] = {"frame": False, "damage": False}


def outputs_show_displays(env, runtime, root):
    """Two outputs side by side: display 2's picture (the test server's blue, 0x2060a0) fills
    one and is absent from the other, which shows display 1's test pattern."""
    sockets = [n for n in os.listdir(runtime) if n.startswith("wayland-") and not n.endswith(".lock")]
    if not sockets:
        log("FAIL: no Wayland socket of cage's to take a screenshot through")
        return False
    shot = subprocess.run(as_nobody(["grim", "-t", "ppm", "-"], root),
                          env=dict(env, WAYLAND_DISPLAY=sockets[0], WAYLAND_DEBUG="0"),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
    if shot.returncode != 0:
        log(f"FAIL: grim: {shot.stderr.decode(errors='replace').strip()}")
        return False
    try:
        w, h, pixels = read_ppm(shot.stdout)
    except ValueError as e:
        log(f"FAIL: grim's screenshot: {e}")
        return False
    half = w // 2
    shares = [colour_share(w, h, pixels, 0, half, (0x20, 0x60, 0xA0)),
              colour_share(w, h, pixels, half, w, (0x20, 0x60, 0xA0))]
    other = (0, half) if shares[0] < shares[1] else (half, w)
    black = colour_share(w, h, pixels, other[0], other[1], (0, 0, 0))
    log(f"layout {w}x{h}: display 2's colour covers {shares[0]:.0%} of the left output, "
        f"{shares[1]:.0%} of the right one; the other output is {black:.0%} black")
    if max(shares) < 0.5 or min(shares) > 0.1:
        log("FAIL: the two displays are not one on each output")
        return False
    if black > 0.3:
        log("FAIL: display 1 is not on the other output (drawn over, or not at all)")
        return False
    return True


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shell", required=True, help="the saffron binary")
    ap.add_argument("--seconds", type=float, default=8.0, help="how long to watch after the desktop's surface")
    ap.add_argument("--timeout", type=float, default=90.0)
    ap.add_argument("--keep", help="folder for the log")
    ap.add_argument("--outputs", type=int, default=1, choices=(1, 2), help="cage's outputs (and server displays)")
    ap.add_argument("--test-server", help="saffron-test-server, the server with --outputs 2")
    a = ap.parse_args()
    if a.outputs > 1 and not a.test_server:
        ap.error("--outputs 2 needs --test-server")

    why = missing_tool(a.outputs)
    if why:
        log(f"SKIP: {why}")
        return SKIP

    work = tempfile.mkdtemp(prefix="saffron-cage-")
    os.chmod(work, 0o755)
    root = os.getuid() == 0
    runtime = os.path.join(work, "run")
    home = os.path.join(work, "home")
    os.mkdir(runtime, 0o700)
    os.mkdir(home, 0o755)
    shell = a.shell
    if root:
        # The build tree may not be reachable for `nobody`; the binary links no library of ours.
        shell = os.path.join(work, "saffron")
        shutil.copy(a.shell, shell)
        os.chmod(shell, 0o755)
        for d in (runtime, home):
            os.chown(d, NOBODY, NOBODY)

    port = free_port()
    if a.outputs > 1:
        server = subprocess.Popen(
            [a.test_server, "--port", str(port), "--displays", str(a.outputs), "--no-stdin"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if not wait_for_port(port, 15):
            server.kill()
            log("FAIL: the test server did not listen")
            return 1
    else:
        server = subprocess.Popen(
            ["qemu-system-x86_64", "-nodefaults", "-vga", "qxl", "-spice",
             f"port={port},addr=127.0.0.1,disable-ticketing=on", "-display", "none"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    env = {
        "PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
        "HOME": home,
        "XDG_RUNTIME_DIR": runtime,
        "XDG_CACHE_HOME": os.path.join(home, "cache"),
        "WLR_BACKENDS": "headless",
        "WLR_RENDERER": "pixman",
        "WLR_LIBINPUT_NO_DEVICES": "1",
        "WLR_HEADLESS_OUTPUTS": str(a.outputs),
        # cage insists on an Xwayland binary even though no X11 client comes (as in the image).
        "WLR_XWAYLAND": "/bin/false",
        "QT_QPA_PLATFORM": "wayland",
        "WAYLAND_DEBUG": "client",
        "QT_LOGGING_RULES": "qt.qpa.wayland.backingstore=true",
    }
    # The sanitizer build's options carry over (UB halts the shell, and the test fails), but not
    # leak checking: the other shell tests do it, and LSan's suppressions file may be out of
    # `nobody`'s reach.
    env["ASAN_OPTIONS"] = ":".join(filter(None, [os.environ.get("ASAN_OPTIONS", ""), "detect_leaks=0"]))
    if "UBSAN_OPTIONS" in os.environ:
        env["UBSAN_OPTIONS"] = os.environ["UBSAN_OPTIONS"]
    # The shell writes to a pipe of its own (its stdout and stderr), apart from cage's log:
    # libwayland writes a WAYLAND_DEBUG line in several pieces, and cage's lines ("Basic output
    # test failed", several a frame) landed between them.
    shell_out, shell_out_w = os.pipe()
    if shell_out_w > 9:  # sh redirects single-digit descriptors only
        raise SystemExit(f"descriptor {shell_out_w} for the shell's output: too many open files")
    cmd = as_nobody(["cage", "-d", "--", "sh", "-c", f'exec "$@" >&{shell_out_w} 2>&1 {shell_out_w}>&-',
                     "sh", shell, "--kiosk-quit", "on-disconnect", f"spice://127.0.0.1:{port}"], root)
    keep = a.keep or work
    if a.keep:
        os.makedirs(a.keep, exist_ok=True)
    log_path = os.path.join(keep, "shell.log")
    cage_log_path = os.path.join(keep, "cage.log")
    commits = Commits()
    surface_at = None
    commits_at_surface = 0
    timed_out_callbacks = 0
    rc = 1
    lines = queue.Queue()
    with open(cage_log_path, "w") as cage_log:
        proc = subprocess.Popen(cmd, env=env, stdout=cage_log, stderr=subprocess.STDOUT,
                                pass_fds=(shell_out_w,), start_new_session=True)
    os.close(shell_out_w)

    def read_output():
        with open(shell_out, "r", errors="replace") as stream, open(log_path, "w") as out:
            for line in stream:
                out.write(line)
                lines.put(line)

    reader = threading.Thread(target=read_output, daemon=True)
    reader.start()
    start = time.monotonic()
    try:
        while True:
            now = time.monotonic()
            if surface_at is not None and now - surface_at >= a.seconds:
                break
            if now - start > a.timeout:
                log(f"FAIL: no desktop surface within {a.timeout:.0f} s")
                break
            if proc.poll() is not None:
                log(f"FAIL: cage exited ({proc.returncode}) before the end")
                break
            try:
                line = lines.get(timeout=0.1)
            except queue.Empty:
                continue
            commits.feed(line)
            if "frame callback in time" in line:
                timed_out_callbacks += 1
            if surface_at is None and re.search(r"surface 0 \d+ x \d+ .*primary", line):
                surface_at = time.monotonic()
                commits_at_surface = commits.commits
                log(f"desktop surface after {surface_at - start:.1f} s: {line.strip()}")
        if surface_at is not None and time.monotonic() - surface_at >= a.seconds:
            after = commits.commits - commits_at_surface
            log(f"{commits.commits} commits, {after} after the desktop's surface arrived; "
                f"{len(commits.undamaged)} asked for a frame callback without damage; "
                f"{timed_out_callbacks} frame callbacks timed out")
            for line in commits.undamaged[:5]:
                log(f"  undamaged: {line}")
            if commits.undamaged:
                log("FAIL: a commit asked for a frame callback without damage (cage never answers it)")
            elif after == 0:
                log("FAIL: the shell stopped committing before it showed the desktop")
            elif a.outputs > 1 and not outputs_show_displays(env, runtime, root):
                pass  # said why
            else:
                log("PASS")
                rc = 0
    finally:
        # SIGKILL: cage 0.1.4 aborts in wl_display_terminate on SIGTERM; the shell goes with
        # its Wayland connection.
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()
        reader.join(timeout=5)
        server.kill()
        server.wait()
    if rc != 0:
        log(f"logs: {log_path} {cage_log_path}")
    if not a.keep and rc == 0:
        shutil.rmtree(work, ignore_errors=True)
    return rc


if __name__ == "__main__":
    sys.exit(main())
