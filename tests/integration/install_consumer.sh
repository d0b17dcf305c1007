#!/bin/sh
# Installation works for users: `cmake --install` puts headers, libraries,
# otelc.pc and the CMake package in a prefix, and the consumer programs of
# tests/integration/consumer/ build against it with pkg-config and with
# find_package(otelc), then run and print their spans through the console
# exporter (consumer_lib.sh, shared with debian_packages.sh).
#
# usage: sh tests/integration/install_consumer.sh BUILD-DIR
set -eu

build=$(cd "$1" && pwd)

# A sanitizer build installs sanitizer-instrumented libraries that a plain
# consumer cannot link; the plain build covers installation.
if grep -q '^OTELC_SANITIZE:STRING=.\+' "$build/CMakeCache.txt"; then
    echo "install_consumer: skipped in a sanitizer build"
    exit 77
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/otelc-install.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
fail() {
    echo "install_consumer: FAIL: $*" >&2
    exit 1
}
consumer_tmp=$tmp
. "$(dirname "$0")/consumer_lib.sh"

cmake --install "$build" --prefix "$tmp/prefix" >/dev/null
[ -f "$tmp/prefix/include/otelc/otelc.h" ] || fail "headers not installed"
libdir=$(ls -d "$tmp/prefix"/lib*/ | head -n 1)
[ -f "$libdir/pkgconfig/otelc.pc" ] || fail "otelc.pc not installed"
[ -f "$libdir/cmake/otelc/otelcConfig.cmake" ] || fail "CMake package not installed"

export PKG_CONFIG_PATH="$libdir/pkgconfig" CMAKE_PREFIX_PATH="$tmp/prefix" LD_LIBRARY_PATH="$libdir"
consumer_check_sdk
# libotelc-sqlite is built when SQLite's headers are found.
if [ -f "$libdir/pkgconfig/otelc-sqlite.pc" ]; then
    consumer_check_sqlite
else
    echo "install_consumer: no libotelc-sqlite in this build, its consumer not built"
fi
echo "install_consumer: ok"
