#!/bin/sh
# The request gate of otelc serve (cli/http_gate.c) against the real
# service: what a web page in the user's browser could send to /build -
# a cross-origin "simple" POST (text/plain, form-encoded, no Content-Type),
# a DNS-rebound Host, Origin null, a foreign Origin with application/json,
# Sec-Fetch-Site cross-site - is answered 403/415 and runs nothing (each
# step would create a file, and no file appears), while requests without
# an Origin, from the service's own origin and from a --cors-origin still
# run. Also: the CORS preflight, the response headers, --allow-host, and
# the option values refused at start.
#
# usage: sh tests/integration/serve_gate.sh BUILD_DIR   (exit 77: skipped)
#
# shellcheck disable=SC2015 # "A && B || fail": fail when any of the checks fails
# shellcheck disable=SC2016 # the single-quoted program is JavaScript
set -u

OTELC=$(cd "${1:-build}" 2>/dev/null && pwd)/otelc
[ -x "$OTELC" ] || { echo "serve_gate: no otelc binary in ${1:-build}; skipped"; exit 77; }
"$OTELC" serve --help >/dev/null 2>&1 || { echo "serve_gate: otelc serve unavailable; skipped"; exit 77; }
command -v curl >/dev/null 2>&1 || { echo "serve_gate: curl not found; skipped"; exit 77; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/otelc-serve-gate.XXXXXX")
serve_pid=""
cleanup() {
    [ -n "$serve_pid" ] && kill "$serve_pid" 2>/dev/null && wait "$serve_pid"
    rm -rf "$tmp"
}
trap cleanup EXIT INT TERM
cd "$tmp" || exit 1

for v in $(env | sed -n 's/^\(OTEL[A-Z_]*\)=.*/\1/p'); do unset "$v"; done
unset TRACEPARENT TRACESTATE BAGGAGE

failures=0
fail() {
    echo "serve_gate: FAIL: $*" >&2
    failures=$((failures + 1))
}

EVIL=http://evil.example
ALLOWED=http://localhost:3000

# Start otelc serve --port 0 ARGS; sets url and port.
start() {
    "$OTELC" serve --port 0 "$@" >"$tmp/serve.out" 2>"$tmp/serve.err" &
    serve_pid=$!
    url=""
    for _ in $(seq 1 100); do
        url=$(sed -n 's/.*listening on \(http:[^ ]*\).*/\1/p' "$tmp/serve.out")
        [ -n "$url" ] && break
        kill -0 "$serve_pid" 2>/dev/null || break
        sleep 0.1
    done
    [ -n "$url" ] || { echo "serve_gate: otelc serve did not start"; cat "$tmp/serve.err"; exit 1; }
    port=${url##*:}
}

stop() {
    kill -TERM "$serve_pid"
    wait "$serve_pid" || fail "otelc serve exit status $? after SIGTERM"
    serve_pid=""
}

# request METHOD PATH [curl options...]: the status code; headers in $tmp/h, body in $tmp/b.
request() {
    method=$1 path=$2
    shift 2
    curl -s -o "$tmp/b" -D "$tmp/h" -w '%{http_code}' -X "$method" "$@" "$url$path"
}

# build NAME WANT [curl options...]: POST /build a step that creates the file
# ran-NAME; the status must be WANT, and the file must exist only if WANT is 200.
build() {
    name=$1 want=$2
    shift 2
    marker="$tmp/ran-$name"
    got=$(request POST /build -d "[{\"name\": \"x\", \"command\": \"touch $marker\"}]" "$@")
    [ "$got" = "$want" ] || fail "$name: status $got, expected $want: $(cat "$tmp/b")"
    if [ "$want" = 200 ]; then
        [ -f "$marker" ] || fail "$name: allowed, but the step did not run"
    else
        [ -f "$marker" ] && fail "$name: refused with $got, but the step ran"
        grep -q '"error":' "$tmp/b" || fail "$name: no error message: $(cat "$tmp/b")"
    fi
}

# header NAME: the value of response header NAME in $tmp/h (empty when absent).
header() {
    tr -d '\r' <"$tmp/h" | sed -n "s/^$1: //Ip" | head -n 1
}

JSON='Content-Type: application/json'

start --cors-origin "$ALLOWED" --allow-host dev.example.test

# ---- What a web page can send: refused, nothing run ------------------------------------

build simple-cross-origin 403 -H 'Content-Type: text/plain' -H "Origin: $EVIL" \
    -H "Host: evil.example:$port"
build text-plain-foreign-origin 403 -H 'Content-Type: text/plain' -H "Origin: $EVIL"
build form-foreign-origin 403 -H 'Content-Type: application/x-www-form-urlencoded' -H "Origin: $EVIL"
build form 415 -H 'Content-Type: application/x-www-form-urlencoded'
build multipart 415 -H 'Content-Type: multipart/form-data; boundary=x'
build no-content-type 415 -H 'Content-Type:'
build text-plain 415 -H 'Content-Type: text/plain'
build rebinding 403 -H "$JSON" -H "Host: evil.example:$port"
build rebinding-no-port 403 -H "$JSON" -H 'Host: evil.example'
build trailing-dot 403 -H "$JSON" -H "Host: localhost.:$port"
build other-port 403 -H "$JSON" -H 'Host: localhost:1'
build no-host 400 -H "$JSON" -H 'Host:'
build origin-null 403 -H "$JSON" -H 'Origin: null'
build origin-evil-json 403 -H "$JSON" -H "Origin: $EVIL"
build origin-other-local-port 403 -H "$JSON" -H 'Origin: http://localhost:3001'
build sec-fetch-cross-site 403 -H "$JSON" -H 'Sec-Fetch-Site: cross-site'
build sec-fetch-same-site 403 -H "$JSON" -H 'Sec-Fetch-Site: same-site'

# Two Host lines (curl sends one only): RFC 9112 says 400, and nothing runs.
if command -v node >/dev/null 2>&1; then
    body="[{\"name\": \"x\", \"command\": \"touch $tmp/ran-repeated-host\"}]"
    got=$(node -e '
        const [port, body] = process.argv.slice(1);
        const c = require("net").connect(Number(port), "127.0.0.1", () => c.end(
            `POST /build HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nHost: evil.example:${port}\r\n` +
            `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
            `Connection: close\r\n\r\n${body}`));
        let got = "";
        c.on("data", d => { got += d; });
        c.on("close", () => console.log(got.split(" ")[1]));' "$port" "$body")
    [ "$got" = 400 ] && [ ! -f "$tmp/ran-repeated-host" ] || fail "two Host lines: $got"
fi

# /test runs a command too; /benchmark and /w3c/test are gated the same way.
got=$(request POST /test -H 'Content-Type: text/plain' \
    -d "{\"command\": \"touch $tmp/ran-test\", \"report\": \"r.xml\"}")
[ "$got" = 415 ] && [ ! -f "$tmp/ran-test" ] || fail "/test text/plain: $got"
got=$(request POST /test -H "$JSON" -H "Origin: $EVIL" \
    -d "{\"command\": \"touch $tmp/ran-test\", \"report\": \"r.xml\"}")
[ "$got" = 403 ] && [ ! -f "$tmp/ran-test" ] || fail "/test from a foreign origin: $got"
got=$(request POST /w3c/test -H 'Content-Type: text/plain' -d '[]')
[ "$got" = 415 ] || fail "/w3c/test text/plain: $got"
got=$(request POST /benchmark -H 'Content-Type: text/plain' -d '{"iterations": 1000}')
[ "$got" = 415 ] || fail "/benchmark text/plain: $got"
got=$(request POST /benchmark -H 'Content-Type: text/plain')
[ "$got" = 415 ] || fail "/benchmark with an empty text/plain body: $got"
got=$(request POST /benchmark -H "Origin: $EVIL")
[ "$got" = 403 ] || fail "/benchmark from a foreign origin: $got"

# ---- Legitimate callers still run ----------------------------------------------------

build no-origin 200 -H "$JSON"
build charset 200 -H 'Content-Type: application/json; charset=utf-8'
build own-origin 200 -H "$JSON" -H "Origin: http://127.0.0.1:$port" -H 'Sec-Fetch-Site: same-origin'
build own-origin-localhost 200 -H "$JSON" -H "Host: localhost:$port" \
    -H "Origin: http://localhost:$port"
build ipv6-loopback-name 200 -H "$JSON" -H "Host: [::1]:$port"
build allow-host 200 -H "$JSON" -H "Host: DEV.example.test:$port"
build cors-origin 200 -H "$JSON" -H "Origin: $ALLOWED" -H 'Sec-Fetch-Site: cross-site'
[ "$(header Access-Control-Allow-Origin)" = "$ALLOWED" ] ||
    fail "a --cors-origin gets its origin echoed: $(cat "$tmp/h")"
[ "$(header Vary)" = Origin ] || fail "Vary: Origin with --cors-origin: $(cat "$tmp/h")"
got=$(request POST /benchmark -d '' -H 'Content-Type:' -H "Origin: http://localhost:$port")
[ "$got" = 200 ] || fail "/benchmark with an empty body and no Content-Type: $got $(cat "$tmp/b")"

# ---- CORS preflight and response headers ------------------------------------------------

got=$(request OPTIONS /build -H "Origin: $ALLOWED" -H 'Access-Control-Request-Method: POST' \
    -H 'Access-Control-Request-Headers: content-type')
[ "$got" = 204 ] && [ "$(header Access-Control-Allow-Origin)" = "$ALLOWED" ] &&
    header Access-Control-Allow-Headers | grep -qi content-type ||
    fail "preflight from a --cors-origin: $got $(cat "$tmp/h")"
got=$(request OPTIONS /build -H "Origin: $EVIL" -H 'Access-Control-Request-Method: POST' \
    -H 'Access-Control-Request-Headers: content-type')
[ "$got" != 204 ] && [ -z "$(header Access-Control-Allow-Origin)" ] &&
    [ -z "$(header Access-Control-Allow-Headers)" ] ||
    fail "preflight from a foreign origin is granted: $got $(cat "$tmp/h")"
got=$(request GET /health -H "Origin: $EVIL")
[ "$got" = 200 ] && [ -z "$(header Access-Control-Allow-Origin)" ] &&
    [ "$(header X-Content-Type-Options)" = nosniff ] ||
    fail "GET from a foreign origin: 200, nosniff, no CORS allowance: $got $(cat "$tmp/h")"
got=$(request GET /health -H "Host: evil.example:$port")
[ "$got" = 403 ] && [ "$(header X-Content-Type-Options)" = nosniff ] ||
    fail "GET with a rebound Host: 403 with nosniff: $got $(cat "$tmp/h")"
stop

# Without --cors-origin nothing cross-origin is allowed, and nothing varies by Origin.
start
build no-cors-origin 403 -H "$JSON" -H "Origin: $ALLOWED"
got=$(request OPTIONS /build -H "Origin: $ALLOWED" -H 'Access-Control-Request-Method: POST')
[ "$got" != 204 ] && [ -z "$(header Access-Control-Allow-Origin)" ] && [ -z "$(header Vary)" ] ||
    fail "preflight without --cors-origin: $got $(cat "$tmp/h")"
stop

# ---- Option values refused at start ------------------------------------------------------

set -f # the values are words, not patterns
for bad in "--cors-origin *" "--cors-origin null" "--cors-origin http://localhost:3000/app" \
    "--allow-host evil.example:80" "--allow-host example.test." "--allow-host *"; do
    # shellcheck disable=SC2086 # word splitting is the point
    "$OTELC" serve --port 0 $bad >/dev/null 2>"$tmp/err" </dev/null
    rc=$?
    [ "$rc" = 2 ] && grep -q "serve: ${bad%% *}" "$tmp/err" ||
        fail "otelc serve $bad: exit $rc (expected 2): $(cat "$tmp/err")"
done
set +f

[ "$failures" -eq 0 ] || exit 1
echo "serve_gate: all checks passed"
