#!/bin/sh
# Installation works for users: `cmake --install` puts headers, libraries,
# otelc.pc and the CMake package in a prefix, and a consumer program builds
# against it both with pkg-config and with find_package(otelc), then runs and
# prints its span through the console exporter.
#
# usage: sh tests/integration/install_consumer.sh BUILD-DIR
set -eu

build=$(cd "$1" && pwd)
here=$(cd "$(dirname "$0")" && pwd)

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

cmake --install "$build" --prefix "$tmp/prefix" >/dev/null
[ -f "$tmp/prefix/include/otelc/otelc.h" ] || fail "headers not installed"
libdir=$(ls -d "$tmp/prefix"/lib*/ | head -n 1)
[ -f "$libdir/pkgconfig/otelc.pc" ] || fail "otelc.pc not installed"
[ -f "$libdir/cmake/otelc/otelcConfig.cmake" ] || fail "CMake package not installed"

mkdir -p "$tmp/app"
cat >"$tmp/app/main.c" <<'PROG'
#include <stdio.h>
#include <string.h>
#include <otelc/otelc.h>

int main(void)
{
    if (strcmp(otelc_version(), OTELC_VERSION) != 0) return 2;
    otelc_init(NULL);
    otelc_span *s = otelc_span_start(otelc_tracer_get("consumer", "1"), "installed-span",
                                     OTELC_SPAN_INTERNAL);
    otelc_span_set_int(s, "answer", 42);
    otelc_span_end(s);
    otelc_shutdown();
    return 0;
}
PROG
cat >"$tmp/app/CMakeLists.txt" <<'CM'
cmake_minimum_required(VERSION 3.16)
project(consumer C)
find_package(otelc REQUIRED)
add_executable(consumer main.c)
target_link_libraries(consumer otelc::otelc)
CM

# pkg-config
PKG_CONFIG_PATH="$libdir/pkgconfig" cc "$tmp/app/main.c" -o "$tmp/app/pc" \
    $(PKG_CONFIG_PATH="$libdir/pkgconfig" pkg-config --cflags --libs otelc) ||
    fail "pkg-config build"
OTEL_TRACES_EXPORTER=console LD_LIBRARY_PATH="$libdir" "$tmp/app/pc" 2>"$tmp/pc.err" ||
    fail "pkg-config binary exited $?"
grep -q "installed-span" "$tmp/pc.err" || fail "pkg-config binary exported no span"
grep -q "answer=42" "$tmp/pc.err" || fail "attribute missing from console output"

# find_package
cmake -S "$tmp/app" -B "$tmp/app/build" -DCMAKE_PREFIX_PATH="$tmp/prefix" >/dev/null ||
    fail "find_package configure"
cmake --build "$tmp/app/build" >/dev/null || fail "find_package build"
OTEL_TRACES_EXPORTER=console "$tmp/app/build/consumer" 2>"$tmp/cm.err" ||
    fail "find_package binary exited $?"
grep -q "installed-span" "$tmp/cm.err" || fail "find_package binary exported no span"
echo "install_consumer: ok"
