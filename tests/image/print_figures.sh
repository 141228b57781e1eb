#!/usr/bin/env bash
# Prints the image tests' figures from ctest's log of its last run in BUILD: ctest shows a
# passing test's output only on failure, and the image issue asks CI to print each image's size
# and the boot timings (QEMU TCG). `make test` calls it after `ctest -L image`.
set -euo pipefail
log=${1:?usage: print_figures.sh BUILD}/Testing/Temporary/LastTest.log
[[ -f "$log" ]] || { echo "print_figures: no $log"; exit 0; }
echo "=== image tests: figures (timings under QEMU TCG, no KVM, 2 vCPUs; size goal for kiosk and thin-client: 250 MB = 238 MiB compressed) ==="
grep -E '^[0-9]+/[0-9]+ Testing: |^    (image|uncompressed|compressed): |^boot_test: (PASS|boot to|shell start-up|config URL|crash test \(|update test \()|^install_test: (PASS|live boot|installed disk)' \
    "$log" | sed -E 's/^[0-9]+\/[0-9]+ Testing: /--- /' || true
