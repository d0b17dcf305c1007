#!/bin/sh
# The official OpenTelemetry JS SDK exporting into a real otelc view
# (registered with CTest as interop_view by tests/interop/CMakeLists.txt):
#   sh tests/interop/view_run.sh BUILD_DIR [INTEROP_EMIT]   (exit 77: skipped)
# Starts the otelc view of BUILD_DIR on ports 0 with a store of its own,
# runs view_interop.js against the addresses it prints (the JS SDK's three
# exporters, and with INTEROP_EMIT otelc's own, each plain and with gzip;
# every field read back and compared), then stops the viewer, which must
# exit 0 (under ASan, a leak makes it fail). --retention 0: the C driver's
# spans are of 2023.
set -u
BUILD=$(cd "${1:-build}" 2>/dev/null && pwd)
here="$(cd "$(dirname "$0")" && pwd)"

command -v node >/dev/null 2>&1 || { echo "interop_view: node not found; skipped"; exit 77; }
for pkg in @opentelemetry/sdk-trace-base @opentelemetry/exporter-trace-otlp-proto \
    @opentelemetry/exporter-trace-otlp-http @opentelemetry/exporter-trace-otlp-grpc; do
    if [ ! -f "$here/node_modules/$pkg/package.json" ]; then
        echo "interop_view: $here/node_modules/$pkg is missing (scripts/interop-deps.sh installs it); skipped"
        exit 77
    fi
done
. "$here/../integration/view_lib.sh"

driver=${2:-}
view_start --db "$tmp/traces.db" --retention 0
node "$here/view_interop.js" --ui "$UI" --otlp-http "$OTLP_HTTP" --otlp-grpc "$OTLP_GRPC" \
    ${driver:+--driver "$driver"} ||
    fail "the traces sent differ from what otelc view answers (lines above)"
view_stop TERM
view_done
