#!/usr/bin/env python3
"""End-to-end video: saffron-cli, saffron and remote-viewer on the same full-screen video stream.

For each codec (default gstreamer:h264, then spice:mjpeg) and each client, the bench starts a
fresh saffron-test-server (libspice-server) playing `video-moving` over the whole 1920x1080
surface with `--streaming-video all`, so the server turns it into a video stream of that codec,
connects the client, waits until the client receives stream frames plus a warm-up, and measures
a fixed window (default 10 s). Clients are interleaved (cli, saffron, remote-viewer, then again)
over --reps repetitions; medians are printed, with ratios against remote-viewer's.

How each figure is taken:
  CPU          the client's utime+stime (all threads). For saffron and saffron-cli from their
               own SAFFRON_STATS_LOG lines (CLOCK_PROCESS_CPUTIME_ID and CLOCK_MONOTONIC in one
               line, so the window is exact); for remote-viewer from /proc/PID/stat, read at the
               same moments as its log.
  frames       saffron/saffron-cli: frames presented (drawn into the surface, or handed to the
               shell's video layer) from the same lines; remote-viewer: the frames spice-gtk
               took for display, one "video margin" debug line each (SPICE_DEBUG=1; frames it
               dropped as late log "stream data too late" and are counted apart). spice-gtk
               logs a few lines per message in this mode: a cost charged to remote-viewer.
  latency      saffron only: arrival to present (message parsed -> drawn / handed over) and
               decode time, averaged over the window's frames. spice-gtk does not expose it.
  server       frames the server submitted in the window (FRAME lines) and MB it sent to the
               client (ss bytes_acked): with one server per client these show whether a client
               was sent less (spice-server encodes what it can: on a 2-core machine the encoder
               shares the CPU with the client, so a heavier client is sent fewer frames).

spice-server picks a stream's bit rate from its network test and the client's stream reports;
on loopback that test measures hundreds of Gbit/s and x264enc's qp-min=15 is the only limit.
The bench therefore gives every server SPICE_BIT_RATE (--bit-rate, Mbit/s, default 8; 0 leaves
spice-server's own choice), and prints the KB each client was sent per frame: decoding cost
grows with the bits, so CPU per frame is comparable only where those match (see README.md).

Python standard library; iproute2's ss, Xvfb and remote-viewer for the windowed clients.
Never asserts a time: exits 0 when every run measured, 1 when one failed, 77 without the test
server.
"""

import argparse
import json
import os
import re
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_codec_cpu import (CLK_TCK, Processes, TestServer, Xvfb, add_client_arguments,  # noqa: E402
                             bytes_sent, client_command, cpu_ticks, exit_on_signals, rss_kib,
                             windowed_clients)

STATS_LINE = re.compile(r"^saffron-stats (.*)$")
RV_FRAME = "video margin:"
RV_LATE = "stream data too late"


def stats_lines(path):
    """Every SAFFRON_STATS_LOG line in a client log, as dicts of ints."""
    lines = []
    with open(path, errors="replace") as f:
        for line in f:
            m = STATS_LINE.match(line.strip())
            if m:
                lines.append({k: int(v) for k, v in (kv.split("=", 1) for kv in m.group(1).split())})
    return lines


def count_in(path, needle):
    with open(path, errors="replace") as f:
        return sum(1 for line in f if needle in line)


def wait_for(predicate, seconds, proc):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"exited early ({proc.returncode})")
        if predicate():
            return True
        time.sleep(0.1)
    return False


def measure(args, procs, codec, client, xvfb, out_dir, rep):
    tag = f"{codec.replace(':', '-')}-{client}-{rep}"
    server_args = ["--workload", "video-moving", "--size", args.size, "--video-fullscreen", "--fps", str(args.fps),
                   "--streaming-video", "all", "--video-codecs", codec,
                   # Lossless frames before the stream go out uncompressed: with the default
                   # auto_glz, encoding them at 1920x1080 takes long enough to break spice-server's
                   # stream detection while a client is attached (tests/spice-test-server/README.md).
                   "--image-compression", "off"]
    server = TestServer(procs, args.server, server_args, os.path.join(out_dir, f"{tag}-server.log"))
    uri = f"spice://127.0.0.1:{server.port}"
    cmd, env = client_command(args, client, uri, xvfb, int(args.warmup + args.window + 90))
    env["SAFFRON_STATS_LOG"] = "500"
    if client == "remote-viewer":
        env.update(SPICE_DEBUG="1", G_MESSAGES_DEBUG="all")
    log_path = os.path.join(out_dir, f"{tag}.log")
    with open(log_path, "w") as log:
        proc = procs.start(cmd, env=env, stdout=log, stderr=log)
    result = {"codec": codec, "client": client, "rep": rep}
    ours = client != "remote-viewer"
    try:
        if not server.client.wait(30):
            raise RuntimeError("the client never opened its display channel")
        if ours:
            streaming = lambda: any(s["received"] > 0 for s in stats_lines(log_path))  # noqa: E731
        else:
            streaming = lambda: count_in(log_path, RV_FRAME) > 0  # noqa: E731
        if not wait_for(streaming, args.stream_wait, proc):
            raise RuntimeError(f"no stream frame reached the client within {args.stream_wait:.0f} s")
        time.sleep(args.warmup)
        t0, f0, b0 = time.monotonic(), server.frame, bytes_sent(server.port)
        if ours:
            first = stats_lines(log_path)[-1]
        else:
            c0, n0, l0 = cpu_ticks(proc.pid), count_in(log_path, RV_FRAME), count_in(log_path, RV_LATE)
        time.sleep(args.window)
        if proc.poll() is not None:
            raise RuntimeError(f"exited inside the window ({proc.returncode})")
        if ours:
            # The last line written once the window is over (they come every 0.5 s).
            wait_for(lambda: stats_lines(log_path)[-1]["t_ms"] >= first["t_ms"] + args.window * 1000, 2, proc)
            last = stats_lines(log_path)[-1]
            seconds = (last["t_ms"] - first["t_ms"]) / 1000.0
            d = {k: last[k] - first[k] for k in last if k != "arrival_to_present_max_ns"}
            presented = d["presented"]
            result.update(seconds=seconds, cpu_ms=d["cpu_ms"], frames=presented,
                          received=d["received"], late=d["drops_late"] + d["drops_decoder"],
                          decode_ms=d["decode_ns"] / 1e6 / d["decoded"] if d["decoded"] else None,
                          arrival_ms=d["arrival_to_present_ns"] / 1e6 / presented if presented else None,
                          arrival_max_ms=last["arrival_to_present_max_ns"] / 1e6,
                          as_layer=d["as_layer"])
        else:
            c1, n1, l1 = cpu_ticks(proc.pid), count_in(log_path, RV_FRAME), count_in(log_path, RV_LATE)
            result.update(seconds=time.monotonic() - t0, cpu_ms=(c1 - c0) * 1000.0 / CLK_TCK,
                          frames=n1 - n0, received=(n1 - n0) + (l1 - l0), late=l1 - l0)
        f1, b1 = server.frame, bytes_sent(server.port)
        result.update(server_frames=f1 - f0, rss_mib=rss_kib(proc.pid) / 1024,
                      sent_mb=(b1 - b0) / 1e6 if b0 is not None and b1 is not None else None)
        result["fps"] = result["frames"] / result["seconds"]
        received = result["received"]
        result["kb_per_frame"] = result["sent_mb"] * 1000 / received if result["sent_mb"] and received else None
        result["ms_per_frame"] = result["cpu_ms"] / result["frames"] if result["frames"] else None
        if server.resized:
            raise RuntimeError(f"the client resized the guest to {', '.join(server.resized)}")
    except RuntimeError as e:
        result["error"] = str(e)
    finally:
        procs.stop(proc)
        procs.stop(server.proc)
    return result


def median(results, key):
    values = [r[key] for r in results if r.get(key) is not None]
    return statistics.median(values) if values else None


def fmt(value, digits=1):
    return "n/a" if value is None else f"{value:.{digits}f}"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_client_arguments(ap)
    ap.add_argument("--codecs", default="gstreamer:h264,spice:mjpeg", help="--video-codecs values, comma-separated")
    ap.add_argument("--size", default="1920x1080")
    ap.add_argument("--fps", type=int, default=25, help="frames the test server submits per second")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--window", type=float, default=10.0, help="measured seconds")
    ap.add_argument("--warmup", type=float, default=3.0, help="seconds after the first stream frame")
    ap.add_argument("--stream-wait", type=float, default=60.0)
    ap.add_argument("--bit-rate", type=float, default=8.0,
                    help="SPICE_BIT_RATE for the servers (Mbit/s); 0: spice-server's own estimate")
    ap.add_argument("--out", default="video-e2e", help="folder for logs and results.json")
    ap.add_argument("--note", default="")
    args = ap.parse_args()

    if not os.access(args.server, os.X_OK):
        print(f"SKIP: no test server at {args.server}")
        return 77
    os.makedirs(args.out, exist_ok=True)
    if args.bit_rate > 0:
        os.environ["SPICE_BIT_RATE"] = f"{args.bit_rate:g}"  # read by every server started below
    else:
        os.environ.pop("SPICE_BIT_RATE", None)
    clients = ["saffron-cli"] + windowed_clients(args, order=("saffron", "remote-viewer"))

    procs = Processes()
    exit_on_signals()
    results = []
    try:
        xvfb = Xvfb(procs, args.size + "x24") if len(clients) > 1 else None
        for codec in args.codecs.split(","):
            for rep in range(args.reps):
                for client in clients:
                    r = measure(args, procs, codec, client, xvfb, args.out, rep)
                    results.append(r)
                    if "error" in r:
                        print(f"  {codec:16} {client:13} rep {rep}: FAILED: {r['error']}", flush=True)
                        continue
                    extra = ""
                    if r.get("arrival_ms") is not None:
                        extra = (f", arrival->present {fmt(r['arrival_ms'], 2)} ms (max {fmt(r['arrival_max_ms'])}),"
                                 f" decode {fmt(r['decode_ms'], 2)} ms")
                    print(f"  {codec:16} {client:13} rep {rep}: {r['frames']:4} frames in {r['seconds']:.1f} s"
                          f" = {r['fps']:5.1f} fps, {r['cpu_ms']:6.0f} ms CPU = {fmt(r['ms_per_frame'], 2)} ms/frame,"
                          f" late/dropped {r['late']}{extra}; server {r['server_frames']} frames,"
                          f" {fmt(r['sent_mb'])} MB sent ({fmt(r['kb_per_frame'], 0)} KB a frame)", flush=True)
    finally:
        procs.stop_all()

    with open(os.path.join(args.out, "results.json"), "w") as f:
        json.dump({"args": vars(args), "results": results}, f, indent=1)

    bit_rate = f"SPICE_BIT_RATE={args.bit_rate:g}" if args.bit_rate > 0 else "spice-server's own bit rate"
    print(f"\nMedians over {args.reps} interleaved repetitions, {args.window:.0f} s windows, video-moving"
          f" {args.size} at {args.fps} fps submitted, whole surface streamed, {bit_rate}"
          f"{', ' + args.note if args.note else ''}.")
    print("saffron-cli is headless; saffron and remote-viewer are windowed on Xvfb (no GPU: their"
          " colour conversion and painting run on the CPU).")
    print(f"{'codec':16} {'client':13} {'fps':>6} {'vs rv':>6} {'CPU ms/frame':>13} {'vs rv':>6}"
          f" {'arrival->present':>17} {'decode':>7} {'KB/frame':>9}")
    for codec in args.codecs.split(","):
        ok = {c: [r for r in results if r["codec"] == codec and r["client"] == c and "error" not in r]
              for c in clients}
        rv = median(ok.get("remote-viewer", []), "ms_per_frame")
        rv_fps = median(ok.get("remote-viewer", []), "fps")
        for client in clients:
            rs = ok[client]
            if not rs:
                print(f"{codec:16} {client:13} no successful run")
                continue
            per_frame = median(rs, "ms_per_frame")
            ratio = f"{per_frame / rv:.2f}" if per_frame and rv else "-"
            fps = median(rs, "fps")
            fps_ratio = f"{fps / rv_fps:.2f}" if fps and rv_fps else "-"
            print(f"{codec:16} {client:13} {fmt(fps):>6} {fps_ratio:>6} {fmt(per_frame, 2):>13} {ratio:>6}"
                  f" {fmt(median(rs, 'arrival_ms'), 2) + ' ms' if client != 'remote-viewer' else 'n/a':>17}"
                  f" {fmt(median(rs, 'decode_ms'), 2) + ' ms' if client != 'remote-viewer' else 'n/a':>7}"
                  f" {fmt(median(rs, 'kb_per_frame'), 0):>9}")
    return 1 if any("error" in r for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
