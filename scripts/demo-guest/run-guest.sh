#!/usr/bin/env bash
# run-guest.sh OUTDIR PORT QMPSOCK
#
# Starts the demo guest built by scripts/make-demo-guest.sh in QEMU, in the background, and prints
# QEMU's pid on stdout (nothing else goes to stdout, so `pid=$(run-guest.sh ...)` works).
#   - SPICE on 127.0.0.1:PORT without a password: it is only reachable from this machine.
#   - qxl display, no local window.
#   - the com.redhat.spice.0 virtio port that a real VM has for spice-vdagent; nothing in this
#     guest opens it, so spice-server reports the agent as not connected.
#   - QMP on the unix socket QMPSOCK (for screendump, send-key, quit).
#   - TCG only by default: the demo must run where there is no /dev/kvm.
# QEMU's own messages go to OUTDIR/qemu-PORT.log (or $SAFFRON_GUEST_LOG).
# Stop the guest with QMP "quit" or by killing PID.
#
# Optional environment, for tests and debugging (the demo sets none of them):
#   SAFFRON_GUEST_ACCEL   -machine accel= value (default tcg; e.g. kvm:tcg)
#   SAFFRON_GUEST_APPEND  extra kernel command line arguments
#   SAFFRON_GUEST_SERIAL  file that receives the guest's serial port (the smoke test's ready marker)
#   SAFFRON_GUEST_LOG     where QEMU's stdout/stderr go instead of OUTDIR/qemu-PORT.log
set -euo pipefail

die() {
  echo "run-guest: error: $*" >&2
  exit 1
}
[[ $# -eq 3 ]] || die "usage: $0 OUTDIR PORT QMPSOCK"
outdir=$(realpath -m -- "$1")
port=$2
qmp=$3
[[ -s $outdir/vmlinuz && -s $outdir/initrd.img ]] ||
  die "$outdir has no vmlinuz/initrd.img; run scripts/make-demo-guest.sh $1 first"
if ! [[ $port =~ ^[0-9]+$ ]] || ((port == 0 || port > 65535)); then die "bad port '$port'"; fi
command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 is not installed"

# console=tty0: the kernel's and the shell's text go to the screen SPICE shows.
# quiet: only warnings during boot, so the console stays readable.
# fbcon=font:TER16x32: once the guest's qxl driver is up (1024x768 framebuffer), draw the console
# with the kernel's built-in 16x32 Terminus font, 64x24 characters, instead of 8x16 (128x48), so
# the text stays legible in a scaled-down client window. Ignored in VGA text mode.
append="console=tty0 quiet fbcon=font:TER16x32 ${SAFFRON_GUEST_APPEND:-}"

serial=(-serial none)
if [[ -n ${SAFFRON_GUEST_SERIAL:-} ]]; then
  serial=(-serial "file:$SAFFRON_GUEST_SERIAL")
fi

# A socket left behind by a QEMU that was killed would make the bind fail.
if [[ -S $qmp ]]; then rm -f -- "$qmp"; fi
log=${SAFFRON_GUEST_LOG:-$outdir/qemu-$port.log}

qemu=(
  qemu-system-x86_64
  -nodefaults
  -machine "accel=${SAFFRON_GUEST_ACCEL:-tcg}"
  -m 256
  -vga qxl
  -spice "port=$port,addr=127.0.0.1,disable-ticketing=on"
  -display none
  -kernel "$outdir/vmlinuz"
  -initrd "$outdir/initrd.img"
  -append "$append"
  -device virtio-serial
  -chardev "spicevmc,id=vdagent,name=vdagent"
  -device "virtserialport,chardev=vdagent,name=com.redhat.spice.0"
  -qmp "unix:$qmp,server=on,wait=off"
  "${serial[@]}"
)
# Detached from our stdio: a caller reading our stdout must not wait for QEMU to exit.
"${qemu[@]}" </dev/null >"$log" 2>&1 &
pid=$!

# Return only once QMP accepts connections, so the caller may talk to it right away.
for _ in $(seq 100); do
  [[ -S $qmp ]] && break
  if ! kill -0 "$pid" 2>/dev/null; then
    cat -- "$log" >&2
    die "qemu exited at startup (log: $log)"
  fi
  sleep 0.1
done
[[ -S $qmp ]] || die "qemu (pid $pid) created no QMP socket $qmp within 10s (log: $log)"
echo "$pid"
