#!/bin/sh
# otelc serve --db postgresql://... against a real PostgreSQL server started
# here on loopback in a temporary directory (as "nobody" when run as root,
# since PostgreSQL refuses root): the demo table is created at start,
# GET /users/{id} reads it through the libpq instrumentation (a CLIENT span
# under the request's SERVER span) and a missing user is 404.
#
# usage: sh tests/integration/serve_pq.sh BUILD_DIR   (exit 77: skipped)
set -u

here=$(cd "$(dirname "$0")" && pwd)
OTELC=$(cd "${1:-build}" 2>/dev/null && pwd)/otelc
[ -x "$OTELC" ] || { echo "serve_pq: no otelc binary in ${1:-build}; skipped"; exit 77; }
"$OTELC" serve --help >/dev/null 2>&1 || { echo "serve_pq: otelc serve unavailable; skipped"; exit 77; }
for tool in node curl; do
    command -v $tool >/dev/null 2>&1 || { echo "serve_pq: $tool not found; skipped"; exit 77; }
done
# shellcheck source=tests/integration/pg_lib.sh
. "$here/pg_lib.sh"
pg_bindir || { echo "serve_pq: PostgreSQL server binaries not installed; skipped"; exit 77; }
pg_tmpdir serve-pq
serve_pid=""
cleanup() {
    [ -n "$serve_pid" ] && kill "$serve_pid" 2>/dev/null
    pg_stop
    rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

for v in $(env | sed -n 's/^\(OTEL[A-Z_]*\)=.*/\1/p'); do unset "$v"; done
unset TRACEPARENT TRACESTATE BAGGAGE

pg_start || exit 1

failures=0
fail() {
    echo "serve_pq: FAIL: $*" >&2
    failures=$((failures + 1))
}

OTEL_TRACES_EXPORTER=file OTELC_FILE_PATH="$tmp/spans.jsonl" OTEL_BSP_SCHEDULE_DELAY=50 \
    "$OTELC" serve --port 0 --db "postgresql://postgres@127.0.0.1:$pg_port/postgres?connect_timeout=10" \
    >"$tmp/serve.out" 2>"$tmp/serve.err" &
serve_pid=$!
url=""
for _ in $(seq 1 100); do
    url=$(sed -n 's/.*listening on \(http:[^ ]*\).*/\1/p' "$tmp/serve.out")
    [ -n "$url" ] && break
    kill -0 "$serve_pid" 2>/dev/null || break
    sleep 0.1
done
[ -n "$url" ] || { echo "serve_pq: otelc serve did not start"; cat "$tmp/serve.err"; exit 1; }

body=$(curl -s -H 'traceparent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' "$url/users/3")
[ "$body" = '{"id":3,"name":"Alan Turing","email":"alan@example.com"}' ] || fail "/users/3: $body"
code=$(curl -s -o /dev/null -w '%{http_code}' "$url/users/42")
[ "$code" = 404 ] || fail "/users/42: status $code, expected 404"

kill -TERM "$serve_pid"
wait "$serve_pid"
rc=$?
serve_pid=""
[ "$rc" = 0 ] || fail "otelc serve exit status $rc after SIGTERM: $(cat "$tmp/serve.err")"

T=0af7651916cd43dd8448eb211c80319c
node "$here/otlp_json_assert.js" "$tmp/spans.jsonl" \
    "named('GET /users/{id}').filter(s => s.traceId === '$T').length === 1" \
    "(() => { const srv = named('GET /users/{id}').find(s => s.traceId === '$T');
              const db = spans.filter(s => s.traceId === '$T' && s.attrs['db.system.name'] === 'postgresql');
              return srv.parentSpanId === 'b7ad6b7169203331' && db.length === 1 && db[0].kind === 3 &&
                     db[0].parentSpanId === srv.spanId && db[0].attrs['db.namespace'] === 'postgres' &&
                     /^SELECT .* WHERE id = \\\$1$/.test(db[0].attrs['db.query.text']); })()" \
    "spans.filter(s => s.attrs['db.system.name'] === 'postgresql').length === 2" \
    || fail "span assertions"

[ "$failures" -eq 0 ] || exit 1
echo "serve_pq: all checks passed"
