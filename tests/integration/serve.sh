#!/bin/sh
# otelc serve as real processes on 127.0.0.1 (ephemeral ports): two
# instances, one the other's downstream, checked by serve_check.js over HTTP
# and through the spans both write with the file exporter - endpoints, bad
# input, the trace across SQLite and the HTTP hop, /build and /test run as
# children, POST /w3c/test against the W3C Trace Context rules, and a clean
# stop on SIGTERM.
#
# usage: sh tests/integration/serve.sh BUILD_DIR   (exit 77: skipped)
set -u

here=$(cd "$(dirname "$0")" && pwd)
OTELC=$(cd "${1:-build}" 2>/dev/null && pwd)/otelc
[ -x "$OTELC" ] || { echo "serve: no otelc binary in ${1:-build}; skipped"; exit 77; }
command -v node >/dev/null 2>&1 || { echo "serve: node not found; skipped"; exit 77; }
# Built without libmicrohttpd or libcurl, serve says so and exits 70.
"$OTELC" serve --help >/dev/null 2>&1 || { echo "serve: otelc serve unavailable in this build; skipped"; exit 77; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/otelc-serve.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
cd "$tmp" || exit 1

# A clean slate: no configuration or context from the caller's environment.
for v in $(env | sed -n 's/^\(OTEL[A-Z_]*\)=.*/\1/p'); do unset "$v"; done
unset TRACEPARENT TRACESTATE BAGGAGE

node "$here/serve_check.js" "$OTELC" "$tmp" "$here/../fixtures/junit/TEST-com.example.cart.CartServiceTest.xml"
