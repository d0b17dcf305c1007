#!/bin/sh
# make demo: real traces, shown in the terminal as they are made and kept
# in a store of otelc view (BUILD_DIR/demo/traces.db) to open afterwards.
#
# usage: sh scripts/demo.sh BUILD_DIR
#
# A viewer is started on that store with every port picked by the system
# and the demo's programs export to it over OTLP/HTTP (while the console
# exporter prints each trace as a tree): examples/threads, a nested
# `otelc exec`, and one request (examples/instrument_curl) through
# `otelc serve` to a second `otelc serve` as its downstream service. Everything started here is
# stopped here, on failure too. Without otelc-view (a build without its
# libraries) only the console part runs, as before.
set -eu

build=${1:-build}
out="$build/demo"
db="$out/traces.db"
viewer_pid=
serve_pids=

stop() { # stop PID...: SIGTERM, then wait (each flushes its spans on the way out)
    for p in "$@"; do kill "$p" 2>/dev/null || true; done
    for p in "$@"; do wait "$p" 2>/dev/null || true; done
}
cleanup() {
    # shellcheck disable=SC2086
    stop $serve_pids
    [ -z "$viewer_pid" ] || stop "$viewer_pid"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# wait_line FILE PATTERN PID: until FILE has a line matching PATTERN (10 s at most).
wait_line() {
    i=0
    until grep -q "$2" "$1" 2>/dev/null; do
        i=$((i + 1))
        if [ $i -gt 200 ] || ! kill -0 "$3" 2>/dev/null; then
            cat "${1%.out}.err" >&2 2>/dev/null || true
            echo "demo: $(basename "${1%.out}") did not start" >&2
            exit 1
        fi
        sleep 0.05
    done
}

mkdir -p "$out"
if [ ! -x "$build/otelc-view" ]; then
    echo "== examples/threads: a trace with threads, events, an error and a child process =="
    OTEL_TRACES_EXPORTER=console OTEL_SERVICE_NAME=otelc-demo "$build/example_threads"
    echo "(otelc view is not built here, so the traces are not kept: see docs/configuration.md)"
    exit 0
fi

rm -f "$db" "$db-wal" "$db-shm"
"$build/otelc-view" view --db "$db" --port 0 --otlp-http-port 0 --otlp-grpc-port 0 \
    >"$out/view.out" 2>"$out/view.err" &
viewer_pid=$!
wait_line "$out/view.out" '^otelc view: db ' "$viewer_pid"
OTEL_EXPORTER_OTLP_ENDPOINT=$(sed -n 's/^otelc view: otlp-http //p' "$out/view.out")
OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf
export OTEL_EXPORTER_OTLP_ENDPOINT OTEL_EXPORTER_OTLP_PROTOCOL
echo "== otelc view is keeping this demo's traces in $db (OTLP/HTTP at $OTEL_EXPORTER_OTLP_ENDPOINT)"

echo
echo "== examples/threads: a trace with threads, events, an error and a child process =="
OTEL_TRACES_EXPORTER=console,otlp OTEL_SERVICE_NAME=otelc-demo "$build/example_threads"

echo
echo "== otelc exec inside otelc exec: the inner command's span is a child of the outer one =="
OTEL_TRACES_EXPORTER=console,otlp OTEL_SERVICE_NAME=otelc-demo-exec \
    "$build/otelc" exec --name "demo build" -- \
    "$build/otelc" exec --name "demo compile" -- sh -c 'echo "compiling..."; sleep 0.05'

echo
echo "== a request through otelc serve to its downstream, another otelc serve: one trace =="
if [ ! -x "$build/example_instrument_curl" ]; then
    echo "(examples/instrument_curl is not built here: skipped)"
elif "$build/otelc" serve --help >/dev/null 2>&1; then
    OTEL_TRACES_EXPORTER=otlp "$build/otelc" serve --port 0 --service demo-users \
        >"$out/users.out" 2>"$out/users.err" &
    serve_pids=$!
    wait_line "$out/users.out" 'listening on' "$!"
    users=$(sed -n 's/.*listening on //p' "$out/users.out")
    OTEL_TRACES_EXPORTER=otlp "$build/otelc" serve --port 0 --service demo-frontend \
        --downstream "$users/users/{id}" >"$out/frontend.out" 2>"$out/frontend.err" &
    serve_pids="$serve_pids $!"
    wait_line "$out/frontend.out" 'listening on' "$!"
    frontend=$(sed -n 's/.*listening on //p' "$out/frontend.out")
    # The client: examples/instrument_curl (a "fetch" span and its traced libcurl request).
    OTEL_TRACES_EXPORTER=console,otlp OTEL_SERVICE_NAME=otelc-demo-client \
        "$build/example_instrument_curl" "$frontend/users/1"
    # shellcheck disable=SC2086
    stop $serve_pids
    serve_pids=
else
    echo "(otelc serve is not built here: skipped)"
fi

stop "$viewer_pid" # it writes what is queued before it exits
viewer_pid=
echo
echo "== what the store holds =="
"$build/otelc" traces list --db "$db" --limit 10
echo
echo "Open them in otelc view:"
echo
echo "    $build/otelc view --db $db"
echo
echo "then http://127.0.0.1:16686 in a browser (stop it with Ctrl-C)."
