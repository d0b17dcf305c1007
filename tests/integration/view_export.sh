#!/bin/sh
# otelc's own exporters into a running otelc view: examples/threads (one
# trace across three threads and a child process: 9 spans, one of them an
# error) exported over OTLP/HTTP protobuf (plain and gzip), OTLP/gRPC,
# OTLP/HTTP JSON and Zipkin, each configured the way a user does it
# (OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_EXPORTER_OTLP_PROTOCOL,
# OTEL_TRACES_EXPORTER=zipkin). The exporter gets its answer only once the
# spans are committed, so the store holds the whole trace as soon as the
# program has exited: its spans, names, parents, error and service, as the
# query API answers (tests/unit/test_view_server.c checks every field of
# every span; this checks real programs and processes).
#
# usage: sh tests/integration/view_export.sh BUILD_DIR   (exit 77: skipped)
#
# shellcheck disable=SC2015 # "A && B || fail": fail when any of the checks fails
set -u
BUILD=$(cd "${1:-build}" 2>/dev/null && pwd)
. "$(dirname "$0")/view_lib.sh"
command -v node >/dev/null 2>&1 || { echo "view_export: node not found; skipped"; exit 77; }
EXAMPLE=$BUILD/example_threads
[ -x "$EXAMPLE" ] || { echo "view_export: no example_threads; skipped"; exit 77; }

view_start --db "$tmp/traces.db"
names_want="batch child-process load load load process-item process-item process-item spawn-child"

# check_trace PROTOCOL: the trace example_threads printed is in the store,
# whole, as the query API gives it (Jaeger's JSON: GET /api/traces/{id}).
check_trace() {
    tid=$(sed -n 's/^trace \([0-9a-f]*\):.*/\1/p' "$tmp/example.out")
    [ -n "$tid" ] || { fail "$1: example_threads printed no trace id: $(cat "$tmp/example.out")"; return; }
    curl -s -o "$tmp/trace.json" "$UI/api/traces/$tid"
    got=$(node -e '
        const t = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).data[0];
        const names = t.spans.map(s => s.operationName).sort().join(" ");
        const roots = t.spans.filter(s => !s.references.some(r => r.refType === "CHILD_OF")).length;
        const errors = t.spans.filter(s => s.tags.some(g => g.key === "error" && g.value === true));
        const services = [...new Set(Object.values(t.processes).map(p => p.serviceName))];
        console.log(`${t.spans.length}|${names}|${roots}|${errors.map(s => s.operationName)}|${services}`);
    ' "$tmp/trace.json" 2>&1)
    want="9|$names_want|1|process-item|view-export"
    [ "$got" = "$want" ] || fail "$1: trace $tid is $got, expected $want"
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

run http/json OTEL_EXPORTER_OTLP_ENDPOINT="$OTLP_HTTP" OTEL_EXPORTER_OTLP_PROTOCOL=http/json
run http/json+gzip OTEL_EXPORTER_OTLP_ENDPOINT="$OTLP_HTTP" OTEL_EXPORTER_OTLP_PROTOCOL=http/json \
    OTEL_EXPORTER_OTLP_COMPRESSION=gzip
run zipkin OTEL_TRACES_EXPORTER=zipkin OTEL_EXPORTER_ZIPKIN_ENDPOINT="$UI/api/v2/spans"
run zipkin-otlp-port OTEL_TRACES_EXPORTER=zipkin OTEL_EXPORTER_ZIPKIN_ENDPOINT="$OTLP_HTTP/api/v2/spans"

view_stop TERM
view_done
