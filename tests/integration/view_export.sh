#!/bin/sh
# otelc's own exporters into a running otelc view: examples/threads (one
# trace across three threads and a child process: 9 spans, one of them an
# error) exported over OTLP/HTTP protobuf (plain and gzip), OTLP/gRPC,
# OTLP/HTTP JSON and Zipkin, each configured the way a user does it
# (OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_EXPORTER_OTLP_PROTOCOL,
# OTEL_TRACES_EXPORTER=zipkin). The exporter gets its answer only once the
# spans are committed, so the store holds the whole trace as soon as the
# program has exited: its spans, names, parents and error count, read
# with sqlite3 as any reader could. (tests/unit/test_view_server.c checks
# every field of every span; this checks real programs and processes.)
#
# usage: sh tests/integration/view_export.sh BUILD_DIR   (exit 77: skipped)
#
# shellcheck disable=SC2015 # "A && B || fail": fail when any of the checks fails
set -u
BUILD=$(cd "${1:-build}" 2>/dev/null && pwd)
. "$(dirname "$0")/view_lib.sh"
EXAMPLE=$BUILD/example_threads
[ -x "$EXAMPLE" ] || { echo "view_export: no example_threads; skipped"; exit 77; }

view_start --db "$tmp/traces.db"
names_want="batch child-process load load load process-item process-item process-item spawn-child"

# check_trace PROTOCOL: the trace example_threads printed is in the store, whole.
check_trace() {
    tid=$(sed -n 's/^trace \([0-9a-f]*\):.*/\1/p' "$tmp/example.out")
    [ -n "$tid" ] || { fail "$1: example_threads printed no trace id: $(cat "$tmp/example.out")"; return; }
    where="FROM spans s JOIN traces t ON s.trace = t.id WHERE lower(hex(t.trace_id)) = '$tid'"
    q() { sqlite3 "file:$tmp/traces.db?mode=ro" "$1"; }
    count=$(q "SELECT count(*) $where")
    [ "$count" = 9 ] || fail "$1: $count spans of trace $tid stored, expected 9"
    names=$(q "SELECT o.name FROM spans s JOIN traces t ON s.trace = t.id
               JOIN operations o ON o.id = s.op WHERE lower(hex(t.trace_id)) = '$tid' ORDER BY o.name")
    names=$(echo "$names" | tr '\n' ' ' | sed 's/ $//')
    [ "$names" = "$names_want" ] || fail "$1: span names: $names"
    roots=$(q "SELECT count(*) $where AND s.parent_id IS NULL")
    [ "$roots" = 1 ] || fail "$1: $roots spans without a parent, expected 1 (batch)"
    errors=$(q "SELECT error_count FROM traces WHERE lower(hex(trace_id)) = '$tid'")
    [ "$errors" = 1 ] || fail "$1: error count $errors, expected 1"
}

# run PROTOCOL ENV...: example_threads with ENV, then its trace checked.
run() {
    name=$1
    shift
    env "$@" OTEL_SERVICE_NAME=view-export "$EXAMPLE" >"$tmp/example.out" 2>"$tmp/example.err" ||
        fail "$name: example_threads failed: $(cat "$tmp/example.err")"
    grep -q . "$tmp/example.err" && fail "$name: the exporter complained: $(cat "$tmp/example.err")"
    check_trace "$name"
}

run http/protobuf OTEL_EXPORTER_OTLP_ENDPOINT="$OTLP_HTTP" OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf
run http/protobuf+gzip OTEL_EXPORTER_OTLP_ENDPOINT="$OTLP_HTTP" \
    OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf OTEL_EXPORTER_OTLP_COMPRESSION=gzip
run grpc OTEL_EXPORTER_OTLP_ENDPOINT="http://$OTLP_GRPC" OTEL_EXPORTER_OTLP_PROTOCOL=grpc
run grpc+gzip OTEL_EXPORTER_OTLP_ENDPOINT="http://$OTLP_GRPC" OTEL_EXPORTER_OTLP_PROTOCOL=grpc \
    OTEL_EXPORTER_OTLP_COMPRESSION=gzip

# JSON bodies need the JSON decoders; a viewer built without them says 415.
json=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
    -d '{}' "$OTLP_HTTP/v1/traces")
if [ "$json" = 415 ]; then
    echo "view_export: this otelc view has no JSON decoders; http/json and zipkin not checked"
else
    run http/json OTEL_EXPORTER_OTLP_ENDPOINT="$OTLP_HTTP" OTEL_EXPORTER_OTLP_PROTOCOL=http/json
    run zipkin OTEL_TRACES_EXPORTER=zipkin OTEL_EXPORTER_ZIPKIN_ENDPOINT="$UI/api/v2/spans"
    run zipkin-otlp-port OTEL_TRACES_EXPORTER=zipkin \
        OTEL_EXPORTER_ZIPKIN_ENDPOINT="$OTLP_HTTP/api/v2/spans"
fi

view_stop TERM
view_done
