#!/usr/bin/env python3
"""Removes the GStreamer plugins an appliance image does not use (and other named files, e.g.
Mesa's GL drivers in a software-rendered recipe), then the shared libraries that only the removed
files needed.

Usage: prune-libs.py TREE --gst-keep "vpx jpeg ..." [--drop GLOB]...
  --gst-keep: plugin file names without libgst/.so; every other GStreamer plugin is removed
  --drop:     tree-relative glob of more files to remove (their orphaned libraries go too);
              "**" matches whole folders

Saffron builds explicit pipelines (media/video/DecoderCandidates.cpp: appsrc ! parser ! decoder !
appsink; no decodebin, no videoconvert), so the image needs only the elements those pipelines
name. Debian's plugins-good/bad/libav packages ship ~250 plugins that pull in GTK, flite, OpenEXR,
the Intel Media SDK, JACK, ... none of which Saffron ever loads.

A library is removed only when (a) some removed plugin needs it (DT_NEEDED, transitively) and
(b) no file that stays in the image needs it, transitively. Libraries that something dlopen()s
by name without a DT_NEEDED entry are therefore never candidates unless a removed plugin also
linked them; the ones that matter here (VA drivers, Mesa, Qt and PipeWire plugins, PAM and NSS
modules) are either not linked by any GStreamer plugin or are still needed by something kept.
"""
import argparse
import glob
import os
import subprocess
import sys

LIB_DIRS = ("usr/lib/x86_64-linux-gnu", "usr/lib", "lib/x86_64-linux-gnu", "lib")
GST_DIR = "usr/lib/x86_64-linux-gnu/gstreamer-1.0"


def tree_realpath(tree, path):
    """os.path.realpath as seen from inside TREE, the way the image will see it: an absolute link
    target (Debian's alternatives: liblapack.so.3 -> /etc/alternatives/... -> /usr/lib/...)
    resolves against the tree, never against the build host, and the answer never leaves the
    tree. (os.path.realpath followed such links onto the host, where a removal then deleted the
    host's own library.)"""
    base = os.path.realpath(tree)
    pending = [c for c in os.path.relpath(path, tree).split(os.sep) if c not in ("", ".")]
    done, hops = [], 0
    while pending:
        part = pending.pop(0)
        if part == "..":
            if done:
                done.pop()
            continue
        candidate = os.path.join(base, *done, part)
        if os.path.islink(candidate):
            hops += 1
            if hops > 64:
                raise OSError("symbolic link loop at " + candidate)
            target = os.readlink(candidate)
            if target.startswith("/"):
                done = []
            pending = [c for c in target.split("/") if c not in ("", ".")] + pending
        else:
            done.append(part)
    return os.path.join(base, *done)


def is_elf(path):
    try:
        with open(path, "rb") as f:
            return f.read(4) == b"\x7fELF"
    except OSError:
        return False


def needed_map(files):
    """path -> [soname] from readelf -d, run in batches (readelf names each file in a "File:"
    header only when given more than one)."""
    out = {f: [] for f in files}
    files = list(files)
    for i in range(0, len(files), 400):
        batch = files[i : i + 400]
        text = subprocess.run(["readelf", "-dW", "--", *batch], capture_output=True, text=True).stdout
        current = batch[0] if len(batch) == 1 else None
        for line in text.splitlines():
            if line.startswith("File: "):
                current = line[6:].strip()
            elif "(NEEDED)" in line and current in out:
                out[current].append(line.split("[", 1)[1].split("]", 1)[0])
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("tree")
    ap.add_argument("--gst-keep", default=None)
    ap.add_argument("--drop", action="append", default=[])
    a = ap.parse_args()
    tree = a.tree
    gst = os.path.join(tree, GST_DIR)

    # Every regular ELF file in the tree, by real path.
    elves = []
    for root, dirs, names in os.walk(tree):
        rel = os.path.relpath(root, tree)
        if rel.split(os.sep)[0] in ("proc", "sys", "dev", "run", "boot"):
            dirs[:] = []
            continue
        for n in names:
            p = os.path.join(root, n)
            if not os.path.islink(p) and os.path.isfile(p) and is_elf(p):
                elves.append(tree_realpath(tree, p))
    needs = needed_map(elves)

    # soname -> real paths in the library directories.
    by_name = {}
    for d in LIB_DIRS:
        full = os.path.join(tree, d)
        if not os.path.isdir(full) or os.path.islink(full):
            continue
        for n in os.listdir(full):
            real = tree_realpath(tree, os.path.join(full, n))
            if os.path.isfile(real):
                by_name.setdefault(n, set()).add(real)

    def closure(roots):
        seen, todo = set(), list(roots)
        while todo:
            f = todo.pop()
            for so in needs.get(f, ()):
                for lib in by_name.get(so, ()):
                    if lib not in seen:
                        seen.add(lib)
                        todo.append(lib)
        return seen

    plugins, removed = [], set()
    if a.gst_keep is not None and os.path.isdir(gst):
        keep = set(a.gst_keep.split())
        plugins = [tree_realpath(tree, os.path.join(gst, n)) for n in os.listdir(gst) if n.endswith(".so")]
        removed = {p for p in plugins if os.path.basename(p)[len("libgst") : -len(".so")] not in keep}
        missing = keep - {os.path.basename(p)[len("libgst") : -len(".so")] for p in plugins}
        if missing:
            print(f"    prune-libs: note: kept plugins not in the image: {' '.join(sorted(missing))}")
    dropped = set()
    for pattern in a.drop:
        for f in glob.glob(os.path.join(tree, pattern), recursive=True):
            if os.path.isfile(f) and not os.path.islink(f):
                dropped.add(tree_realpath(tree, f))
    removed |= dropped
    candidates = closure(removed) - removed
    still_needed = closure(set(elves) - removed - candidates)
    orphans = candidates - still_needed

    # Never touch anything outside the tree, whatever a link said.
    inside = os.path.realpath(tree) + os.sep
    outside = sorted(f for f in removed | orphans if not f.startswith(inside))
    if outside:
        print("prune-libs: refusing to remove files outside the tree: " + " ".join(outside), file=sys.stderr)
        return 1
    freed, inodes = 0, set()
    for f in sorted(removed | orphans):
        st = os.stat(f)
        if (st.st_dev, st.st_ino) not in inodes:  # Mesa's DRI drivers are hard links of one file
            inodes.add((st.st_dev, st.st_ino))
            freed += st.st_size
        os.remove(f)
    # Dangling soname/dev symlinks of the removed libraries.
    for d in LIB_DIRS:
        full = os.path.join(tree, d)
        if not os.path.isdir(full) or os.path.islink(full):
            continue
        for n in os.listdir(full):
            p = os.path.join(full, n)
            if os.path.islink(p) and not os.path.exists(tree_realpath(tree, p)):
                os.remove(p)
    print(f"    prune-libs: kept {len(plugins) - len(removed - dropped)} of {len(plugins)} GStreamer plugins, "
          f"dropped {len(dropped)} more files, removed {len(orphans)} libraries only they needed; "
          f"{freed >> 20} MiB freed")
    names = sorted(os.path.basename(f) for f in orphans)
    print("    prune-libs: libraries removed: " + " ".join(names))
    return 0


if __name__ == "__main__":
    sys.exit(main())
