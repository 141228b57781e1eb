#!/usr/bin/env bash
# run-demo.sh BUILD_DIR
# Boots the demo guest (Debian's kernel + a busybox shell) in QEMU on loopback and connects the
# Saffron client to it. With a display (X11/Wayland) the client window opens and you can type
# into the guest; without one the client runs offscreen, saves screenshots and says what it did.
set -euo pipefail
build=$(realpath "${1:-build}")
root=$(cd "$(dirname "$0")/.." && pwd)
guest=$build/demo-guest

"$root/scripts/make-demo-guest.sh" "$guest"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
qmp=$guest/qmp-$port.sock
serial=$guest/serial-$port.log
rm -f "$serial"
export SAFFRON_GUEST_SERIAL=$serial
pid=$("$root/scripts/demo-guest/run-guest.sh" "$guest" "$port" "$qmp")
cleanup() { kill "$pid" 2>/dev/null || true; rm -f "$qmp"; }
trap cleanup EXIT

uri="spice://127.0.0.1:$port"
echo "demo: QEMU (pid $pid) serves the guest at $uri"

if [[ -z ${DISPLAY:-} && -z ${WAYLAND_DISPLAY:-} ]]; then
  export QT_QPA_PLATFORM=offscreen
  echo "demo: no display found, running offscreen; waiting for the guest's shell (TCG boot, ~15-30 s)"
  for _ in $(seq 180); do
    grep -q "shell ready" "$serial" 2>/dev/null && break
    sleep 0.5
  done
  grep -q "shell ready" "$serial" 2>/dev/null || echo "demo: the guest shell did not come up in time; connecting anyway"
  shots=$build/demo-shots
  "$build/shell/saffron" "$uri" --demo-screenshots "$shots" --demo-type $'uname -a; echo Hello from Saffron\n'
  echo "demo: screenshots in $shots"
else
  echo "demo: opening the client window; close it to stop the guest"
  "$build/shell/saffron" "$uri" --title "Saffron demo guest"
fi
