#!/bin/sh
# The cost of zero-code instrumentation, libotelc-auto (docs/zero-code.md;
# docs/performance.md, "Zero-code instrumentation"); bench/run.sh runs this.
#
# usage: sh bench/run_auto.sh BUILD_DIR
#
# bench_auto is a program that knows nothing of otelc, bench_auto_linked
# the same program instrumented with the linked libraries (libotelc-pq,
# -hiredis, -sqlite); see bench/bench_auto.c for the workloads, none of
# which waits on the network. Figures:
#   auto.disabled.W.added_ns / auto.off.W.added_ns: what the shims add to
#     one intercepted call when tracing is off (OTEL_SDK_DISABLED=true;
#     OTELC_INSTRUMENT naming only another library): the median ns per call
#     preloaded less the median without LD_PRELOAD (wall time, so only as
#     good as the machine is quiet), and the same in instructions
#     (callgrind, (Ir(N) - Ir(0)) / N, exact)
#   auto.traced_over_linked.W: instructions per traced call, preloaded /
#     linked (the whole call: the real function and the instrumentation);
#     .added: the same ratio of what each adds to the untraced call
#   auto.startup.*: median wall time of a run of bench_auto with nothing
#     to do, without and with LD_PRELOAD, and of one that runs one SQLite
#     statement (preloaded, its sqlite3_open starts the SDK and the
#     statement is a span); the CPU time (user + system) of the same runs,
#     which on a loaded machine leaves out the time spent waiting for a
#     CPU; and their instructions (callgrind, from the dynamic loader's
#     first instruction to exit); .ready: the wall time from spawn to the
#     program's statement made, start-up as the program sees it (what
#     exit adds, the final flush included, is not in it)
#   auto.startup.otlp.* / otlp_all.*: the first-call start-up again with
#     the OTLP exporter configured, to bench/discard_receiver, with only
#     SQLite traced / with every library
# Otherwise spans go nowhere (no exporter configured: they are recorded
# and ended, not exported), so the ratios compare the calling thread's
# work only; export is the same code either way, on the batch worker's
# thread.
#
# Environment: AUTO_CALLS (default 200000) calls per timed round, AUTO_ROUNDS
# (default 5) rounds per process, AUTO_REPEAT (default 5) processes of each
# kind, interleaved; AUTO_CG_CALLS (default 10000) N for callgrind;
# AUTO_STARTUP_RUNS (default 50) runs of each start-up kind;
# AUTO_OTLP_ALL_RUNS (default 20) of the start-up with the OTLP exporter
# and every library traced.
set -eu

build=${1:-build/bench}
# shellcheck source=bench/figures.sh
. "$(dirname "$0")/figures.sh"

echo
echo "== zero-code instrumentation: libotelc-auto against no instrumentation and the linked libraries (bench_auto)"
lib="$(cd "$build" && pwd)/libotelc-auto.so"
if [ ! -x "$build/bench_auto" ] || [ ! -x "$build/bench_auto_linked" ] || [ ! -f "$lib" ]; then
    echo "bench_auto or libotelc-auto.so not built (libcurl, libpq, hiredis and SQLite needed): skipped"
    exit 0
fi
calls=${AUTO_CALLS:-200000}
rounds=${AUTO_ROUNDS:-5}
repeat=${AUTO_REPEAT:-5}
cg_calls=${AUTO_CG_CALLS:-10000}
startup_runs=${AUTO_STARTUP_RUNS:-50}
otlp_all_runs=${AUTO_OTLP_ALL_RUNS:-20}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/otelc-auto.XXXXXX")
recv_pid=
trap '[ -z "$recv_pid" ] || kill "$recv_pid" 2>/dev/null; rm -rf "$tmp"' EXIT INT TERM
# No exporter and no inherited context: the same SDK set-up for every run.
unset OTEL_TRACES_EXPORTER OTEL_EXPORTER_OTLP_ENDPOINT OTEL_EXPORTER_OTLP_TRACES_ENDPOINT \
    OTEL_SDK_DISABLED OTELC_INSTRUMENT TRACEPARENT TRACESTATE BAGGAGE LD_PRELOAD 2>/dev/null || true

# variant KIND ARGS...: bench_auto ARGS as KIND (plain: no preload;
# disabled, off, traced: preloaded so; linked: bench_auto_linked), under
# the command in $wrap when it is set (valgrind).
wrap=
variant() {
    kind=$1
    shift
    # shellcheck disable=SC2086
    case "$kind" in
    plain) $wrap "$build/bench_auto" "$@" ;;
    linked) $wrap "$build/bench_auto_linked" "$@" ;;
    disabled) env OTEL_SDK_DISABLED=true LD_PRELOAD="$lib" $wrap "$build/bench_auto" "$@" ;;
    off) env OTELC_INSTRUMENT=mhd LD_PRELOAD="$lib" $wrap "$build/bench_auto" "$@" ;;
    traced) env LD_PRELOAD="$lib" $wrap "$build/bench_auto" "$@" ;;
    esac
}

# callgrind KIND OUT ARGS...: one callgrind run of bench_auto ARGS as KIND, to OUT.<pid>[-<thread>].
callgrind() {
    kind=$1
    out=$2
    shift 2
    wrap="valgrind --tool=callgrind --separate-threads=yes --callgrind-out-file=$out.%p"
    variant "$kind" "$@" >/dev/null 2>"$tmp/vg.log" || {
        cat "$tmp/vg.log" >&2
        echo "run_auto.sh: callgrind run failed ($kind $*)" >&2
        exit 1
    }
    wrap=
}

# wall W KIND...: the median ns per call of W for each KIND, over $repeat
# interleaved processes of $rounds rounds each; writes $tmp/ns.W.KIND.
wall() {
    w=$1
    shift
    for _ in $(seq "$repeat"); do
        for kind in "$@"; do
            variant "$kind" "$w" "$calls" "$rounds" | awk '{ print "x", $2, "ns" }' >>"$tmp/runs.$w.$kind"
        done
    done
    for kind in "$@"; do
        medians "$tmp/runs.$w.$kind" "$repeat" | awk '{ print $2 }' >"$tmp/ns.$w.$kind"
    done
}

# Ir of one callgrind run: every thread's "totals:" (one file per thread).
ir_of() {
    cat "$1".* | awk '/^totals:/ { t += $2 } END { printf "%.0f\n", t }'
}

# cg W KIND: instructions per call of W as KIND, (Ir(N) - Ir(0)) / N; writes $tmp/ir.W.KIND.
cg() {
    for n in 0 "$cg_calls"; do callgrind "$2" "$tmp/cg.$1.$2.$n" "$1" "$n"; done
    a=$(ir_of "$tmp/cg.$1.$2.$cg_calls")
    b=$(ir_of "$tmp/cg.$1.$2.0")
    awk -v a="$a" -v b="$b" -v n="$cg_calls" 'BEGIN { printf "%.0f\n", (a - b) / n }' >"$tmp/ir.$1.$2"
}

diff_of() {
    awk -v a="$(cat "$1")" -v b="$(cat "$2")" -v s="${3:-1}" 'BEGIN { printf "%.1f\n", (a - b) / s }'
}
ratio_of() {
    awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f\n", b ? a / b : 0 }'
}

have_valgrind=1
command -v valgrind >/dev/null 2>&1 || have_valgrind=0
printf '%-40s %14s %-10s %s\n' figure value unit note

# Disabled or switched off: curl_easy_setopt (bookkeeping only), PQexec and
# redisCommand on failed connections. (SQLite statements never reach a
# shim: only sqlite3_open* is interposed.)
for w in setopt pq redis; do
    wall "$w" plain disabled off
    for kind in disabled off; do
        figure "auto.$kind.$w.added_ns" "$(diff_of "$tmp/ns.$w.$kind" "$tmp/ns.$w.plain")" ns \
            "median ns per call preloaded ($kind) - without preload; $(cat "$tmp/ns.$w.$kind") - $(cat "$tmp/ns.$w.plain")"
    done
    [ "$have_valgrind" = 1 ] || continue
    for kind in plain disabled off; do cg "$w" "$kind"; done
    for kind in disabled off; do
        figure "auto.callgrind.$kind.$w.added_ir" \
            "$(diff_of "$tmp/ir.$w.$kind" "$tmp/ir.$w.plain" | sed 's/\.0$//')" instr \
            "instructions per call preloaded ($kind) - without; $(cat "$tmp/ir.$w.$kind") - $(cat "$tmp/ir.$w.plain")"
    done
done

# Traced, preloaded against linked: a SQLite statement (the trace_v2 hook),
# PQexec and redisCommand on failed connections (a span each, with its error).
for w in sqlite pq redis; do
    wall "$w" linked traced
    figure "auto.traced.$w.ns_per_call" "$(cat "$tmp/ns.$w.traced")" ns \
        "wall, median; linked $(cat "$tmp/ns.$w.linked") ns"
    figure "auto.traced_over_linked.$w.wall" \
        "$(ratio_of "$(cat "$tmp/ns.$w.traced")" "$(cat "$tmp/ns.$w.linked")")" ratio \
        "wall time per traced call, preloaded / linked"
    [ "$have_valgrind" = 1 ] || continue
    for kind in plain linked traced; do
        [ -s "$tmp/ir.$w.$kind" ] || cg "$w" "$kind"
    done
    plain=$(cat "$tmp/ir.$w.plain")
    traced=$(cat "$tmp/ir.$w.traced")
    linked=$(cat "$tmp/ir.$w.linked")
    figure "auto.callgrind.traced.$w.ir_per_call" "$traced" instr \
        "preloaded; linked $linked, untraced $plain"
    figure "auto.traced_over_linked.$w" "$(ratio_of "$traced" "$linked")" ratio \
        "instructions per traced call, preloaded / linked"
    figure "auto.traced_over_linked.$w.added" \
        "$(ratio_of $((traced - plain)) $((linked - plain)))" ratio \
        "instructions added to the untraced call, preloaded / linked"
done

# Start-up: wall and CPU time (interleaved runs, medians), then instructions.
"$build/bench_auto" startup "$startup_runs" "$lib" >"$tmp/startup"
us() { awk -v k="$1" '$1 == k { print $2 }' "$tmp/${2:-startup}"; }
ms() { awk -v a="$1" -v b="${2:-0}" 'BEGIN { printf "%.2f", (a - b) / 1000 }'; }
figure auto.startup.plain_ms "$(ms "$(us startup.plain)")" ms \
    "median of $startup_runs runs of bench_auto with nothing to do, spawn to exit (it links libcurl, libpq, hiredis, SQLite)"
figure auto.startup.added_ms "$(ms "$(us startup.preload)" "$(us startup.plain)")" ms \
    "median preloaded - median without; $(us startup.preload) - $(us startup.plain) us"
figure auto.startup.first_call.added_ms \
    "$(ms "$(us startup.first_call.preload)" "$(us startup.first_call.plain)")" ms \
    "the same with one SQLite statement (sqlite3_open starts the SDK); $(us startup.first_call.preload) - $(us startup.first_call.plain) us"
figure auto.startup.first_call.ready.added_ms \
    "$(ms "$(us startup.first_call.preload.ready)" "$(us startup.first_call.plain.ready)")" ms \
    "start-up as the program sees it: spawned to its statement made (exit and its flush not counted); $(us startup.first_call.preload.ready) - $(us startup.first_call.plain.ready) us"
figure auto.startup.cpu.added_ms "$(ms "$(us startup.preload.cpu)" "$(us startup.plain.cpu)")" ms \
    "CPU time (user + system), median preloaded - median without; $(us startup.preload.cpu) - $(us startup.plain.cpu) us"
figure auto.startup.cpu.first_call.added_ms \
    "$(ms "$(us startup.first_call.preload.cpu)" "$(us startup.first_call.plain.cpu)")" ms \
    "CPU time, one SQLite statement; $(us startup.first_call.preload.cpu) - $(us startup.first_call.plain.cpu) us"
if [ "$have_valgrind" = 1 ]; then
    for kind in plain traced; do
        for w in none sqlite; do
            callgrind "$kind" "$tmp/st.$w.$kind" "$w" 1 1 0
        done
    done
    for w in none sqlite; do
        name=auto.callgrind.startup.added_ir
        note="instructions of a run with nothing to do, preloaded - without"
        if [ "$w" = sqlite ]; then
            name=auto.callgrind.startup.first_call.added_ir
            note="the same with one SQLite statement (sqlite3_open starts the SDK)"
        fi
        a=$(ir_of "$tmp/st.$w.traced")
        b=$(ir_of "$tmp/st.$w.plain")
        figure "$name" $((a - b)) instr "$note; $a - $b"
    done
fi

# The same first call with the OTLP exporter configured (as `otelc exec`
# users have it), to bench/discard_receiver: the SDK then loads libcurl
# and starts its batch worker, and the span is exported at exit. Once with
# only SQLite traced (the exporter's start-up), then with every library
# (the default): libcurl's instrumentation must then leave the exporter's
# own requests alone (requests_per_run counts them).
[ -x "$build/discard_receiver" ] || {
    echo "discard_receiver not built: start-up with the OTLP exporter skipped"
    exit 0
}
# receiver NAME: start discard_receiver, its port file $tmp/port.NAME; sets recv_pid, port.
receiver() {
    "$build/discard_receiver" --port-file "$tmp/port.$1" >"$tmp/receiver.$1" 2>&1 &
    recv_pid=$!
    port=$(wait_port "$tmp/port.$1")
    export OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:$port"
}
receiver sqlite
export OTELC_INSTRUMENT=sqlite
"$build/bench_auto" startup "$startup_runs" "$lib" >"$tmp/startup.otlp"
figure auto.startup.otlp.first_call.added_ms \
    "$(ms "$(us startup.first_call.preload startup.otlp)" "$(us startup.first_call.plain startup.otlp)")" ms \
    "one SQLite statement, OTLP exporter, OTELC_INSTRUMENT=sqlite; $(us startup.first_call.preload startup.otlp) - $(us startup.first_call.plain startup.otlp) us"
figure auto.startup.otlp.first_call.ready.added_ms \
    "$(ms "$(us startup.first_call.preload.ready startup.otlp)" "$(us startup.first_call.plain.ready startup.otlp)")" ms \
    "the same, spawned to the statement made (the exporter's set-up and the exit flush are the batch worker's); $(us startup.first_call.preload.ready startup.otlp) - $(us startup.first_call.plain.ready startup.otlp) us"
figure auto.startup.otlp.cpu.first_call.added_ms \
    "$(ms "$(us startup.first_call.preload.cpu startup.otlp)" "$(us startup.first_call.plain.cpu startup.otlp)")" ms \
    "CPU time of the same; $(us startup.first_call.preload.cpu startup.otlp) - $(us startup.first_call.plain.cpu startup.otlp) us"
if [ "$have_valgrind" = 1 ]; then
    for kind in plain traced; do callgrind "$kind" "$tmp/st.otlp.$kind" sqlite 1 1 0; done
    a=$(ir_of "$tmp/st.otlp.traced")
    b=$(ir_of "$tmp/st.otlp.plain")
    figure auto.callgrind.startup.otlp.first_call.added_ir $((a - b)) instr \
        "one SQLite statement, OTLP exporter, OTELC_INSTRUMENT=sqlite, every thread; $a - $b"
fi
stop_pid "$recv_pid"

receiver all
unset OTELC_INSTRUMENT
"$build/bench_auto" startup "$otlp_all_runs" "$lib" >"$tmp/startup.otlp_all"
stop_pid "$recv_pid"
recv_pid=
figure auto.startup.otlp_all.first_call.added_ms \
    "$(ms "$(us startup.first_call.preload startup.otlp_all)" "$(us startup.first_call.plain startup.otlp_all)")" ms \
    "the same with every library traced (the default), median of $otlp_all_runs; $(us startup.first_call.preload startup.otlp_all) - $(us startup.first_call.plain startup.otlp_all) us"
figure auto.startup.otlp_all.first_call.ready.added_ms \
    "$(ms "$(us startup.first_call.preload.ready startup.otlp_all)" "$(us startup.first_call.plain.ready startup.otlp_all)")" ms \
    "the same, spawned to the statement made; $(us startup.first_call.preload.ready startup.otlp_all) - $(us startup.first_call.plain.ready startup.otlp_all) us"
figure auto.startup.otlp_all.requests_per_run \
    "$(awk -v r="$otlp_all_runs" '/requests/ { for (i = 1; i < NF; i++) if ($i == "requests") n = $(i + 1) }
        END { printf "%.0f", n / r }' "$tmp/receiver.all")" requests \
    "export requests the receiver saw per preloaded run (one span was made by the program)"
