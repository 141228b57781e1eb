#!/usr/bin/env python3
"""Install test of the pc-installer recipe under QEMU TCG (no KVM).

1. The live image boots from one disk with a blank 2 GiB disk beside it. Its boot entry gets
   `saffron.install=/dev/vdb` (written into the ESP copy with mtools), the unattended install:
   systemd-repart copies the ESP and root slot A to the blank disk, adds slot B and a fresh
   /var, and the VM powers off.
2. The installed disk boots alone (fresh firmware variables): pass when its boot is confirmed
   (saffron-boot-check: the shell's first screen is up), the screen shows the launcher (not
   blank), and its journal has no failed units.
Exit 77 (ctest SKIP_RETURN_CODE) when not root or the image is missing.
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import boot_test as bt  # noqa: E402  (the QMP client, partition and journal helpers)

SKIP = 77


def log(msg):
    print(f"install_test: {msg}", flush=True)


def add_kernel_option(disk, option):
    """Appends option to every boot entry's `options` line in the disk's ESP."""
    off, _ = bt.gpt_partition(disk, "ESP")
    env = dict(os.environ, MTOOLS_SKIP_CHECK="1")
    img = f"{disk}@@{off}"
    for name in bt.esp_entries(disk):
        text = subprocess.run(["mtype", "-i", img, f"::/loader/entries/{name}"], check=True, capture_output=True,
                              text=True, env=env).stdout
        lines = [l + " " + option if l.startswith("options ") else l for l in text.splitlines()]
        with tempfile.NamedTemporaryFile("w", delete=False) as f:
            f.write("\n".join(lines) + "\n")
        subprocess.run(["mcopy", "-o", "-i", img, f.name, f"::/loader/entries/{name}"], check=True, env=env)
        os.unlink(f.name)


def qemu(work, name, drives):
    """A thin-client VM with its own fresh OVMF variable store (boot_test.thinclient_vm)."""
    vars_fd = os.path.join(work, f"{name}-vars.fd")
    shutil.copy(bt.OVMF_VARS, vars_fd)
    return bt.thinclient_vm(work, name, drives, vars_fd)


def screen_spread(ppm):
    w, h, px = bt.read_ppm(ppm)
    grid = bt.cell_grid((w, h, px), (0, 0, w, h), 16, 12)
    return max(grid) - min(grid)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--image", required=True, help="saffron-pc-installer.raw from image-build/build-image.sh")
    ap.add_argument("--timeout", type=int, default=900)
    ap.add_argument("--keep", help="folder to keep disks, serial logs, screendump and journal in")
    a = ap.parse_args()
    why = bt.missing_prerequisite(a.image, "pc-installer",
                                  ("qemu-system-x86_64", "sfdisk", "debugfs", "journalctl", "mtype", "mcopy"))
    if why:
        log(f"SKIP: {why}")
        return SKIP
    work = a.keep or tempfile.mkdtemp(prefix="saffron-install-")
    os.makedirs(work, exist_ok=True)
    procs = []
    try:
        live = os.path.join(work, "live.raw")
        target = os.path.join(work, "target.raw")
        subprocess.run(["cp", "--sparse=always", a.image, live], check=True)
        if os.path.exists(target):
            os.remove(target)
        with open(target, "wb") as f:
            f.truncate(2 << 30)
        add_kernel_option(live, "saffron.install=/dev/vdb")
        log("live image booting with saffron.install=/dev/vdb beside a blank 2 GiB disk")
        t0 = time.time()
        proc, vm, serial = qemu(work, "live", [live, target])
        procs.append(proc)
        try:
            proc.wait(timeout=a.timeout)
        except subprocess.TimeoutExpired:
            log(f"FAIL: the live VM did not power off within {a.timeout} s")
            sys.stdout.write("".join(bt.serial_lines(serial, "saffron-install")[-10:]))
            return 1
        lines = bt.serial_lines(serial, "saffron-install:")
        log("installer: " + " | ".join(lines))
        if not any("installed to /dev/vdb" in l for l in lines):
            log("FAIL: the unattended install did not finish")
            return 1
        t_installed = time.time() - t0
        parts = [p for p in ("ESP", "saffron-root-a", "saffron-root-b", "saffron-var")
                 if _has_partition(target, p)]
        log(f"installed in {t_installed:.0f} s (TCG); target partitions: {', '.join(parts)}")
        if len(parts) != 4:
            log("FAIL: the installed disk lacks partitions")
            return 1
        off, _ = bt.gpt_partition(target, "ESP")
        entries = bt.esp_entries(target)
        texts = [subprocess.run(["mtype", "-i", f"{target}@@{off}", f"::/loader/entries/{n}"], capture_output=True,
                                text=True, env=dict(os.environ, MTOOLS_SKIP_CHECK="1")).stdout for n in entries]
        if not entries or any("saffron.install" in t for t in texts):
            log(f"FAIL: the installed disk's boot entries {entries} are missing or still ask for an install")
            return 1

        log("booting the installed disk alone")
        t1 = time.time()
        proc, vm, serial = qemu(work, "installed", [target])
        procs.append(proc)
        confirmed = bt.wait_serial(serial, "saffron-boot: slot A confirmed good", t1 + a.timeout, proc)
        shot = os.path.join(work, "installed.ppm")
        spread = 0.0
        if confirmed is not None:
            time.sleep(5)
            vm.cmd("screendump", filename=shot)
            vm.cmd("screendump", filename=os.path.join(work, "installed.png"), format="png")
            spread = screen_spread(shot)
        up = time.time() - t1
        vm.cmd("system_powerdown")
        try:
            proc.wait(timeout=180)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if confirmed is None:
            log(f"FAIL: the installed disk's boot was not confirmed within {a.timeout} s: "
                + " | ".join(bt.serial_lines(serial, "saffron-boot:")[-3:]))
            return 1
        failed, _, _, jtext = bt.journal_check(target, work, t1)
        print(f"install_test: --- timings (QEMU TCG, no KVM, 2 vCPUs) ---")
        print(f"install_test: live boot + unattended install to power-off: {t_installed:.0f} s")
        print(f"install_test: installed disk: start to the shell's first screen confirmed: {up:.0f} s")
        log(f"screen of the installed system: {work}/installed.png (cell brightness spread {spread:.0f})")
        if spread < 30:
            log("FAIL: the installed system's screen is blank")
            return 1
        if failed:
            log("FAIL journal: failed units:\n  " + "\n  ".join(failed))
            return 1
        log("PASS: installed from the live image, the installed disk boots into the shell, no failed units")
        return 0
    finally:
        bt.stop_all(procs, work, a.keep)


def _has_partition(disk, name):
    try:
        bt.gpt_partition(disk, name)
        return True
    except RuntimeError:
        return False


if __name__ == "__main__":
    sys.exit(main())
