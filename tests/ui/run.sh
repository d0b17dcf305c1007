#!/bin/sh
# The web UI in headless Chromium against a real otelc view (registered
# with CTest as ui_browser by tests/ui/CMakeLists.txt, in builds without a
# sanitizer):
#   sh tests/ui/run.sh BUILD_DIR   (exit 77: skipped)
# Starts the otelc view of BUILD_DIR on ports 0 with a store of its own and
# a token (so every request the UI makes must carry it), runs ui_test.js
# against it (it sends its own traces to the receiver /api/status names),
# then stops the viewer, which must exit 0. The screenshots of each page
# are left in BUILD_DIR/ui-shots/. CHROMIUM names another browser binary.
set -u
BUILD=$(cd "${1:-build}" 2>/dev/null && pwd)
here="$(cd "$(dirname "$0")" && pwd)"
chromium=${CHROMIUM:-/usr/bin/chromium}

command -v node >/dev/null 2>&1 || { echo "ui_browser: node not found; skipped"; exit 77; }
[ -x "$chromium" ] || { echo "ui_browser: $chromium not found (scripts/deps.sh installs chromium); skipped"; exit 77; }
if [ ! -f "$here/node_modules/puppeteer-core/package.json" ]; then
    echo "ui_browser: $here/node_modules is missing (scripts/ui-deps.sh installs it); skipped"
    exit 77
fi
. "$here/../integration/view_lib.sh"

shots="$BUILD/ui-shots"
rm -rf "$shots" # this run's pictures only
token=$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')
view_start --db "$tmp/traces.db" --token "$token"
node "$here/ui_test.js" --base "$UI" --token "$token" --shots "$shots" --chromium "$chromium" ||
    fail "the UI test failed against otelc view (lines above)"
view_stop TERM
view_done
