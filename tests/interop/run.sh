#!/bin/sh
# Interop tests (registered with CTest by tests/interop/CMakeLists.txt):
#   sh tests/interop/run.sh PATH/TO/interop_emit
# First the comparers' own self-test, then one receiver per protocol with
# the driver exporting to it. A missing Node setup is a failure, not a
# skip: scripts/deps.sh (run by make check) installs it.
set -u

here="$(cd "$(dirname "$0")" && pwd)"
driver="${1:?usage: run.sh PATH/TO/interop_emit}"

if ! command -v node >/dev/null 2>&1; then
    echo "interop: node not found; run scripts/deps.sh" >&2
    exit 1
fi
for pkg in @opentelemetry/otlp-transformer @opentelemetry/exporter-zipkin @grpc/grpc-js; do
    if [ ! -f "$here/node_modules/$pkg/package.json" ]; then
        echo "interop: $here/node_modules/$pkg is missing; run scripts/deps.sh" >&2
        exit 1
    fi
done

node "$here/selftest.js" || exit 1

status=0
# Batched (one request) unless --simple (one request per span, several
# requests over one connection).
for run in "http/protobuf" "http/protobuf --gzip" "http/json" "http/json --gzip" \
    "http/json --simple" "grpc" "grpc --gzip" "grpc --simple" "zipkin" "zipkin --simple"; do
    # shellcheck disable=SC2086 # $run is a protocol and optional flags
    node "$here/check.js" --driver "$driver" --protocol $run || status=1
done
exit $status
