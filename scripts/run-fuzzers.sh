#!/usr/bin/env bash
# run-fuzzers.sh FUZZ_BUILD_DIR SECONDS
# Runs every libFuzzer target built in FUZZ_BUILD_DIR for SECONDS each, starting from its seed
# corpus (tests/**/corpus/<name>/) and growing a working corpus under FUZZ_BUILD_DIR/corpus/.
# Crash inputs land in FUZZ_BUILD_DIR/crashes/<name>/; turn them into regression tests.
set -euo pipefail
build=$(realpath "$1")
seconds=${2:-300}
root=$(cd "$(dirname "$0")/.." && pwd)
status=0
while IFS= read -r fuzzer; do
  name=$(basename "$fuzzer")
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
done < <(find "$build" -maxdepth 4 -type f -executable -name 'fuzz_*' | sort)
exit $status
