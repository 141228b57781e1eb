#!/usr/bin/env python3
"""smoke-test.py OUTDIR [--shots DIR] [--timeout S]

Boots the demo guest built by scripts/make-demo-guest.sh through scripts/demo-guest/run-guest.sh
(the same QEMU command the demo uses, plus a serial port) and checks, end to end, that it is a
usable desktop for the demo:
  1. the login shell comes up on tty1 (its /etc/profile writes a marker to the serial port);
  2. the screen QEMU hands to SPICE is the 1024x768 qxl framebuffer and shows text;
  3. keys injected with QMP send-key (the same PS/2 keyboard a SPICE client drives) reach the
     shell: it runs `echo typed-$((6*7)) >/dev/ttyS0` and "typed-42" appears on the serial port;
  4. Ctrl+C interrupts a running `sleep 1000` (the shell owns tty1 as its controlling terminal);
  5. the text typed shows up on the screen (more lit pixels than before).
With --shots DIR it keeps the QMP screendumps (PNG) for a human to look at.
Exit status 0 on success. Uses only the Python standard library and needs no KVM.
"""

import argparse
import json
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))

# US keyboard layout: character -> (QEMU qcode, needs shift).
_UNSHIFTED = {" ": "spc", "\n": "ret", "\t": "tab", "-": "minus", "=": "equal",
              "[": "bracket_left", "]": "bracket_right", "\\": "backslash",
              ";": "semicolon", "'": "apostrophe", ",": "comma", ".": "dot",
              "/": "slash", "`": "grave_accent"}
_SHIFTED = {"!": "1", "@": "2", "#": "3", "$": "4", "%": "5", "^": "6", "&": "7",
            "*": "8", "(": "9", ")": "0", "_": "minus", "+": "equal",
            "{": "bracket_left", "}": "bracket_right", "|": "backslash",
            ":": "semicolon", '"': "apostrophe", "<": "comma", ">": "dot",
            "?": "slash", "~": "grave_accent"}


def keys_for(ch):
    if ch.isascii() and (ch.islower() or ch.isdigit()):
        return [ch]
    if ch.isascii() and ch.isupper():
        return ["shift", ch.lower()]
    if ch in _UNSHIFTED:
        return [_UNSHIFTED[ch]]
    if ch in _SHIFTED:
        return ["shift", _SHIFTED[ch]]
    raise ValueError(f"no key for {ch!r}")


class Qmp:
    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.settimeout(30)
        self.sock.connect(path)
        self.file = self.sock.makefile("rw")
        json.loads(self.file.readline())  # greeting
        self.call("qmp_capabilities")

    def call(self, name, **args):
        self.file.write(json.dumps({"execute": name, "arguments": args}) + "\n")
        self.file.flush()
        while True:
            line = self.file.readline()
            if not line:
                raise RuntimeError(f"QMP closed during {name}")
            reply = json.loads(line)
            if "error" in reply:
                raise RuntimeError(f"QMP {name}: {reply['error']}")
            if "return" in reply:  # anything else is an asynchronous event
                return reply["return"]

    def type(self, text):
        for ch in text:
            self.call("send-key", keys=[{"type": "qcode", "data": k} for k in keys_for(ch)])
            time.sleep(0.02)

    def screendump(self, path):
        self.call("screendump", filename=path, format="png")


def png_stats(path):
    """(width, height, lit) of an 8-bit RGB PNG as QEMU writes it; lit counts non-black pixels."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise RuntimeError(f"{path} is not a PNG")
    pos, idat, width, height = 8, b"", 0, 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour = struct.unpack(">IIBB", body[:10])
            if (depth, colour) != (8, 2):
                raise RuntimeError(f"unexpected PNG format depth={depth} colour={colour}")
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = width * 3
    prev = bytearray(stride)
    lit = 0
    for y in range(height):
        row = raw[y * (stride + 1):(y + 1) * (stride + 1)]
        ftype, line = row[0], bytearray(row[1:])
        for i in range(stride):  # undo the PNG row filters (RFC 2083 section 6)
            a = line[i - 3] if i >= 3 else 0
            b = prev[i]
            c = prev[i - 3] if i >= 3 else 0
            if ftype == 1:
                line[i] = (line[i] + a) & 0xFF
            elif ftype == 2:
                line[i] = (line[i] + b) & 0xFF
            elif ftype == 3:
                line[i] = (line[i] + (a + b) // 2) & 0xFF
            elif ftype == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                line[i] = (line[i] + pred) & 0xFF
        lit += sum(1 for x in range(0, stride, 3) if line[x] or line[x + 1] or line[x + 2])
        prev = line
    return width, height, lit


def wait_for(path, needle, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with open(path, "rb") as f:
                if needle in f.read():
                    return True
        except FileNotFoundError:
            pass
        time.sleep(0.2)
    return False


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("outdir")
    ap.add_argument("--shots", help="directory that receives the screendumps")
    ap.add_argument("--timeout", type=float, default=180, help="seconds allowed for boot (TCG is slow)")
    opts = ap.parse_args()

    tmp = tempfile.mkdtemp(prefix="saffron-guest-")
    shots = opts.shots or tmp
    os.makedirs(shots, exist_ok=True)
    serial = os.path.join(tmp, "serial.log")
    qmp_path = os.path.join(tmp, "qmp.sock")
    env = dict(os.environ, SAFFRON_GUEST_SERIAL=serial, SAFFRON_GUEST_LOG=os.path.join(tmp, "qemu.log"))
    started = time.monotonic()
    pid = int(subprocess.run([os.path.join(HERE, "run-guest.sh"), opts.outdir, str(free_port()), qmp_path],
                             env=env, check=True, stdout=subprocess.PIPE, text=True).stdout)
    ok = False
    try:
        if not wait_for(serial, b"shell ready on /dev/tty1", opts.timeout):
            raise RuntimeError(f"no shell prompt within {opts.timeout:.0f}s")
        boot = time.monotonic() - started
        print(f"boot to prompt: {boot:.1f}s")
        qmp = Qmp(qmp_path)
        time.sleep(0.5)  # let the prompt reach the framebuffer
        first = os.path.join(shots, "1-prompt.png")
        qmp.screendump(first)
        w, h, lit0 = png_stats(first)
        print(f"screen after boot: {w}x{h}, {lit0} lit pixels ({first})")
        if lit0 == 0:
            raise RuntimeError("the screen is black")

        qmp.type("echo hello; echo typed-$((6*7)) >/dev/ttyS0\n")
        if not wait_for(serial, b"typed-42", 60):
            raise RuntimeError("typed command did not run")
        print("keyboard: typed command ran")

        qmp.type("sleep 1000\n")
        time.sleep(1)
        qmp.call("send-key", keys=[{"type": "qcode", "data": "ctrl"}, {"type": "qcode", "data": "c"}])
        qmp.type("echo after-ctrl-c-$? >/dev/ttyS0\n")
        if not wait_for(serial, b"after-ctrl-c-130", 30):
            raise RuntimeError("Ctrl+C did not interrupt sleep")
        print("keyboard: Ctrl+C interrupted sleep (exit status 130)")

        time.sleep(0.5)
        second = os.path.join(shots, "2-typed.png")
        qmp.screendump(second)
        _, _, lit1 = png_stats(second)
        print(f"screen after typing: {lit1} lit pixels ({second})")
        if lit1 <= lit0:
            raise RuntimeError("typed text did not appear on the screen")
        qmp.call("quit")
        ok = True
    except Exception as e:  # report, then clean up below
        print(f"FAIL: {e}", file=sys.stderr)
        try:
            with open(serial, errors="replace") as f:
                sys.stderr.write("serial output:\n" + f.read())
        except FileNotFoundError:
            pass
    finally:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:  # the pid is not our child (run-guest.sh started it): watch /proc
                with open(f"/proc/{pid}/stat") as f:
                    if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                        break
            except FileNotFoundError:
                break
            time.sleep(0.1)
        else:
            os.kill(pid, 9)
    if ok and not opts.shots:
        shutil.rmtree(tmp, ignore_errors=True)
    elif not ok:
        print(f"kept {tmp} (serial.log, qemu.log, screendumps)", file=sys.stderr)
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
