#!/usr/bin/env bash
# heaptrack_stream.sh: heap profile of saffron-cli during a long video-streaming session.
#
# Why: test_soak (robustness_soak) watches the resident set and the descriptors of a streaming
# session, which catches large per-frame leaks but not small ones hidden by allocator caches, and
# LeakSanitizer only runs in ASan builds. heaptrack (Debian package heaptrack) records every
# allocation of an ordinary RelWithDebInfo build, so this gives the peak heap, what is still
# allocated at exit, and where it was allocated.
#
# What: starts saffron-test-server (libspice-server) with the video-moving workload and
# --streaming-video all, so that the server turns the video area into a stream (after ~20 frames
# of the region changing) and encodes it with gstreamer:h264; runs `saffron-cli stats` against it
# under heaptrack for DURATION seconds; asks the server to quit on its stdin; then prints a
# summary from heaptrack_print: peak heap, bytes leaked at exit, the top 3 leak sites whose stack
# goes through our code (session/ media/ usb/ shell/ of the source tree the build came from),
# the number of allocation calls, and both exit statuses.
#
# The server is stopped (SIGSTOP) right after READY and continued once the client's connection is
# established, so that the profile covers the stream from its creation (heaptrack's own start
# takes longer than the ~20 frames after which the server starts streaming). This also kept the
# script clear of a libspice-server 0.15.1 crash when a client joined a stream in progress (its
# display worker died handling our preferred-codec message), fixed on our side since: the
# preference now waits for the first MARK.
#
# Usage: tests/robustness/heaptrack_stream.sh [DURATION_S (60)] [BUILD_DIR (build)]
#   BUILD_DIR needs the targets saffron-test-server and saffron-cli (RelWithDebInfo gives
#   readable stacks). The heaptrack data and the logs are kept in $SAFFRON_HEAPTRACK_DIR
#   (default: a new /tmp/saffron-heaptrack.XXXXXX), for `heaptrack --analyze FILE`.
# Exit status: 0 when the client measured for the whole duration and both processes exited 0.
set -euo pipefail

duration=${1:-60}
build=${2:-build}
codec=${SAFFRON_HEAPTRACK_CODEC:-gstreamer:h264}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)

if ! [[ $duration =~ ^[0-9]+$ ]] || ((duration < 1)); then
    echo "usage: $0 [DURATION_S] [BUILD_DIR]" >&2
    exit 2
fi
# A relative build dir: from the current directory, else from the repository root.
if [[ $build != /* && ! -d $build && -d $root/$build ]]; then
    build=$root/$build
fi
build=$(cd "$build" && pwd)
server_exe=$build/tests/spice-test-server/saffron-test-server
cli_exe=$build/shell/saffron-cli
for exe in "$server_exe" "$cli_exe"; do
    if [[ ! -x $exe ]]; then
        echo "missing $exe: cmake --build $build --target saffron-test-server saffron-cli" >&2
        exit 2
    fi
done
for tool in heaptrack heaptrack_print; do
    command -v "$tool" >/dev/null || {
        echo "$tool not found (apt-get install heaptrack)" >&2
        exit 2
    }
done
# Stacks are attributed to our code by the source paths in the debug info, which are those of
# the tree the build was configured from (not necessarily this checkout).
src=$(sed -n 's/^CMAKE_HOME_DIRECTORY:INTERNAL=//p' "$build/CMakeCache.txt" 2>/dev/null || true)
src=${src:-$root}

out=${SAFFRON_HEAPTRACK_DIR:-$(mktemp -d /tmp/saffron-heaptrack.XXXXXX)}
mkdir -p "$out"
fifo=$out/server.stdin
server_pid=
client_pid=
cleanup() {
    exec 3>&- 2>/dev/null || true
    if [[ -n $client_pid ]] && kill -0 "$client_pid" 2>/dev/null; then
        kill "$client_pid" 2>/dev/null || true # timeout(1) passes it on to heaptrack's client
        wait "$client_pid" 2>/dev/null || true
    fi
    if [[ -n $server_pid ]] && kill -0 "$server_pid" 2>/dev/null; then
        kill -CONT "$server_pid" 2>/dev/null || true
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    rm -f "$fifo"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The server ends on EOF on stdin; a FIFO held open on fd 3 keeps it running until we send
# "quit", so that its exit status says whether it shut down cleanly.
rm -f "$fifo"
mkfifo "$fifo"
"$server_exe" --port 0 --workload video-moving --size 640x480 --streaming-video all \
    --video-codecs "$codec" <"$fifo" >"$out/server.out" 2>"$out/server.err" &
server_pid=$!
exec 3>"$fifo"

port=
for _ in $(seq 100); do
    port=$(sed -n 's/^READY.* port=\([0-9]*\).*/\1/p' "$out/server.out" | head -n1)
    [[ -n $port ]] && break
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
done
if [[ -z $port ]]; then
    echo "saffron-test-server did not print READY:" >&2
    cat "$out/server.err" >&2
    exit 1
fi

echo "server: $server_exe on 127.0.0.1:$port, video-moving 640x480, streaming all, $codec"
echo "client: heaptrack saffron-cli stats for $duration s (heaptrack slows it; data in $out)"
# Hold the server at frame 1 while heaptrack starts the client (see the header).
kill -STOP "$server_pid"
# saffron-cli's --timeout runs from the start, measuring included: leave room for the link, the
# first frame and heaptrack's slower start. timeout(1) is only a backstop for a hang at exit.
timeout -k 30 $((duration + 300)) \
    heaptrack -o "$out/saffron-cli" "$cli_exe" stats "spice://127.0.0.1:$port" \
    --seconds "$duration" --timeout $((duration + 120)) >"$out/client.out" 2>"$out/client.err" &
client_pid=$!
# The kernel completes the TCP handshake for the stopped server; once the client's connection is
# established the client is running, and the link (main, then display) follows within
# milliseconds of the server waking up. The client gives up linking after 20 s, so wait less.
for _ in $(seq 150); do
    [[ -n $(ss -Htn state established "( dport = :$port )") ]] && break
    kill -0 "$client_pid" 2>/dev/null || break
    sleep 0.1
done
kill -CONT "$server_pid"
client_rc=0
wait "$client_pid" || client_rc=$?
client_pid=

server_rc=0
if kill -0 "$server_pid" 2>/dev/null; then
    echo quit >&3 || true
    for _ in $(seq 100); do
        kill -0 "$server_pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -0 "$server_pid" 2>/dev/null && kill "$server_pid"
    wait "$server_pid" || server_rc=$?
else
    wait "$server_pid" || server_rc=$?
    echo "note: the server had already exited" >&2
fi
server_pid=
exec 3>&-

data=$(find "$out" -maxdepth 1 -name 'saffron-cli.*' \( -name '*.zst' -o -name '*.gz' \) -printf '%T@ %p\n' |
    sort -nr | head -n1 | cut -d' ' -f2-)
if [[ -z $data ]]; then
    echo "no heaptrack data in $out; client stderr:" >&2
    tail -n 20 "$out/client.err" >&2
    exit 1
fi
# -m 0: one entry per complete backtrace, so a leak can be attributed to the frame of ours that
# asked for it even when the allocation itself happens deep in Qt or GStreamer.
heaptrack_print -f "$data" -l 1 -m 0 -p 0 -a 0 -T 0 -n 100000 >"$out/print.txt" 2>&1

echo
attach=$(awk '/^FRAME /{f=$2} /^DISPLAY client-connected/{print f + 0; exit}' "$out/server.out")
echo "display attached at server frame ${attach:-?} (a stream starts ~20 frames after the video does)"
echo "== saffron-cli stats (under heaptrack)"
grep -E '^(measured|frames|draws|bytes|decode|video|   )' "$out/client.out" || echo "(no stats: see $out/client.err)"
grep -E '^saffron-cli:' "$out/client.err" || true
echo
echo "== heaptrack ($data)"
grep -E '^(total runtime|calls to allocation functions|temporary memory allocations|peak heap memory consumption|peak RSS|total memory leaked|suppressed leaks)' \
    "$out/print.txt" | sed 's/heaptrack stats:.*//'
# heaptrack itself (not heaptrack_print) reports the counts when the client exits.
sed -nE 's/^[[:space:]]*(allocations|leaked allocations|temporary allocations):[[:space:]]*/heaptrack \1: /p' \
    "$out/client.err" "$out/client.out"

# Leak entries ("SIZE leaked over N calls from" and its frames), grouped by the innermost frame
# in our directories (the code of ours that asked for the memory, directly or through Qt, glib or
# GStreamer); sizes like 1.50K / 2.00M are turned into bytes.
awk -v ours="^[[:space:]]+at ${src//./\\.}/(session|media|usb|shell)/" '
    function bytes(s,   n, u) {
        n = s + 0; u = substr(s, length(s), 1)
        if (u == "K") n *= 1024; else if (u == "M") n *= 1048576; else if (u == "G") n *= 1073741824
        return n
    }
    function flush() {
        if (site != "") {
            total += size; traces++
            sz[site] += size; calls[site] += ncalls; bt[site]++
            if (size > big[site]) { big[site] = size; first[site] = alloc }
        }
        site = ""; alloc = ""; fn = ""
    }
    /^MEMORY LEAKS/ { inleaks = 1; next }
    !inleaks { next }
    /leaked over [0-9]+ calls from/ { flush(); size = bytes($1); ncalls = $4; started = 1; next }
    /^total runtime/ { flush(); inleaks = 0; next }
    started && /^  [^ ]/ { fn = $0; sub(/^ +/, "", fn); if (alloc == "") alloc = fn; next }
    started && site == "" && $0 ~ ours {
        at = $0; sub(/^ +at /, "", at); name = fn; sub(/\(.*\)$/, "()", name); site = name " at " at
    }
    END {
        flush()
        printf "%d %d\n", total, traces > sumfile
        for (k in sz)
            printf "%d\t%s\t%d calls, %d backtraces, via %s\n", sz[k], k, calls[k], bt[k], first[k] > file
    }
' file="$out/ours.tsv" sumfile="$out/ours.sum" "$out/print.txt"
touch "$out/ours.tsv"
read -r ours_bytes ours_traces <"$out/ours.sum"
echo "leaked at exit through our code ($src/{session,media,usb,shell}): $ours_bytes bytes in $ours_traces backtraces"
if ((ours_traces > 0)); then
    echo "top 3 sites (innermost frame of ours; bytes; then the allocating call of the largest backtrace):"
    sort -t $'\t' -k1,1nr -o "$out/ours.sorted" "$out/ours.tsv"
    head -n3 "$out/ours.sorted" | awk -F '\t' '{ printf "  %9d B  %s\n             %s\n", $1, $2, $3 }'
fi
echo
echo "client exit status: $client_rc (0 ok, 1 session ended, 3 timed out, 124 killed by the backstop)"
echo "server exit status: $server_rc"
echo "full report: heaptrack_print -f $data -l 1   (or heaptrack --analyze $data)"
[[ $client_rc -eq 0 && $server_rc -eq 0 ]]
