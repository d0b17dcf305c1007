#!/bin/sh
# otelc view against its targets (docs/performance.md, "otelc view"):
# ingest over OTLP/HTTP protobuf, OTLP/gRPC and OTLP/HTTP JSON from
# libotelc's own exporter, with the default retention and without; the
# query API on a store of 1,000,000 spans; a 10,000-span trace drawn in
# headless Chromium; the viewer's RSS with 1,000,000 spans stored and
# 100,000 spans/s arriving; instructions per span of the store's writer.
# bench/run.sh runs this.
#
# usage: sh bench/run_view.sh BUILD_DIR
#
# The sender is bench_export run --shape trace: traces of 3 spans (an
# HTTP SERVER span with 9 attributes and two CLIENT children) through
# libotelc's batch processor (queue 65536, batch 8192) and OTLP exporter,
# paced, one process on the same machine. Each ingest run starts a viewer
# on a new store (ports 0) and stops it after; what the exporter was told
# was stored is then counted in the file (sqlite3, else the API).
#
# Environment: VIEW_REPEAT (default 3) runs of each ingest figure, reported
# as medians; VIEW_SECONDS (default 15) of sending per run; VIEW_RATE
# (default 220000) spans/s offered over OTLP/HTTP protobuf and
# VIEW_RATE_OTHER (default 110000) over gRPC and JSON, 10 % above the
# targets; VIEW_QUERY_SPANS (default 1000000) in the store the queries
# run on; VIEW_QUERIES (default 200) of each kind; VIEW_RENDERS (default
# 7) of the big trace; VIEW_RSS_SECONDS (default 60) at VIEW_RSS_RATE
# (default 100000) spans/s; VIEW_CALLGRIND_SPANS (default 150000, 0: none)
# written into a store kept at a third of that, under callgrind;
# VIEW_PROTOCOLS (default "http/protobuf grpc http/json") the ingest runs
# are made over, and VIEW_INGEST_ONLY=1 to stop after them.
set -eu
# shellcheck source=bench/figures.sh
. "$(dirname "$0")/figures.sh"

build=${1:-build/bench}
here=$(cd "$(dirname "$0")" && pwd)
view="$build/otelc-view"
send="$build/bench_export"
store_bench="$build/bench_view_store"
if [ ! -x "$view" ] || [ ! -x "$send" ] || [ ! -x "$store_bench" ]; then
    echo "otelc-view, bench_export or bench_view_store not built: otelc view benchmarks skipped"
    exit 0
fi
repeat=${VIEW_REPEAT:-3}
seconds=${VIEW_SECONDS:-15}
rate_proto=${VIEW_RATE:-220000}
rate_other=${VIEW_RATE_OTHER:-110000}
query_spans=${VIEW_QUERY_SPANS:-1000000}
queries=${VIEW_QUERIES:-200}
renders=${VIEW_RENDERS:-7}
rss_seconds=${VIEW_RSS_SECONDS:-60}
rss_rate=${VIEW_RSS_RATE:-100000}
cg_spans=${VIEW_CALLGRIND_SPANS:-150000}
tck=$(getconf CLK_TCK)

tmp=$(mktemp -d "${TMPDIR:-/tmp}/otelc-view-bench.XXXXXX")
viewer_pid=
sampler_pid=
cleanup() {
    [ -n "$sampler_pid" ] && kill "$sampler_pid" 2>/dev/null
    [ -n "$viewer_pid" ] && kill "$viewer_pid" 2>/dev/null && wait "$viewer_pid" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# ---- The viewer -------------------------------------------------------------------------------

# viewer_start DB [ARGS...]: a viewer on DB, every port picked by the system;
# sets viewer_pid, ui, otlp_http, otlp_grpc. The viewer prints its addresses
# in one flush, the db line last. Its output file is removed first: the
# shell truncates it in the child after the fork, so a file left by the
# previous viewer could be read (its old ports) and then emptied under the
# reads that follow (no address at all).
viewer_start() {
    db=$1
    shift
    rm -f "$tmp/viewer.out"
    "$view" view --port 0 --otlp-http-port 0 --otlp-grpc-port 0 --db "$db" "$@" \
        >"$tmp/viewer.out" 2>"$tmp/viewer.err" &
    viewer_pid=$!
    i=0
    until grep -q '^otelc view: db ' "$tmp/viewer.out" 2>/dev/null; do
        i=$((i + 1))
        if ! kill -0 "$viewer_pid" 2>/dev/null; then
            cat "$tmp/viewer.err" >&2
            echo "run_view.sh: otelc view exited before printing its addresses" >&2
            exit 1
        fi
        if [ $i -gt 600 ]; then
            cat "$tmp/viewer.err" >&2
            echo "run_view.sh: otelc view printed no addresses within 30 s" >&2
            exit 1
        fi
        sleep 0.05
    done
    ui=$(viewer_address ui)
    otlp_http=$(viewer_address otlp-http)
    otlp_grpc=$(viewer_address otlp-grpc)
}

# viewer_address NAME: the address the viewer printed for NAME; exits when there is none.
viewer_address() {
    a=$(sed -n "s/^otelc view: $1 //p" "$tmp/viewer.out")
    if [ -z "$a" ]; then
        cat "$tmp/viewer.out" "$tmp/viewer.err" >&2
        echo "run_view.sh: otelc view printed no $1 address (its output is above)" >&2
        exit 1
    fi
    echo "$a"
}

viewer_stop() {
    kill "$viewer_pid" 2>/dev/null || true
    wait "$viewer_pid" 2>/dev/null || true
    viewer_pid=
}

# CPU ticks of the viewer (every thread, those gone included), or of its thread named $1.
cpu_ticks() {
    if [ $# -eq 0 ]; then
        awk '{ print $14 + $15 }' "/proc/$viewer_pid/stat"
        return
    fi
    t=0
    for task in /proc/"$viewer_pid"/task/*; do
        [ "$(cat "$task/comm" 2>/dev/null)" = "$1" ] && t=$(awk '{ print $14 + $15 }' "$task/stat")
    done
    echo "$t"
}

# Minor page faults of the viewer so far (every thread).
minor_faults() {
    awk '{ print $10 }' "/proc/$viewer_pid/stat"
}

# A number of /api/status by its key.
status_num() {
    sed -n "s/.*\"$1\":\([0-9]*\).*/\1/p" "$tmp/status.json"
}

# Spans in a store file (the viewer stopped), or "" without sqlite3.
spans_in() {
    command -v sqlite3 >/dev/null 2>&1 || return 0
    sqlite3 "$1" "SELECT ifnull(sum(span_count), 0) FROM segments"
}

# A figure of bench_export's output by the last part of its name.
sent() {
    awk -v f="$1" '{ n = split($1, p, "."); if (p[n] == f) { print $2; exit } }' "$tmp/send.out"
}

per_span() { # per_span TICKS SPANS: nanoseconds of CPU per span
    awk -v t="$1" -v s="$2" -v hz="$tck" 'BEGIN { printf "%.0f", s ? t / hz * 1e9 / s : 0 }'
}

# ---- Ingest ------------------------------------------------------------------------------------

# ingest_run PROTOCOL RATE KEEP: one run into a new store; figures to stdout.
ingest_run() {
    proto=$1 rate=$2 keep=$3
    rm -f "$tmp/ingest.db" "$tmp/ingest.db-wal" "$tmp/ingest.db-shm"
    if [ "$keep" = all ]; then
        viewer_start "$tmp/ingest.db" --max-spans 0
    else
        viewer_start "$tmp/ingest.db"
    fi
    url="$otlp_http/v1/traces"
    [ "$proto" = grpc ] && url="http://$otlp_grpc"
    tag=$(echo "$proto" | sed 's,http/protobuf,proto,; s,http/json,json,')
    p="view.ingest.$tag.$keep"
    c0=$(cpu_ticks)
    f0=$(minor_faults)
    "$send" run "$proto" "$url" --spans $((rate * seconds)) --rate "$rate" --shape trace \
        >"$tmp/send.out"
    c1=$(cpu_ticks)
    f1=$(minor_faults)
    i1=$(cpu_ticks vw-ingest)
    k1=$(cpu_ticks vw-checkpoint)
    curl -s "$ui/api/status" >"$tmp/status.json"
    viewer_stop
    sed -n "s/^export\.$tag\.paced\./$p./p" "$tmp/send.out" | grep -v '\.requests '
    total=$(sent exported_total)
    accepted=$(status_num accepted)
    trimmed=$(status_num trimmed)
    stored=$(spans_in "$tmp/ingest.db")
    [ -n "$stored" ] || stored=$(status_num spans)
    bytes=$(($(wc -c <"$tmp/ingest.db") + 0))
    figure "$p.stored" "$stored" spans "in the file after the viewer stopped (accepted $accepted, trimmed $trimmed)"
    figure "$p.lost" $((total - stored - trimmed)) spans \
        "acknowledged to the sender ($total with its warm-up) - stored - trimmed; target 0"
    figure "$p.viewer_cpu_per_span" "$(per_span $((c1 - c0)) "$total")" ns \
        "the viewer's CPU, every thread, user + system, per span received"
    figure "$p.ingest_cpu_per_span" "$(per_span "$i1" "$total")" ns "of which the ingest thread (vw-ingest)"
    figure "$p.checkpoint_cpu_per_span" "$(per_span "$k1" "$total")" ns \
        "and the checkpoint thread (vw-checkpoint)"
    figure "$p.minor_faults_per_span" "$(awk -v f=$((f1 - f0)) -v s="$total" 'BEGIN { printf "%.3f", s ? f / s : 0 }')" \
        faults "the viewer's minor page faults (memory touched for the first time) per span received"
    figure "$p.store_bytes_per_span" "$(awk -v b="$bytes" -v s="$stored" 'BEGIN { printf "%.0f", s ? b / s : 0 }')" \
        bytes "the file's size / spans it holds"
}

echo
echo "== otelc view: ingest, traces of 3 spans from libotelc's exporter (queue 65536, batch 8192)"
echo "load:      $(cut -d ' ' -f 1-3 /proc/loadavg) (1/5/15 min load average)"
echo "runs:      $repeat of ${seconds} s per figure, each into a new store; medians"
echo "retention: 'trim' is the default (--max-spans 1000000: the store trims as it ingests), 'all' keeps every span"
figure figure value unit note
for proto in ${VIEW_PROTOCOLS:-http/protobuf grpc http/json}; do
    rate=$rate_other
    [ "$proto" = http/protobuf ] && rate=$rate_proto
    for keep in trim all; do
        : >"$tmp/ingest.figures"
        r=0
        while [ $r -lt "$repeat" ]; do
            ingest_run "$proto" "$rate" "$keep" >>"$tmp/ingest.figures"
            r=$((r + 1))
        done
        medians "$tmp/ingest.figures" "$repeat"
    done
done

[ "${VIEW_INGEST_ONLY:-0}" = 1 ] && exit 0

# ---- Queries -----------------------------------------------------------------------------------

echo
echo "== otelc view: queries on a store of $query_spans spans (bench_view_store's traces of 3 spans)"
echo "load:      $(cut -d ' ' -f 1-3 /proc/loadavg) (1/5/15 min load average)"
figure figure value unit note
"$store_bench" --spans "$query_spans" --db "$tmp/query.db" --queries "$queries" |
    awk '{ note = $4; for (i = 5; i <= NF; i++) note = note " " $i
           printf "%-40s %14s %-10s %s\n", "view." $1, $2, $3, note }'
viewer_start "$tmp/query.db" --max-spans 0
echo "# the same through the HTTP API of a running viewer (one kept-alive connection; targets:" \
    "trace p95 <= 5 ms, TraceQL p95 <= 100 ms, service map and operations <= 300 ms)"
"$store_bench" --spans "$query_spans" --db "$tmp/query.db" --queries "$queries" --no-write \
    --api "$ui" | grep '^api\.' |
    awk '{ note = $4; for (i = 5; i <= NF; i++) note = note " " $i
           printf "%-40s %14s %-10s %s\n", "view." $1, $2, $3, note }'

# ---- UI ----------------------------------------------------------------------------------------

echo
echo "== otelc view: a 10,000-span trace in headless Chromium (the same viewer and store)"
chromium=$(command -v chromium || command -v chromium-browser || true)
if ! command -v node >/dev/null 2>&1 || [ -z "$chromium" ]; then
    echo "node or chromium not installed: skipped"
elif ! sh "$here/../scripts/ui-deps.sh"; then
    echo "the UI test's node packages (tests/ui) could not be installed: skipped"
else
    figure figure value unit note
    node "$here/view_render.js" --base "$ui" --renders "$renders" --chromium "$chromium"
fi
viewer_stop

# ---- RSS ---------------------------------------------------------------------------------------

echo
echo "== otelc view: RSS with $query_spans spans stored and $rss_rate spans/s arriving for $rss_seconds s"
echo "load:      $(cut -d ' ' -f 1-3 /proc/loadavg) (1/5/15 min load average)"
figure figure value unit note
viewer_start "$tmp/query.db" # the default retention: it stays at 1,000,000 spans
rss() { awk '/^VmRSS:/ { print $2 }' "/proc/$viewer_pid/status"; }
rss_start=$(rss)
(while kill -0 "$viewer_pid" 2>/dev/null; do
    rss
    sleep 1
done) >"$tmp/rss" 2>/dev/null &
sampler_pid=$!
"$send" run http/protobuf "$otlp_http/v1/traces" --spans $((rss_rate * rss_seconds)) \
    --rate "$rss_rate" --shape trace >"$tmp/send.out"
kill "$sampler_pid" 2>/dev/null || true
wait "$sampler_pid" 2>/dev/null || true
sampler_pid=
hwm=$(awk '/^VmHWM:/ { print $2 }' "/proc/$viewer_pid/status")
curl -s "$ui/api/status" >"$tmp/status.json"
viewer_stop
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
figure view.rss.start "$(mib "$rss_start")" MiB "after opening the store, before the load"
figure view.rss.median "$(mib "$(sort -n "$tmp/rss" | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')")" \
    MiB "of $(wc -l <"$tmp/rss") samples, one a second"
figure view.rss.max "$(mib "$(sort -n "$tmp/rss" | tail -n 1)")" MiB "the largest sample; target <= 100"
figure view.rss.peak "$(mib "$hwm")" MiB "VmHWM: the peak, start-up included"
figure view.rss.spans_per_s "$(sent spans_per_s)" spans/s \
    "exported; dropped $(sent dropped), stored $(status_num spans), trimmed $(status_num trimmed)"
echo "# rss MiB per second: $(awk '{ printf "%.0f ", $1 / 1024 }' "$tmp/rss")"

# ---- Instructions --------------------------------------------------------------------------------

[ "$cg_spans" -gt 0 ] || exit 0
echo
echo "== otelc view: instructions per span of the store's writer (callgrind, N = $cg_spans into a store kept at $((cg_spans / 3)))"
if ! command -v valgrind >/dev/null 2>&1; then
    echo "valgrind not installed: skipped"
    exit 0
fi
figure figure value unit note
valgrind --tool=callgrind --toggle-collect=vw_store_write --toggle-collect=vw_store_trim \
    --callgrind-out-file="$tmp/cg.store" "$store_bench" --spans "$cg_spans" --max-spans $((cg_spans / 3)) \
    --queries 0 --checkpoint-inline >"$tmp/cg.out" 2>"$tmp/cg.log"
written=$(awk '$1 == "store.written" { print $2 }' "$tmp/cg.out")
ir_of() { # inclusive Ir of one function in the callgrind output
    callgrind_annotate --inclusive=yes "$tmp/cg.store" 2>/dev/null |
        awk -v f="$1" '$0 ~ ":" f " " { gsub(",", "", $1); print $1; exit }'
}
w=$(ir_of vw_store_write)
t=$(ir_of vw_store_trim)
figure view.callgrind.write_ir_per_span "$(awk -v a="$w" -v n="$written" 'BEGIN { printf "%.0f", a / n }')" instr \
    "vw_store_write: encoding, segments, chunk, aggregates, the commit (SQLite's included)"
figure view.callgrind.trim_ir_per_span "$(awk -v a="$t" -v n="$written" 'BEGIN { printf "%.0f", a / n }')" instr \
    "vw_store_trim: retention, per span written (as many are removed)"
