#!/bin/sh
# Run every benchmark of bench/bench_span.c and print the figures for
# docs/performance.md.
#
# usage: sh bench/run.sh BUILD_DIR     (make bench: a gcc Release build)
#
# Environment: BENCH_ROUNDS (default 7) and BENCH_SPANS (spans per thread per
# round, default 1000000) scale the timed runs; BENCH_JSON=1 adds the JSON
# output of each run; CALLGRIND_SPANS (default 100000) is N for callgrind.
# bench/run_export.sh, bench/run_http.sh, bench/callgrind_http.sh,
# bench/run_view.sh and bench/run_auto.sh document their own variables
# (DOWN_SECONDS, EXPORT_REPEAT, HTTP_ROUNDS, CG_HTTP_DURATION, VIEW_REPEAT,
# AUTO_REPEAT, ...).
set -eu

build=${1:-build/bench}
bin="$build/bench_span"
[ -x "$bin" ] || {
    echo "run.sh: $bin not found; build with -DOTELC_BUILD_BENCH=ON" >&2
    exit 1
}
rounds=${BENCH_ROUNDS:-7}
spans=${BENCH_SPANS:-1000000}
cg_spans=${CALLGRIND_SPANS:-100000}
json=
[ "${BENCH_JSON:-0}" = 1 ] && json=--json

compiler=$(sed -n 's/^CMAKE_C_COMPILER:[A-Z]*=//p' "$build/CMakeCache.txt" 2>/dev/null || true)
build_type=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$build/CMakeCache.txt" 2>/dev/null || true)
echo "== otelc benchmarks"
echo "date:      $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "commit:    $(git -C "$(dirname "$0")" rev-parse --short HEAD 2>/dev/null || echo unknown)$(
    git -C "$(dirname "$0")" diff --quiet HEAD 2>/dev/null || echo ' (with uncommitted changes)')"
echo "machine:   $(uname -srm), nproc $(nproc)"
cpuinfo() {
    sed -n "s/^$1[[:space:]]*: //p" /proc/cpuinfo | head -n 1
}
echo "cpu:       $(cpuinfo 'model name') (family $(cpuinfo 'cpu family'), model $(cpuinfo model)," \
    "$(cpuinfo 'cpu MHz') MHz)$(grep -q hypervisor /proc/cpuinfo && echo ', virtual machine')"
echo "compiler:  $("${compiler:-cc}" --version | head -n 1) (${build_type:-?})"
echo "load:      $(cut -d ' ' -f 1-3 /proc/loadavg) (1/5/15 min load average at start)"
echo "rounds:    $rounds measured rounds of $spans spans per thread after 1 warm-up; medians"
echo

printf '%-40s %14s %-10s %s\n' figure value unit note
for mode in machine sampled unsampled disabled mallocs memory; do
    # shellcheck disable=SC2086
    "$bin" "$mode" --rounds "$rounds" --spans "$spans" $json
done

# The OTLP encoders on one core (target: protobuf >= 5 M spans/s).
echo
echo "== OTLP encoders: 8192 small and 8192 HTTP server spans into a reused buffer (bench_encode)"
"$build/bench_encode"

# The OTLP protobuf decoder of otelc view's receiver on one core (built with the viewer).
if [ -x "$build/bench_decode" ]; then
    echo
    echo "== OTLP decoder of otelc view: the same spans in requests of 512 (bench_decode)"
    "$build/bench_decode"
fi

# End-to-end export to a loopback receiver, backend down, the
# libmicrohttpd server under wrk, otelc view against its targets, and
# zero-code instrumentation (libotelc-auto): each script says what it
# skips and why.
sh "$(dirname "$0")/run_export.sh" "$build"
sh "$(dirname "$0")/run_http.sh" "$build"
sh "$(dirname "$0")/callgrind_http.sh" "$build"
sh "$(dirname "$0")/run_view.sh" "$build"
sh "$(dirname "$0")/run_auto.sh" "$build"

echo
echo "== instructions per span (callgrind, N = $cg_spans, after a 100000-span warm-up)"
if ! command -v valgrind >/dev/null 2>&1; then
    echo "valgrind not installed: skipped"
    echo
    echo "== make bench: done"
    exit 0
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/otelc-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

# With client requests only the window around the N spans (and their export)
# is instrumented; otherwise the whole run is, and the N = 0 run cancels the
# fixed costs out.
instr=
"$bin" features | grep -q 'callgrind_client_requests=1' && instr=--instr-atstart=no

# Ir of one callgrind output file: its "totals:" line, else its "summary:".
thread_ir() {
    awk '/^totals:/ { t = $2; have = 1 } /^summary:/ { s = $2 }
        END { printf "%.0f\n", have ? t : s }' "$1"
}
# Total Ir of one callgrind run over all of its threads (one file per thread).
total_ir() {
    sum=0
    for f in "$1".*; do
        [ -s "$f" ] || continue
        sum=$((sum + $(thread_ir "$f")))
    done
    echo "$sum"
}

# One callgrind run: cg_run KIND N writes $tmp/cg.KIND.N.<pid>-<thread>.
cg_run() {
    # shellcheck disable=SC2086
    valgrind --tool=callgrind $instr --separate-threads=yes \
        --callgrind-out-file="$tmp/cg.$1.$2.%p" "$bin" callgrind "$2" "$1" >"$tmp/out.$1.$2" \
        2>"$tmp/vg.$1.$2.log" || {
        cat "$tmp/vg.$1.$2.log" >&2
        echo "run.sh: callgrind run failed ($1, N = $2)" >&2
        exit 1
    }
    dropped=$(awk '$1 == "callgrind.dropped" { print $2 }' "$tmp/out.$1.$2")
    [ "$dropped" = 0 ] || echo "run.sh: warning: $dropped spans dropped in the callgrind run ($1)"
}
per_span() {
    awk -v a="$1" -v b="$2" -v n="$cg_spans" 'BEGIN { printf "%.0f", (a - b) / n }'
}

for kind in sampled unsampled disabled; do
    cg_run "$kind" 0
    cg_run "$kind" "$cg_spans"
done
for kind in sampled unsampled disabled; do
    ir0=$(total_ir "$tmp/cg.$kind.0")
    irn=$(total_ir "$tmp/cg.$kind.$cg_spans")
    note="(Ir(N) - Ir(0)) / N, all threads"
    [ "$kind" = sampled ] && note="$note; opentelemetry-cpp ~6900"
    printf '%-40s %14s %-10s %s\n' "callgrind.$kind.ir_per_span" "$(per_span "$irn" "$ir0")" \
        instr "$note"
done
main_n=$(thread_ir "$(ls "$tmp/cg.sampled.$cg_spans".*-01)")
main_0=$(thread_ir "$(ls "$tmp/cg.sampled.0".*-01)")
irn=$(total_ir "$tmp/cg.sampled.$cg_spans")
ir0=$(total_ir "$tmp/cg.sampled.0")
printf '%-40s %14s %-10s %s\n' callgrind.sampled.ir_per_span.app_thread \
    "$(per_span "$main_n" "$main_0")" instr "the thread making the spans"
printf '%-40s %14s %-10s %s\n' callgrind.sampled.ir_per_span.other_threads \
    "$(per_span $((irn - main_n)) $((ir0 - main_0)))" instr \
    "batch worker: collect, export, recycle"

for f in "$tmp/cg.sampled.$cg_spans".*-[0-9][0-9]; do
    case "$f" in
    *-01) who="application thread" ;;
    *) who="thread ${f##*-} (batch worker)" ;;
    esac
    echo
    echo "== callgrind_annotate, sampled, $who: top functions by self cost (N = $cg_spans)"
    callgrind_annotate --inclusive=no --auto=no "$f" 2>/dev/null |
        awk '/^-+$/ { dashes++; next } dashes >= 3 && NF { print; if (++shown == 20) exit }'
done

if [ -x "$build/bench_decode" ]; then
    valgrind --tool=callgrind --toggle-collect=decode_request \
        --callgrind-out-file="$tmp/cg.decode" "$build/bench_decode" --only server --rounds 1 \
        --repeat 1 >"$tmp/out.decode" 2>"$tmp/vg.decode.log" || {
        cat "$tmp/vg.decode.log" >&2
        echo "run.sh: callgrind run of bench_decode failed" >&2
        exit 1
    }
    decoded=$(awk '/spans in all/ { print $2 }' "$tmp/out.decode")
    echo
    printf '%-40s %14s %-10s %s\n' callgrind.decode.ir_per_span \
        "$(awk -v a="$(thread_ir "$tmp/cg.decode")" -v n="$decoded" 'BEGIN { printf "%.0f", a / n }')" \
        instr "otelc view's OTLP decoder, HTTP server spans"
fi

# The protobuf encoder, per HTTP server span (bench_encode's "server" shape:
# remote parent, 9 attributes): its warm-up and one timed encode of 8192
# spans, counted inside otelc__otlp_encode_proto only.
valgrind --tool=callgrind --toggle-collect=otelc__otlp_encode_proto \
    --callgrind-out-file="$tmp/cg.encode" "$build/bench_encode" --only server --rounds 1 \
    --repeat 1 >"$tmp/out.encode" 2>"$tmp/vg.encode.log" || {
    cat "$tmp/vg.encode.log" >&2
    echo "run.sh: callgrind run of bench_encode failed" >&2
    exit 1
}
printf '%-40s %14s %-10s %s\n' callgrind.encode.server.ir_per_span \
    "$(awk -v a="$(thread_ir "$tmp/cg.encode")" 'BEGIN { printf "%.0f", a / (2 * 8192) }')" \
    instr "otelc__otlp_encode_proto, HTTP server spans (remote parent, 9 attributes)"

echo
echo "== make bench: done"
