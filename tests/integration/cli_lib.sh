# shellcheck shell=sh
# cli_lib.sh - what the integration scripts of the otelc command share.
# Source it with the build directory as $1, after naming the suite:
#
#   suite=cli_exec
#   . "$(dirname "$0")/cli_lib.sh"
#
# It skips the script (exit 77) without an otelc binary or node; makes $tmp
# (removed on exit); clears every OTEL_* variable and TRACEPARENT,
# TRACESTATE and BAGGAGE, so nothing comes from the caller's environment;
# exports OTEL_TRACES_EXPORTER=file with a 50 ms batch delay; and sets
# $here (this directory) and $OTELC. Then:
#   fail MSG...         count a failure
#   check NAME EXPR...  otlp_json_assert.js assertions on $tmp/NAME.jsonl
#   out NAME            later otelc calls export to $tmp/NAME.jsonl
#   finish              exit 1 if anything failed, else say all passed

# shellcheck disable=SC2154 # suite is the sourcing script's
: "${suite:?set suite before sourcing cli_lib.sh}"
here=$(cd "$(dirname "$0")" && pwd)
OTELC=$(cd "${1:-build}" 2>/dev/null && pwd)/otelc
[ -x "$OTELC" ] || { echo "$suite: no otelc binary in ${1:-build}; skipped"; exit 77; }
command -v node >/dev/null 2>&1 || { echo "$suite: node not found; skipped"; exit 77; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/otelc-$suite.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

for v in $(env | sed -n 's/^\(OTEL[A-Z_]*\)=.*/\1/p'); do unset "$v"; done
unset TRACEPARENT TRACESTATE BAGGAGE
export OTEL_TRACES_EXPORTER=file OTEL_BSP_SCHEDULE_DELAY=50

failures=0
fail() {
    echo "$suite: FAIL: $*" >&2
    failures=$((failures + 1))
}

check() {
    name=$1
    shift
    node "$here/otlp_json_assert.js" "$tmp/$name.jsonl" "$@" || fail "$name: span assertions"
}

out() {
    OTELC_FILE_PATH="$tmp/$1.jsonl"
    export OTELC_FILE_PATH
}

# receiver_start MODE PORT [OUT]: otlp_hang_server.js in the background (it
# hangs, or collects span ids into OUT; PORT 0: any), its port in
# $receiver_port. It
# runs until receiver_stop closes its standard input (descriptor 3).
receiver_start() {
    rm -f "$tmp/receiver.in" "$tmp/receiver.port"
    mkfifo "$tmp/receiver.in"
    node "$here/otlp_hang_server.js" "$@" <"$tmp/receiver.in" >"$tmp/receiver.port" &
    receiver_pid=$!
    exec 3>"$tmp/receiver.in"
    i=0
    while [ ! -s "$tmp/receiver.port" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
    receiver_port=$(head -n 1 "$tmp/receiver.port")
    [ -n "$receiver_port" ] || { echo "$suite: receiver did not start" >&2; exit 1; }
}
receiver_stop() {
    exec 3>&-
    wait "$receiver_pid"
}

finish() {
    if [ "$failures" -ne 0 ]; then
        echo "$suite: $failures failure(s)" >&2
        exit 1
    fi
    echo "$suite: all passed"
}
