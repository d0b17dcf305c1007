#!/bin/sh
# A hung backend must not stretch every process's exit: against a TCP
# endpoint that accepts and never answers, a library program exits within
# OTELC_EXIT_TIMEOUT, and 200 sequential `otelc exec` steps take about as
# long as the same steps untraced, because the first process to find the
# endpoint hung records it for those that follow (the shared breaker). When
# the endpoint answers again after the breaker's interval, the next process
# delivers and closes the breaker.
#
# usage: sh tests/integration/exit_breaker.sh BUILD_DIR   (exit 77: skipped)
set -u

suite=exit_breaker
# shellcheck source=tests/integration/cli_lib.sh
. "$(dirname "$0")/cli_lib.sh"
HELLO=$(dirname "$OTELC")/example_hello
[ -x "$HELLO" ] || { echo "$suite: no example_hello; skipped"; exit 77; }
"$OTELC" --version >/dev/null 2>&1 || exit 77

export XDG_RUNTIME_DIR="$tmp/run"
mkdir -m 700 "$XDG_RUNTIME_DIR"
export OTEL_TRACES_EXPORTER=otlp OTEL_LOG_LEVEL=none

now_ms() { echo $(($(date +%s%N) / 1000000)); }

receiver_start hang 0
export OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:$receiver_port"
breaker_files() {
    set -- "$XDG_RUNTIME_DIR"/otelc/breaker-*
    if [ -e "$1" ]; then echo $#; else echo 0; fi
}

# ---- a library program exits within its bound (the export timeout is 10 s) --------
t0=$(now_ms)
OTELC_EXIT_TIMEOUT=500 OTELC_BREAKER_INTERVAL=0 "$HELLO" >/dev/null
took=$(($(now_ms) - t0))
echo "$suite: example_hello against a hung endpoint exited in $took ms (bound 500 ms)"
[ "$took" -lt 2500 ] || fail "example_hello took $took ms to exit, bound 500 ms"
[ "$(breaker_files)" -eq 0 ] || fail "OTELC_BREAKER_INTERVAL=0 still recorded the endpoint"

# ---- 200 sequential steps: traced costs about what untraced does ------------------
t0=$(now_ms)
i=0
while [ $i -lt 200 ]; do OTEL_SDK_DISABLED=true "$OTELC" exec -- true; i=$((i + 1)); done
untraced=$(($(now_ms) - t0))
t0=$(now_ms)
i=0
while [ $i -lt 200 ]; do "$OTELC" exec -- true; i=$((i + 1)); done
traced=$(($(now_ms) - t0))
limit=$((untraced * 11 / 10 + 5000))
echo "$suite: 200 steps: untraced $untraced ms, traced against a hung endpoint $traced ms (limit $limit ms)"
# Under a sanitizer, starting the SDK and its worker costs each step tens of
# milliseconds that no shipped build pays: the bound is checked without one.
if grep -aq -e '__asan_init' -e '__tsan_init' "$OTELC"; then
    echo "$suite: a sanitizer build: the 200-step time is reported, not checked"
else
    [ "$traced" -le "$limit" ] || fail "200 traced steps took $traced ms, limit $limit ms"
fi
[ "$(breaker_files)" -eq 1 ] || fail "the hung endpoint was not recorded for other processes"

# ---- the endpoint answers again: after the interval, a success closes the breaker --
receiver_stop
receiver_start collect "$receiver_port" "$tmp/ids"
"$OTELC" exec --name skipped -- true
[ -s "$tmp/ids" ] && fail "a process sent to an endpoint recorded down within the interval"
# A reader's own interval bounds the record: with 1 s, the record made by the first step is
# stale once a second has passed since it (the 199 steps that followed it may take less).
sleep 1
OTELC_BREAKER_INTERVAL=1 "$OTELC" exec --name delivered -- true
[ "$(wc -l <"$tmp/ids" 2>/dev/null || echo 0)" -eq 1 ] || fail "after the interval the span was not delivered"
[ "$(breaker_files)" -eq 0 ] || fail "a success did not close the breaker"
receiver_stop
finish
