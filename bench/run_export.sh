#!/bin/sh
# End-to-end export benchmarks (bench/bench_export.c against
# bench/discard_receiver.c on loopback); bench/run.sh runs this.
#
# usage: sh bench/run_export.sh BUILD_DIR
#
# Environment: EXPORT_REPEAT (default 3) runs of each throughput figure,
# reported as medians; EXPORT_SPANS (default 4000000) spans per run;
# EXPORT_RATE (default 2200000: 10 % above the 2 M spans/s target) the paced rate of the zero-drop runs;
# DOWN_SECONDS (default 60) and UP_SECONDS (default 20) for the steady runs
# at STEADY_RATE (default 100000) spans/s with the backend down and up.
set -eu
# shellcheck source=bench/figures.sh
. "$(dirname "$0")/figures.sh"

build=${1:-build/bench}
bin="$build/bench_export"
recv="$build/discard_receiver"
if [ ! -x "$bin" ] || [ ! -x "$recv" ]; then
    echo "bench_export or discard_receiver not built: skipped"
    exit 0
fi
repeat=${EXPORT_REPEAT:-3}
spans=${EXPORT_SPANS:-4000000}
rate=${EXPORT_RATE:-2200000}
down_s=${DOWN_SECONDS:-60}
up_s=${UP_SECONDS:-20}
steady_rate=${STEADY_RATE:-100000}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/otelc-export.XXXXXX")
recv_pid=
cleanup() {
    [ -n "$recv_pid" ] && kill "$recv_pid" 2>/dev/null && wait "$recv_pid" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

"$recv" --port-file "$tmp/port" >"$tmp/receiver.out" &
recv_pid=$!
port=$(wait_port "$tmp/port")
http_url="http://127.0.0.1:$port/v1/traces"
grpc_url="http://127.0.0.1:$port"
url_of() {
    if [ "$1" = grpc ]; then echo "$grpc_url"; else echo "$http_url"; fi
}

echo
echo "== end-to-end export to a discarding loopback receiver (queue 65536, batch 8192)"
echo "load:      $(cut -d ' ' -f 1-3 /proc/loadavg) (1/5/15 min load average)"
echo "receiver:  bench/discard_receiver, one epoll thread, 127.0.0.1:$port" \
    "(HTTP/1.1 and h2c on one port)"
printf '%-40s %14s %-10s %s\n' figure value unit note

# The receiver's ceiling: one encoded 8192-span batch sent over and over.
for proto in http/protobuf grpc; do
    : >"$tmp/flood"
    r=0
    while [ $r -lt "$repeat" ]; do
        "$bin" flood "$proto" "$(url_of "$proto")" --seconds 3 >>"$tmp/flood"
        r=$((r + 1))
    done
    medians "$tmp/flood" "$repeat"
done

# Unpaced: the exporter's ceiling (drops expected: the producer is faster).
# Paced at the target rate: the zero-drop figure.
for mode in max paced; do
    for proto in http/protobuf grpc http/json; do
        [ "$mode" = paced ] && [ "$proto" = http/json ] && continue
        : >"$tmp/run"
        r=0
        while [ $r -lt "$repeat" ]; do
            if [ "$mode" = paced ]; then
                "$bin" run "$proto" "$(url_of "$proto")" --spans "$spans" --rate "$rate" >>"$tmp/run"
            else
                "$bin" run "$proto" "$(url_of "$proto")" --spans "$spans" >>"$tmp/run"
            fi
            r=$((r + 1))
        done
        medians "$tmp/run" "$repeat"
    done
done

echo
echo "== backend up ($up_s s) and down ($down_s s) at $steady_rate spans/s (one run each)"
echo "load:      $(cut -d ' ' -f 1-3 /proc/loadavg) (1/5/15 min load average)"
printf '%-40s %14s %-10s %s\n' figure value unit note
"$bin" steady "$http_url" --seconds "$up_s" --rate "$steady_rate"
# The exporter logs each failed export on stderr: expected here, kept out of the table.
"$bin" steady down --seconds "$down_s" --rate "$steady_rate" 2>"$tmp/down.log"
echo "# exporter log lines while down: $(wc -l <"$tmp/down.log")"

stop_pid "$recv_pid"
recv_pid=
echo "# $(tail -n 1 "$tmp/receiver.out")"
