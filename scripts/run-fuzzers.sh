#!/usr/bin/env bash
# run-fuzzers.sh FUZZ_BUILD_DIR SECONDS
# Runs every libFuzzer target of FUZZ_BUILD_DIR (the list CMake writes to fuzzers.txt) for SECONDS
# each, starting from its seed corpus (tests/**/corpus/<name>/) and growing a working corpus under
# FUZZ_BUILD_DIR/corpus/. Crash inputs land in FUZZ_BUILD_DIR/crashes/<name>/; turn them into
# regression tests.
set -euo pipefail
build=$(realpath "$1")
seconds=${2:-300}
root=$(cd "$(dirname "$0")/.." && pwd)
list=$build/fuzzers.txt
[[ -f $list ]] || { echo "run-fuzzers: $list missing: configure with -DSAFFRON_FUZZ=ON" >&2; exit 2; }
# The suite's suppressions (make test passes the same): system libraries' one-time allocations,
# such as GLib's at load time, are no finding of ours.
export LSAN_OPTIONS="suppressions=$root/tests/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
status=0
while IFS= read -r fuzzer; do
  [[ -n $fuzzer ]] || continue
  name=$(basename "$fuzzer")
  [[ -x $fuzzer ]] || { echo "!! $name not built: cmake --build $build --target fuzzers"; status=1; continue; }
  work=$build/corpus/$name
  crashes=$build/crashes/$name
  mkdir -p "$work" "$crashes"
  seeds=()
  while IFS= read -r d; do seeds+=("$d"); done < <(find "$root/tests" -type d -path "*/corpus/$name")
  echo "== $name: ${seconds}s, seeds: ${seeds[*]:-none}"
  if ! "$fuzzer" -max_total_time="$seconds" -artifact_prefix="$crashes/" "$work" "${seeds[@]}"; then
    echo "!! $name found a crash: see $crashes"
    status=1
  fi
done < <(sort "$list")
exit $status
