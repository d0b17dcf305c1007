#!/bin/sh
# Install the Node packages of the interop tests (tests/interop), or of
# another directory of the repository given as the argument (tests/ui: the
# UI test and bench/view_render.js), from its committed package-lock.json.
# Runs `npm ci` only when node_modules is missing or the lock file changed
# since the last install; silent otherwise.
set -eu

dir="$(cd "$(dirname "$0")/../${1:-tests/interop}" && pwd)"
lock="$dir/package-lock.json"
# The lock's hash, kept inside node_modules: npm ci replaces the directory,
# so a stale stamp can never outlive the packages it describes.
stamp="$dir/node_modules/.otelc-lock.sha256"

for tool in node npm; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "interop-deps.sh: $tool not found (scripts/deps.sh installs it)" >&2
        exit 1
    fi
done

want="$(sha256sum "$lock" | cut -d' ' -f1)"
if [ -d "$dir/node_modules" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    exit 0
fi

echo "interop-deps.sh: installing ${1:-tests/interop} node packages (npm ci)" >&2
# No install scripts: none of the pinned packages needs one to work, and
# the tests should not run code at install time.
npm ci --prefix "$dir" --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null
echo "$want" >"$stamp"
