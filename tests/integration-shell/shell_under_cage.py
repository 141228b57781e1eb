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

Exit 77 (ctest: skipped) without cage, Qt's Wayland platform plugin or QEMU. cage refuses to
run as root, so as root the shell and cage run as `nobody` from a copy of the binary.
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


def missing_tool():
    for tool in ("cage", "qemu-system-x86_64", "setpriv"):
        if not shutil.which(tool):
            return f"{tool} is not installed"
    if not glob.glob("/usr/lib/*/qt6/plugins/platforms/libqwayland-generic.so"):
        return "Qt's Wayland platform plugin (qt6-wayland) is not installed"
    return None


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


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shell", required=True, help="the saffron binary")
    ap.add_argument("--seconds", type=float, default=8.0, help="how long to watch after the desktop's surface")
    ap.add_argument("--timeout", type=float, default=90.0)
    ap.add_argument("--keep", help="folder for the log")
    a = ap.parse_args()

    why = missing_tool()
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
            os.chown(d, 65534, 65534)

    port = free_port()
    qemu = subprocess.Popen(
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
    cmd = ["cage", "-d", "--", shell, "--kiosk-quit", "on-disconnect", f"spice://127.0.0.1:{port}"]
    if root:
        cmd = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] + cmd
    log_path = os.path.join(a.keep or work, "cage.log")
    if a.keep:
        os.makedirs(a.keep, exist_ok=True)
    commits = Commits()
    surface_at = None
    commits_at_surface = 0
    timed_out_callbacks = 0
    rc = 1
    lines = queue.Queue()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            errors="replace", start_new_session=True)

    def read_output():
        with open(log_path, "w") as out:
            for line in proc.stdout:
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
        qemu.kill()
        qemu.wait()
    if rc != 0:
        log(f"log: {log_path}")
    if not a.keep and rc == 0:
        shutil.rmtree(work, ignore_errors=True)
    return rc


if __name__ == "__main__":
    sys.exit(main())
