#!/bin/sh
# otelc span start/event/end from a real shell script: parentage, events
# and their times, status, a span never ended (reported when the root ends,
# and after OTELC_SPAN_TIMEOUT), parallel jobs, errors. Spans go through
# the file exporter and are checked with otlp_json_assert.js.
#
# usage: sh tests/integration/cli_span.sh BUILD_DIR   (exit 77: skipped)
set -u

suite=cli_span
# shellcheck source=tests/integration/cli_lib.sh
. "$(dirname "$0")/cli_lib.sh"
export OTELC_SPAN_DIR="$tmp/state"

# ---- a deploy script: root span, a child command, events, a sub-span ----------
out script
cat >"$tmp/deploy.sh" <<'SCRIPT'
set -e
TRACEPARENT=$("$OTELC" span start --name deploy --attr env=staging --kind server)
export TRACEPARENT
"$OTELC" exec --name migrate -- true
"$OTELC" span event migrated --attr tables=12
sub=$("$OTELC" span start --name upload)
"$OTELC" span event --span "$sub" chunk
sleep 0.05
"$OTELC" span end --span "$sub" --status ok --attr bytes=1024
"$OTELC" span start --name forgotten >/dev/null
"$OTELC" span end --status error --message "smoke test failed"
SCRIPT
OTELC="$OTELC" sh "$tmp/deploy.sh" || fail "the deploy script failed"
check script 'spans.length === 4' \
    'one("deploy").parentSpanId === "" && one("deploy").kind === 2' \
    'one("deploy").attrs.env === "staging"' \
    'one("deploy").status === 2 && one("deploy").message === "smoke test failed"' \
    'spans.every(s => s.traceId === one("deploy").traceId)' \
    'one("migrate").parentSpanId === one("deploy").spanId' \
    'one("upload").parentSpanId === one("deploy").spanId' \
    'one("forgotten").parentSpanId === one("deploy").spanId' \
    'one("deploy").events.length === 1 && one("deploy").events[0].name === "migrated"' \
    'one("deploy").events[0].attrs.tables === "12"' \
    'one("deploy").events[0].time > one("migrate").end && one("deploy").events[0].time < one("upload").start' \
    'one("upload").events[0].name === "chunk" && one("upload").events[0].time >= one("upload").start' \
    'one("upload").end - one("upload").start >= 50000000n' \
    'one("upload").status === 1 && one("upload").attrs.bytes === "1024"' \
    'one("deploy").start < one("migrate").start && one("deploy").end >= one("upload").end' \
    'one("forgotten").status === 2 && /never ended/.test(one("forgotten").message)' \
    'one("forgotten").attrs["otelc.span.unended"] === true'
[ -z "$(ls -A "$tmp/state")" ] || fail "state files left behind: $(ls "$tmp/state")"

# ---- the printed context is the real one; TRACEPARENT from the environment -------
out context
tp=$(TRACEPARENT=00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01 \
    "$OTELC" span start --name joined)
case "$tp" in
00-0af7651916cd43dd8448eb211c80319c-*-01) ;;
*) fail "span start under TRACEPARENT printed $tp" ;;
esac
"$OTELC" span end --span "$tp"
check context 'one("joined").parentSpanId === "b7ad6b7169203331"' \
    "'$tp' === '00-' + one('joined').traceId + '-' + one('joined').spanId + '-01'"
json=$("$OTELC" span start --name j --output json --parent none)
echo "$json" | node -e 'const j = JSON.parse(require("fs").readFileSync(0, "utf8"));
  process.exit(j.traceparent === `00-${j.trace_id}-${j.span_id}-03` ? 0 : 1)' ||
    fail "span start --output json: $json"
"$OTELC" span end --span "$(echo "$json" | sed 's/.*"traceparent":"\([^"]*\)".*/\1/')" ||
    fail "ending the json span"

# ---- parallel jobs: every event of 20 concurrent writers is kept ------------------
out parallel
tp=$("$OTELC" span start --name parallel)
i=0
while [ $i -lt 20 ]; do
    "$OTELC" span event --span "$tp" "e$i" &
    i=$((i + 1))
done
wait
i=0
while [ $i -lt 8 ]; do
    (c=$(TRACEPARENT=$tp "$OTELC" span start --name "child$i") && "$OTELC" span end --span "$c") &
    i=$((i + 1))
done
wait
"$OTELC" span end --span "$tp"
check parallel 'one("parallel").events.length === 20' \
    'new Set(one("parallel").events.map(e => e.name)).size === 20' \
    'spans.filter(s => s.parentSpanId === one("parallel").spanId).length === 8' \
    'spans.every(s => s.status === 0)'

# ---- OTELC_SPAN_TIMEOUT: an old span is reported by the next span command --------
out expired
old=$("$OTELC" span start --name stale)
sleep 1.2
OTELC_SPAN_TIMEOUT=1s "$OTELC" span start --name fresh >/dev/null
check expired 'one("stale").status === 2 && /OTELC_SPAN_TIMEOUT/.test(one("stale").message)' \
    'one("stale").end - one("stale").start === 1000000000n' \
    'named("fresh").length === 0'
"$OTELC" span end --span "$old" 2>/dev/null
[ $? -eq 3 ] || fail "ending a span already reported as expired must exit 3"

# ---- errors --------------------------------------------------------------------------
"$OTELC" span end --span 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01 2>"$tmp/err"
[ $? -eq 3 ] || fail "ending an unknown span must exit 3"
grep -q "no started span" "$tmp/err" || fail "no clear message for an unknown span"
"$OTELC" span event --span not-a-traceparent x 2>/dev/null
[ $? -eq 2 ] || fail "a malformed --span must exit 2"
"$OTELC" span frobnicate 2>/dev/null
[ $? -eq 2 ] || fail "an unknown span command must exit 2"
"$OTELC" span end --span "$tp" --status maybe 2>/dev/null
[ $? -eq 2 ] || fail "an unknown status must exit 2"
"$OTELC" span --help | grep -q "example:" || fail "otelc span --help"
mkdir -m 777 "$tmp/open"
OTELC_SPAN_DIR="$tmp/open" "$OTELC" span start 2>/dev/null >/dev/null
[ $? -eq 70 ] || fail "a state directory writable by others must be refused"

finish
