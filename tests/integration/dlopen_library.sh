#!/bin/sh
# libotelc loaded at run time, as a plugin host loads it (dlopen): it loads,
# and spans, their context and the console exporter work through it on the
# main thread and on a second one. libotelc-microhttpd, which also keeps
# initial-exec thread-local state, is loaded beside it when built.
#
# usage: sh tests/integration/dlopen_library.sh BUILD-DIR
set -eu

build=$(cd "$1" && pwd)
src=$(cd "$(dirname "$0")" && pwd)

# A sanitizer's runtime must be loaded first, by the program itself.
if grep -q '^OTELC_SANITIZE:STRING=.\+' "$build/CMakeCache.txt"; then
    echo "dlopen_library: skipped in a sanitizer build"
    exit 77
fi
lib="$build/libotelc.so.0"
[ -f "$lib" ] || {
    echo "dlopen_library: FAIL: $lib not built" >&2
    exit 1
}
more=$(ls "$build"/instrument/microhttpd/libotelc-microhttpd.so.0 2>/dev/null || true)

tmp=$(mktemp -d "${TMPDIR:-/tmp}/otelc-dlopen.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
fail() {
    echo "dlopen_library: FAIL: $*" >&2
    exit 1
}

cc -std=c11 -Wall -Wextra -Werror -I"$src/../../include" -I"$build/include" \
    "$src/dlopen/host.c" -o "$tmp/host" -ldl -lpthread || fail "the host does not build"
rc=0
# shellcheck disable=SC2086 # more is one path or none
LD_LIBRARY_PATH="$build:$build/instrument/microhttpd" OTEL_TRACES_EXPORTER=console \
    "$tmp/host" "$lib" $more 2>"$tmp/err" || rc=$?
[ "$rc" = 0 ] || fail "the host exited $rc: $(cat "$tmp/err")"
for name in dlopen-main dlopen-thread dlopen-child; do
    grep -qF "$name" "$tmp/err" || fail "no span $name exported: $(cat "$tmp/err")"
done
echo "dlopen_library: ok"
