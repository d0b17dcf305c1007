#!/bin/sh
# otelc view as a command: its help, the address lines it prints (ports 0
# picked and served), ports turned off, the default store in
# $XDG_DATA_HOME with private directories, --db :memory:, the option
# values refused before anything listens (an exposed address without a
# token), --insecure said out loud, a clean stop on SIGINT and SIGTERM,
# and self-tracing kept from exporting into the viewer itself.
#
# usage: sh tests/integration/view_cli.sh BUILD_DIR   (exit 77: skipped)
#
# shellcheck disable=SC2015 # "A && B || fail": fail when any of the checks fails
set -u
BUILD=$(cd "${1:-build}" 2>/dev/null && pwd)
. "$(dirname "$0")/view_lib.sh"
command -v node >/dev/null 2>&1 || { echo "view_cli: node not found; skipped"; exit 77; }

# ---- Help -------------------------------------------------------------------------------

"$OTELC" view --help >"$tmp/help" 2>&1 || fail "otelc view --help: exit $?"
for opt in --port --otlp-http-port --otlp-grpc-port --bind --db --max-spans --retention \
    --max-queued --token --insecure --allow-host --cors-origin; do
    grep -q -- "$opt" "$tmp/help" || fail "--help does not mention $opt"
done
grep -q 'otelc view: ui http://127.0.0.1:16686' "$tmp/help" || fail "--help: no address lines"
"$OTELC" help view | cmp -s - "$tmp/help" || fail "otelc help view differs from --help"
"$OTELC" --help | grep -q '^  view ' || fail "otelc --help does not list view"

# ---- Usage errors: exit 2 before anything listens ------------------------------------------

usage() {
    "$OTELC" view "$@" >"$tmp/out" 2>"$tmp/err"
    rc=$?
    [ "$rc" = 2 ] || fail "otelc view $*: exit $rc, expected 2"
    grep -q 'otelc: view: ' "$tmp/err" || fail "otelc view $*: no message: $(cat "$tmp/err")"
    [ -s "$tmp/out" ] && fail "otelc view $*: printed addresses: $(cat "$tmp/out")"
}
usage --port 70000
usage --otlp-grpc-port x
usage --max-spans -3
usage --max-queued 0
usage --max-queued 12x
usage --retention 7y
usage --cors-origin '*'
usage --allow-host 'a:b:c'
usage --bogus
usage extra-argument
usage --bind 0.0.0.0
grep -q -- '--token' "$tmp/err" || fail "--bind 0.0.0.0: the message does not say --token"

# ---- Address lines, ports 0 -----------------------------------------------------------------

view_start --db "$tmp/a.db"
[ "$(wc -l <"$tmp/view.out")" = 4 ] || fail "expected 4 lines: $(cat "$tmp/view.out")"
echo "$UI" | grep -Eq '^http://127\.0\.0\.1:[0-9]+$' || fail "ui line: $UI"
echo "$OTLP_HTTP" | grep -Eq '^http://127\.0\.0\.1:[0-9]+$' || fail "otlp-http line: $OTLP_HTTP"
echo "$OTLP_GRPC" | grep -Eq '^127\.0\.0\.1:[0-9]+$' || fail "otlp-grpc line: $OTLP_GRPC"
[ "$DB" = "$tmp/a.db" ] || fail "db line: $DB"
[ "${UI##*:}" != 0 ] && [ "${UI##*:}" != "${OTLP_HTTP##*:}" ] || fail "ports: $UI $OTLP_HTTP"
got=$(curl -s -o /dev/null -w '%{http_code}' "$UI/")
[ "$got" = 200 ] || fail "GET / on the ui address: $got"
got=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/x-protobuf' \
    --data-binary '' "$OTLP_HTTP/v1/traces")
[ "$got" = 200 ] || fail "an empty export on the otlp-http address: $got"
curl -s -o /dev/null --http2-prior-knowledge "http://$OTLP_GRPC/" 2>/dev/null ||
    fail "nothing speaks HTTP/2 on the otlp-grpc address"
# The query API reports the same addresses, and the spans the receivers left out.
curl -s -X POST -H 'Content-Type: application/json' "$OTLP_HTTP/v1/traces" \
    -d '{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"0102","spanId":"0102030405060708"}]}]}]}' \
    >"$tmp/partial"
grep -q '"rejectedSpans":"1"' "$tmp/partial" || fail "no partial success: $(cat "$tmp/partial")"
status=$(curl -s "$UI/api/status")
got=$(node -e 'const s = JSON.parse(process.argv[1]);
    console.log(`${s.receivers.otlpHttp} ${s.receivers.otlpGrpc} ${s.ingest.rejected}`)' "$status")
[ "$got" = "$OTLP_HTTP $OTLP_GRPC 1" ] || fail "/api/status says $got: $status"
got=$(curl -s -o "$tmp/metrics" -w '%{http_code} %{content_type}' "$UI/metrics")
case "$got" in "200 text/plain"*) ;; *) fail "GET /metrics: $got" ;; esac
# The pid is otelc's: otelc execs otelc-view, so signals reach the viewer.
grep -q '^Name:.*otelc-view' "/proc/$view_pid/status" || fail "the pid is not otelc-view's"
view_stop TERM
grep -q 'stopping' "$tmp/view.err" || fail "no word of stopping: $(cat "$tmp/view.err")"
[ "$(spans_in "$tmp/a.db")" = 0 ] || fail "the store is not a store"

# ---- Ports off; SIGINT --------------------------------------------------------------------------

"$OTELC" view --port off --otlp-http-port 0 --otlp-grpc-port -1 --db "$tmp/b.db" \
    >"$tmp/view.out" 2>"$tmp/view.err" &
view_pid=$!
for _ in $(seq 1 100); do grep -q '^otelc view: db' "$tmp/view.out" && break; sleep 0.05; done
grep -q '^otelc view: otlp-http ' "$tmp/view.out" || fail "ports off: no otlp-http line"
grep -Eq '^otelc view: (ui|otlp-grpc) ' "$tmp/view.out" && fail "ports off: $(cat "$tmp/view.out")"
view_stop INT

# ---- The default store: $XDG_DATA_HOME/otelc, directories created private -------------------

XDG_DATA_HOME=$tmp/xdg/data "$OTELC" view --port 0 --otlp-http-port 0 --otlp-grpc-port 0 \
    >"$tmp/view.out" 2>"$tmp/view.err" &
view_pid=$!
for _ in $(seq 1 100); do grep -q '^otelc view: db' "$tmp/view.out" && break; sleep 0.05; done
grep -qx "otelc view: db $tmp/xdg/data/otelc/traces.db" "$tmp/view.out" ||
    fail "default store: $(cat "$tmp/view.out" "$tmp/view.err")"
[ "$(stat -c %a "$tmp/xdg")" = 700 ] && [ "$(stat -c %a "$tmp/xdg/data/otelc")" = 700 ] ||
    fail "the store's directories are not private: $(stat -c '%a %n' "$tmp/xdg" "$tmp/xdg/data/otelc")"
view_stop TERM

# ---- --db :memory:: nothing left behind -------------------------------------------------------

TMPDIR=$tmp/mem && mkdir "$TMPDIR" && export TMPDIR
view_start --db :memory:
[ "$DB" = ":memory:" ] || fail ":memory: db line: $DB"
[ -n "$(ls "$TMPDIR")" ] || fail ":memory: no private store while running"
view_stop TERM
[ -z "$(ls "$TMPDIR")" ] || fail ":memory: left $(ls "$TMPDIR")"
unset TMPDIR

# ---- Exposed: with a token, or --insecure with a warning ----------------------------------------

view_start --db "$tmp/c.db" --bind 0.0.0.0 --insecure
grep -q 'WARNING' "$tmp/view.err" || fail "--insecure without a warning"
echo "$UI" | grep -q '^http://0\.0\.0\.0:' || fail "--bind 0.0.0.0: ui line $UI"
port=${UI##*:}
got=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/")
[ "$got" = 200 ] || fail "--bind 0.0.0.0: GET / $got"
view_stop TERM
view_start --db "$tmp/c.db" --bind 0.0.0.0 --token s3cret
grep -q 'WARNING' "$tmp/view.err" && fail "--token: a warning anyway"
port=${UI##*:}
got=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/api/services")
[ "$got" = 401 ] || fail "--token: the API without it: $got"
view_stop TERM

# ---- Self-tracing never into the viewer itself --------------------------------------------------

# A shell set up to export to the viewer (the usual way of using it) starts it too.
OTEL_TRACES_EXPORTER=otlp OTEL_EXPORTER_OTLP_ENDPOINT=http://localhost:4318 \
    "$OTELC" view --port 0 --otlp-http-port 4318 --otlp-grpc-port 0 --db "$tmp/d.db" \
    >"$tmp/view.out" 2>"$tmp/view.err" &
view_pid=$!
for _ in $(seq 1 100); do grep -q '^otelc view: db' "$tmp/view.out" && break; sleep 0.05; done
if grep -q '^otelc view: otlp-http ' "$tmp/view.out"; then
    grep -q 'self-tracing is off' "$tmp/view.err" || fail "self-tracing into itself not refused"
    UI=$(sed -n 's/^otelc view: ui //p' "$tmp/view.out")
    curl -s -o /dev/null "$UI/api/services"
    sleep 0.5
    [ "$(spans_in "$tmp/d.db")" = 0 ] || fail "the viewer stored spans of its own"
else
    echo "view_cli: port 4318 is taken here; the self-tracing check is skipped"
fi
view_stop TERM

# ---- A server-sent events stream: events as spans arrive; a stop ends it ---------------------------

view_start --db "$tmp/f.db"
curl -sN -D "$tmp/live.h" -o "$tmp/live" --max-time 30 "$UI/api/live?q=%7B%7D" &
live_pid=$!
sleep 0.5
node "$(dirname "$0")/view_send.js" batches "$OTLP_HTTP/v1/traces" 1 3 >/dev/null ||
    fail "the span for the live stream was not acknowledged"
for _ in $(seq 1 50); do grep -q '^event: traces' "$tmp/live" 2>/dev/null && break; sleep 0.1; done
grep -q '^data: {"traceIDs":\["[0-9a-f]\{32\}"\],"spans":3}' "$tmp/live" ||
    fail "no event on the live stream: $(cat "$tmp/live")"
grep -qi '^Content-Type: text/event-stream' "$tmp/live.h" || fail "the live stream's type"
started=$(date +%s)
view_stop TERM
wait "$live_pid"
[ $(($(date +%s) - started)) -le 5 ] || fail "a stop with a live stream open took $(($(date +%s) - started)) s"

# ---- --import while serving, --forward to another viewer --------------------------------------------

# A second viewer is the next hop; the first imports a file and forwards all it stores.
# (Spans of now: older than the retention, 7 days, they would be removed at once.)
now=$(date +%s)000000000
for id in 10 11; do
    printf '{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"0102030405060708090a0b0c0d0e0f%s",' "$id"
    printf '"spanId":"01020304050607%s","name":"imported","startTimeUnixNano":"%s",' "$id" "$now"
    printf '"endTimeUnixNano":"%s"}]}]}]}\n' "$now"
done >"$tmp/import.jsonl"
view_start --db "$tmp/hop.db"
hop_pid=$view_pid hop_http=$OTLP_HTTP
cp "$tmp/view.err" "$tmp/hop.err"
view_start --db "$tmp/g.db" --import "$tmp/import.jsonl" --forward "$hop_http"
node "$(dirname "$0")/view_send.js" batches "$OTLP_HTTP/v1/traces" 2 5 >/dev/null ||
    fail "not acknowledged with --forward"
for _ in $(seq 1 100); do
    [ "$(spans_in "$tmp/hop.db")" = 12 ] && break
    sleep 0.1
done
[ "$(spans_in "$tmp/g.db")" = 12 ] || fail "--import: $(spans_in "$tmp/g.db") spans stored, expected 2 + 10"
[ "$(spans_in "$tmp/hop.db")" = 12 ] || fail "--forward: $(spans_in "$tmp/hop.db") spans at the next hop"
# /api/status counts what each target was sent.
for _ in $(seq 1 50); do
    curl -s "$UI/api/status" >"$tmp/status" && grep -q '"sent":12' "$tmp/status" && break
    sleep 0.1
done
grep -q "\"forwards\":\[{\"url\":\"$hop_http/v1/traces\",\"sent\":12,\"dropped\":0" "$tmp/status" ||
    fail "/api/status forwards: $(cat "$tmp/status")"
grep -q '"spans":12,"traces":4,' "$tmp/status" || # 2 imported, 2 sent of 5 spans
    fail "/api/status forwards: $(cat "$tmp/status")"
view_stop TERM
grep -q 'import.jsonl: 2 spans imported from 2 records' "$tmp/view.err" ||
    fail "--import summary: $(cat "$tmp/view.err")"
view_pid=$hop_pid
view_stop TERM
usage --forward 'ftp://nowhere/'
usage --forward-protocol thrift --forward http://127.0.0.1:1

# Asked for in so many words, to somewhere else: a SERVER span per query.
export OTEL_TRACES_EXPORTER=console
view_start --db "$tmp/e.db"
unset OTEL_TRACES_EXPORTER
curl -s -o /dev/null "$UI/api/services"
view_stop TERM
cat "$tmp/view.out" "$tmp/view.err" | grep -q 'url.path="/api/services"' ||
    fail "no span of the viewer's own query: $(cat "$tmp/view.out" "$tmp/view.err")"
[ "$(spans_in "$tmp/e.db")" = 0 ] || fail "the viewer stored spans of its own"
# And nothing of the kind by default (view_start runs without OTEL_*).
view_start --db "$tmp/e.db"
curl -s -o /dev/null "$UI/api/services"
view_stop TERM
cat "$tmp/view.out" "$tmp/view.err" | grep -q 'url.path=' && fail "spans printed without OTEL_*"

# Programs that ran before the viewer listened found its address down and recorded it for
# the processes after them (the shared breaker, OTELC_BREAKER_INTERVAL): the viewer forgets
# those records as it starts, and only those, so the next program's spans arrive at once.
export XDG_RUNTIME_DIR="$tmp/run"
mkdir -m 700 "$XDG_RUNTIME_DIR"
view_start --db "$tmp/down.db"
port=${OTLP_HTTP##*:}
view_stop TERM
for ep in "http://127.0.0.1:$port" "http://localhost:$port/v1/traces" http://127.0.0.1:1; do
    OTEL_TRACES_EXPORTER=otlp OTEL_EXPORTER_OTLP_ENDPOINT=$ep OTEL_LOG_LEVEL=none \
        "$OTELC" exec --name before -- true
done
breaker_records() { find "$XDG_RUNTIME_DIR/otelc" -name 'breaker-*' ! -name '*.tmp' | wc -l; }
[ "$(breaker_records)" = 3 ] || fail "expected 3 breaker records, found $(breaker_records)"
view_start --db "$tmp/down.db" --otlp-http-port "$port"
[ "$(breaker_records)" = 1 ] || fail "the viewer left $(breaker_records) records, expected 1 (port 1's)"
OTEL_TRACES_EXPORTER=otlp OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:$port" \
    "$OTELC" exec --name after -- true 2>"$tmp/after.err"
view_stop TERM
[ "$(spans_in "$tmp/down.db")" = 1 ] ||
    fail "the span sent after the viewer started did not arrive: $(cat "$tmp/after.err")"
unset XDG_RUNTIME_DIR

view_done
