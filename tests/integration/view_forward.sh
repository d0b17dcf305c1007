#!/bin/sh
# --forward to a second otelc view that stops and comes back: the first
# viewer keeps its own copy, queues what it could not send, and delivers
# every span once the next hop is back (exactly once: the hop's store ends
# with as many spans as were sent), while /api/status counts what was sent.
#
# usage: sh tests/integration/view_forward.sh BUILD_DIR   (exit 77: skipped)
#
# shellcheck disable=SC2015 # "A && B || fail": fail when any of the checks fails
set -u
BUILD=$(cd "${1:-build}" 2>/dev/null && pwd)
. "$(dirname "$0")/view_lib.sh"
command -v node >/dev/null 2>&1 || { echo "view_forward: node not found; skipped"; exit 77; }
SEND="node $(cd "$(dirname "$0")" && pwd)/view_send.js"

# wait_spans FILE N: until the store FILE holds N spans (at most 20 s).
wait_spans() {
    for _ in $(seq 1 200); do
        [ "$(spans_in "$1")" = "$2" ] && return 0
        sleep 0.1
    done
    return 1
}

# The next hop, on a port of its own that it gets back when it restarts.
view_start --db "$tmp/hop.db"
hop_pid=$view_pid hop_url=$OTLP_HTTP
hop_port=${hop_url##*:}

view_start --db "$tmp/first.db" --forward "$hop_url"
first_pid=$view_pid first_ui=$UI first_http=$OTLP_HTTP

# 1. Both up: 100 spans arrive at both.
[ "$($SEND batches "$first_http/v1/traces" 4 25)" = 100 ] || fail "the first 100 spans were not acknowledged"
wait_spans "$tmp/hop.db" 100 || fail "up: $(spans_in "$tmp/hop.db") spans at the next hop, expected 100"

# 2. The next hop stops: the first viewer still acknowledges and stores everything.
view_pid=$hop_pid
view_stop TERM
[ "$($SEND batches "$first_http/v1/traces" 6 25)" = 150 ] || fail "spans were refused while the next hop was down"
[ "$(spans_in "$tmp/first.db")" = 250 ] || fail "the first viewer holds $(spans_in "$tmp/first.db") spans, expected 250"
curl -s "$first_ui/api/status" >"$tmp/status"
grep -q '"sent":100,' "$tmp/status" || fail "down: /api/status: $(cat "$tmp/status")"

# 3. It comes back on the same port and store: the 150 queued arrive, once.
"$OTELC" view --db "$tmp/hop.db" --port 0 --otlp-http-port "$hop_port" --otlp-grpc-port off \
    >"$tmp/hop2.out" 2>"$tmp/hop2.err" &
hop_pid=$!
wait_spans "$tmp/hop.db" 250 || fail "back: $(spans_in "$tmp/hop.db") spans at the next hop, expected 250"
sleep 1 # anything sent twice would arrive now
[ "$(spans_in "$tmp/hop.db")" = 250 ] || fail "after the retries: $(spans_in "$tmp/hop.db") spans, expected 250"
curl -s "$first_ui/api/status" >"$tmp/status"
grep -q '"sent":250,"dropped":0,' "$tmp/status" || fail "back: /api/status: $(cat "$tmp/status")"

view_pid=$first_pid
view_stop TERM
view_pid=$hop_pid
view_stop TERM
echo "view_forward: 250 spans forwarded through a stop of the next hop, each once"
view_done
