#!/usr/bin/env python3
"""Manual end-to-end check of saffron-test-server with a reference client.

Starts the server (static workload by default), shows it with remote-viewer (virt-viewer)
inside Xvfb, grabs the X root window with xwd, writes it as PNG for a human to look at, and
searches the screenshot for the exact --dump-expected image (remote-viewer shows the guest at
1:1 when its window is large enough, and lossless image compression keeps every pixel).

Needs: xvfb-run (xvfb), remote-viewer (virt-viewer), xwd (x11-apps). Python standard library only.

  tools/viewer_check.py BUILD/tests/spice-test-server/saffron-test-server --out /tmp/shot.png \
      [--size 800x600] [--wait 8] [-- more server options, e.g. --workload photo]
"""

import argparse
import os
import struct
import subprocess
import sys
import tempfile
import zlib


def read_ppm(path):
    with open(path, "rb") as f:
        data = f.read()
    # Header: b"P6", width, height, maxval, each after whitespace; then exactly one whitespace
    # byte before the pixels (netpbm), which may themselves start with whitespace-like bytes,
    # so the pixels are never found by splitting.
    fields, pos = [], 0
    while len(fields) < 4:
        while pos < len(data) and data[pos : pos + 1].isspace():
            pos += 1
        end = pos
        while end < len(data) and not data[end : end + 1].isspace():
            end += 1
        fields.append(data[pos:end])
        pos = end
    if fields[0] != b"P6" or fields[3] != b"255":
        raise ValueError("not a binary 8-bit PPM: " + path)
    width, height = int(fields[1]), int(fields[2])
    pixels = data[pos + 1 : pos + 1 + width * height * 3]
    if len(pixels) != width * height * 3:
        raise ValueError("truncated PPM: " + path)
    return width, height, pixels


def read_xwd(path):
    """Returns (width, height, rows of packed RGB bytes) for a ZPixmap XWD of depth 24."""
    with open(path, "rb") as f:
        data = f.read()
    header = struct.unpack(">25I", data[:100])
    header_size, width, height = header[0], header[4], header[5]
    byte_order, bits_per_pixel, bytes_per_line, ncolors = header[7], header[11], header[12], header[19]
    masks = header[14:17]
    shifts = [(m & -m).bit_length() - 1 for m in masks]
    step = bits_per_pixel // 8
    order = "little" if byte_order == 0 else "big"
    start = header_size + ncolors * 12
    rows = []
    for y in range(height):
        line = data[start + y * bytes_per_line : start + y * bytes_per_line + width * step]
        out = bytearray(width * 3)
        for x in range(width):
            p = int.from_bytes(line[x * step : (x + 1) * step], order)
            for c in range(3):
                out[x * 3 + c] = (p & masks[c]) >> shifts[c]
        rows.append(bytes(out))
    return width, height, rows


def write_png(path, width, rows):
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    raw = b"".join(b"\0" + r for r in rows)
    ihdr = struct.pack(">IIBBBBB", width, len(rows), 8, 2, 0, 0, 0)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw, 6)) + chunk(b"IEND", b""))


def find_image(rows, width, height, expected):
    """Top-left (x, y) where `expected` appears exactly in the screenshot rows, or None."""
    first = expected[: width * 3]
    for y in range(len(rows) - height + 1):
        at = rows[y].find(first)
        while at >= 0:
            if at % 3 == 0 and all(
                rows[y + dy][at : at + width * 3] == expected[dy * width * 3 : (dy + 1) * width * 3]
                for dy in range(height)
            ):
                return at // 3, y
            at = rows[y].find(first, at + 1)
    return None


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("server")
    parser.add_argument("--out", required=True, help="PNG screenshot to write")
    parser.add_argument("--size", default="800x600")
    parser.add_argument("--wait", type=float, default=8.0, help="seconds before the screenshot")
    argv = sys.argv[1:]
    extra = argv[argv.index("--") + 1 :] if "--" in argv else []
    args = parser.parse_args(argv[: argv.index("--")] if "--" in argv else argv)
    width, height = (int(v) for v in args.size.split("x"))
    server_args = ["--size", args.size] + extra

    with tempfile.TemporaryDirectory() as tmp:
        expected_path = os.path.join(tmp, "expected.ppm")
        subprocess.run([args.server, *server_args, "--dump-expected", expected_path], check=True)
        _, _, expected = read_ppm(expected_path)

        server = subprocess.Popen([args.server, "--port", "0", *server_args], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, text=True)
        port = None
        for line in server.stdout:
            if line.startswith("READY "):
                port = line.split("port=")[1].split()[0]
                break
        if port is None:
            sys.exit("server did not become ready")

        shot = os.path.join(tmp, "root.xwd")
        script = (
            f"remote-viewer spice://127.0.0.1:{port} >/dev/null 2>&1 & viewer=$!; "
            f"sleep {args.wait}; xwd -root -silent -out {shot}; kill $viewer; wait $viewer 2>/dev/null"
        )
        screen = f"-screen 0 {width + 256}x{height + 256}x24"
        subprocess.run(["xvfb-run", "-a", "-s", screen, "sh", "-c", script], check=False)
        server.stdin.write("quit\n")
        server.stdin.flush()
        server.wait(timeout=30)

        shot_width, _, rows = read_xwd(shot)
        write_png(args.out, shot_width, rows)
        where = find_image(rows, width, height, expected)
        if where is None:
            print(f"MISMATCH: the expected {args.size} image is not in the screenshot ({args.out})")
            return 1
        print(f"MATCH: expected {args.size} image found pixel-exact at {where} in {args.out}")
        return 0


if __name__ == "__main__":
    sys.exit(main())
