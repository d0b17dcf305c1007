#!/bin/sh
# view_lib.sh - sourced by the otelc view tests (view_*.sh): starting the
# viewer as a real process with ports 0 and reading the addresses it prints,
# stopping it, reading its memory and counting what its store holds.
#
# The caller sets BUILD (the build directory) and sources this file; it
# exits 77 when the viewer is not built or a tool it needs is missing.
# shellcheck disable=SC2034 # the variables set here are the callers'

OTELC=$BUILD/otelc
VIEW=$BUILD/otelc-view
[ -x "$OTELC" ] && [ -x "$VIEW" ] || { echo "$0: otelc or otelc-view not built; skipped"; exit 77; }
command -v curl >/dev/null 2>&1 || { echo "$0: curl not found; skipped"; exit 77; }
command -v sqlite3 >/dev/null 2>&1 || { echo "$0: sqlite3 not found; skipped"; exit 77; }

# Sanitizers' allocators keep freed memory (ASan's quarantine) and map
# shadow memory: figures of resident memory say nothing about the viewer's.
measures_memory=yes
grep -aq -e '__asan_init' -e '__tsan_init' "$VIEW" && measures_memory=""

tmp=$(mktemp -d "${TMPDIR:-/tmp}/otelc-view-test.XXXXXX")
view_pid=""
view_cleanup() {
    [ -n "$view_pid" ] && kill -9 "$view_pid" 2>/dev/null && wait "$view_pid" 2>/dev/null
    rm -rf "$tmp"
}
trap view_cleanup EXIT INT TERM

# A viewer started without --db uses the default store under XDG_DATA_HOME:
# a directory of this test's, never the user's, nor one another test shares.
export XDG_DATA_HOME="$tmp/xdg-data"

for v in $(env | sed -n 's/^\(OTEL[A-Z_]*\)=.*/\1/p'); do unset "$v"; done
unset TRACEPARENT TRACESTATE BAGGAGE

failures=0
fail() {
    echo "$(basename "$0"): FAIL: $*" >&2
    failures=$((failures + 1))
}

# view_start ARGS...: otelc view on ports 0 with ARGS; sets view_pid, UI,
# OTLP_HTTP (URLs), OTLP_GRPC (host:port) and DB from the lines it prints.
# Its output goes to $tmp/view.out and $tmp/view.err.
view_start() {
    rm -f "$tmp/view.out" # not truncated until the child runs: a restart could read the last one
    "$OTELC" view --port 0 --otlp-http-port 0 --otlp-grpc-port 0 "$@" \
        >"$tmp/view.out" 2>"$tmp/view.err" &
    view_pid=$!
    DB=""
    for _ in $(seq 1 200); do
        DB=$(sed -n 's/^otelc view: db //p' "$tmp/view.out")
        [ -n "$DB" ] && break
        kill -0 "$view_pid" 2>/dev/null || break
        sleep 0.05
    done
    [ -n "$DB" ] || { echo "$0: otelc view did not start"; cat "$tmp/view.err"; exit 1; }
    UI=$(sed -n 's/^otelc view: ui //p' "$tmp/view.out")
    OTLP_HTTP=$(sed -n 's/^otelc view: otlp-http //p' "$tmp/view.out")
    OTLP_GRPC=$(sed -n 's/^otelc view: otlp-grpc //p' "$tmp/view.out")
}

# view_stop [SIGNAL]: stop the viewer (TERM by default); sets view_rc. A
# stop by TERM or INT must end with status 0 (a sanitizer's report, a leak
# included, makes it another).
view_stop() {
    kill "-${1:-TERM}" "$view_pid"
    wait "$view_pid"
    view_rc=$?
    view_pid=""
    case "${1:-TERM}" in
    TERM | INT) [ "$view_rc" = 0 ] || fail "exit status $view_rc after SIG${1:-TERM}: $(cat "$tmp/view.err")" ;;
    esac
}

# rss_kb [FIELD]: the viewer's resident memory (VmRSS, or VmHWM: its peak), in KiB.
rss_kb() {
    sed -n "s/^${1:-VmRSS}:[^0-9]*\([0-9]*\).*/\1/p" "/proc/$view_pid/status"
}

# spans_in FILE: the spans a store holds, read with sqlite3 from the file
# (its segments: one row per trace and transaction, see viewer/store.c).
spans_in() {
    sqlite3 "file:$1?mode=ro" 'SELECT coalesce(sum(span_count), 0) FROM segments'
}

# post_otlp URL FILE [CURL ARGS...]: POST FILE as OTLP protobuf; prints the status.
post_otlp() {
    url=$1 file=$2
    shift 2
    curl -s -o "$tmp/answer" -w '%{http_code}' -X POST -H 'Content-Type: application/x-protobuf' \
        --data-binary "@$file" "$@" "$url/v1/traces"
}

view_done() {
    [ "$failures" -eq 0 ] || { echo "$(basename "$0"): $failures failure(s)"; exit 1; }
    echo "$(basename "$0"): ok"
}
