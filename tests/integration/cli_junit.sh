#!/bin/sh
# cli_junit.sh - `otelc junit` end to end: every producer's fixture exported
# through the file exporter and checked span by span (junit_assert.js), the
# exit statuses, --output json, placement under TRACEPARENT, and malformed
# or unreadable input exporting nothing.
#
# usage: sh tests/integration/cli_junit.sh BUILD_DIR   (exit 77: skipped)
set -eu

build=${1:?usage: cli_junit.sh BUILD_DIR}
here=$(cd "$(dirname "$0")" && pwd)
fixtures="$here/../fixtures/junit"
otelc="$build/otelc"
[ -x "$otelc" ] || {
    echo "cli_junit: $otelc not built: skipped"
    exit 77
}
command -v node >/dev/null 2>&1 || {
    echo "cli_junit: node not installed: skipped"
    exit 77
}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/otelc-junit.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

fail() {
    echo "cli_junit: $*" >&2
    exit 1
}

# run EXPECTED_STATUS NAME ARGS...: otelc junit exporting to $tmp/NAME.jsonl.
run() {
    want=$1 name=$2
    shift 2
    status=0
    TZ=UTC OTEL_TRACES_EXPORTER=file OTELC_FILE_PATH="$tmp/$name.jsonl" \
        "$otelc" junit "$@" >"$tmp/$name.out" 2>"$tmp/$name.err" || status=$?
    [ "$status" = "$want" ] || {
        cat "$tmp/$name.err" >&2
        fail "$name: exit status $status, expected $want"
    }
}

all="$fixtures/TEST-com.example.cart.CartServiceTest.xml $fixtures/pytest-xunit2.xml
$fixtures/pytest-xunit1.xml $fixtures/jest-junit.xml $fixtures/gotestsum.xml
$fixtures/ctest.xml $fixtures/nested.xml"

# 1. Every producer at once: failures make the exit status 1.
start_ns=$(date +%s%N)
unset TRACEPARENT TRACESTATE
# shellcheck disable=SC2086
run 1 all $all
node "$here/junit_assert.js" fixtures "$tmp/all.jsonl" "$start_ns" || fail "fixtures: wrong trace"
grep -q '28 tests: 12 passed, 7 failed, 2 errors, 7 skipped' "$tmp/all.err" ||
    fail "fixtures: no summary on stderr: $(cat "$tmp/all.err")"

# 2. --no-fail and --output json (options after the files too).
run 0 json "$fixtures/gotestsum.xml" --output json "$fixtures/ctest.xml" --no-fail
node "$here/junit_assert.js" totals "$(cat "$tmp/json.out")" || fail "json: wrong totals"

# 3. A report without failures exits 0.
run 0 green "$fixtures/pytest-xunit1.xml"

# 4. Under TRACEPARENT from the environment.
trace=4bf92f3577b34da6a3ce929d0e0e4736
parent=00f067aa0ba902b7
TRACEPARENT="00-$trace-$parent-01" run 1 nested "$fixtures/jest-junit.xml"
node "$here/junit_assert.js" traceparent "$tmp/nested.jsonl" "$trace" "$parent" ||
    fail "TRACEPARENT: not honoured"

# 5. --service names the exported resource.
run 0 service --service shop-tests "$fixtures/pytest-xunit1.xml"
grep -q '"key":"service.name","value":{"stringValue":"shop-tests"}' "$tmp/service.jsonl" ||
    fail "--service: service.name not set"

# 6. Malformed XML after a good report: file:line named, status 3, nothing exported.
for bad in malformed-mismatch.xml:5 malformed-entity.xml:4 malformed-truncated.xml:17; do
    file=${bad%%:*}
    run 3 bad "$fixtures/gotestsum.xml" "$fixtures/$file"
    grep -q "$file:${bad##*:}:[0-9]*: malformed XML" "$tmp/bad.err" ||
        fail "$file: error does not name file and line: $(cat "$tmp/bad.err")"
    [ ! -s "$tmp/bad.jsonl" ] || fail "$file: spans were exported from a failed run"
done

# 7. Unreadable input, usage errors.
run 3 missing "$tmp/no-such-report.xml"
grep -q "no-such-report.xml: cannot read" "$tmp/missing.err" || fail "missing file not named"
run 2 usage --frobnicate "$fixtures/ctest.xml"
grep -q 'unknown option "--frobnicate"' "$tmp/usage.err" || fail "unknown option not named"
run 2 nofile --no-fail
run 2 badout --output xml "$fixtures/ctest.xml"
run 0 help --help
grep -q "^usage: otelc junit" "$tmp/help.out" || fail "--help prints no usage"
[ ! -s "$tmp/usage.jsonl" ] || fail "a usage error exported spans"

echo "cli_junit: ok"
