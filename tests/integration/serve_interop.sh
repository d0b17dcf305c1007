#!/bin/sh
# otelc serve and a Node.js service using the official OpenTelemetry JS SDK
# call each other (tests/interop/serve_interop.js): one trace with correct
# parents in both directions. The JS packages come from tests/interop
# (scripts/interop-deps.sh); a missing Node setup is a failure there too.
#
# usage: sh tests/integration/serve_interop.sh BUILD_DIR   (exit 77: skipped)
set -u

here=$(cd "$(dirname "$0")" && pwd)
interop="$here/../interop"
OTELC=$(cd "${1:-build}" 2>/dev/null && pwd)/otelc
[ -x "$OTELC" ] || { echo "serve_interop: no otelc binary in ${1:-build}; skipped"; exit 77; }
"$OTELC" serve --help >/dev/null 2>&1 || { echo "serve_interop: otelc serve unavailable in this build; skipped"; exit 77; }
command -v node >/dev/null 2>&1 || { echo "serve_interop: node not found; run scripts/deps.sh" >&2; exit 1; }
for pkg in @opentelemetry/api @opentelemetry/core @opentelemetry/sdk-trace-base; do
    if [ ! -f "$interop/node_modules/$pkg/package.json" ]; then
        echo "serve_interop: $interop/node_modules/$pkg is missing; run scripts/deps.sh" >&2
        exit 1
    fi
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/otelc-serve-interop.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

for v in $(env | sed -n 's/^\(OTEL[A-Z_]*\)=.*/\1/p'); do unset "$v"; done
unset TRACEPARENT TRACESTATE BAGGAGE

node "$interop/serve_interop.js" "$OTELC" "$tmp"
