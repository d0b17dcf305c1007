#!/bin/sh
# One version number: everything that states otelc's version agrees with the
# project version CMake read from include/otelc/common.h (CTest passes it in
# OTELC_PROJECT_VERSION): `otelc --version`, telemetry.sdk.version on an
# exported span, the pkg-config files, otelcConfigVersion.cmake, the sonames
# of libotelc and the instrumentation libraries (the major version) and the
# top entry of debian/changelog (when dpkg-parsechangelog is installed), and
# the private-ABI symbol libotelc-microhttpd reads inline
# (src/instrumentation/server_span.h), which must carry the release so that
# the library refuses to load beside another release's libotelc.
#
# usage: sh tests/integration/version_agree.sh BUILD-DIR
set -eu

build=$(cd "$1" && pwd)
src=$(cd "$(dirname "$0")/../.." && pwd)
v=${OTELC_PROJECT_VERSION:?set by CTest: the project version}
major=${v%%.*}
rest=${v#*.}
minor=${rest%%.*}
patch=${rest#*.}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/otelc-version.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
fail() {
    echo "version_agree: FAIL: $*" >&2
    exit 1
}
same() { # WHAT FOUND
    [ "$2" = "$v" ] || fail "$1 says '$2', the project version is $v"
    echo "version_agree: $1: $2"
}

# The command, and the resource of the spans it exports.
if [ -x "$build/otelc" ]; then
    same "otelc --version" "$("$build/otelc" --version | sed -n 's/^otelc //p')"
    OTEL_TRACES_EXPORTER=file OTELC_FILE_PATH="$tmp/spans.jsonl" "$build/otelc" exec -- true
    sdk=$(grep -o '"key":"telemetry.sdk.version","value":{"stringValue":"[^"]*"' \
        "$tmp/spans.jsonl" | sed 's/.*"stringValue":"//; s/"$//' | sort -u)
    same "telemetry.sdk.version" "$sdk"
else
    echo "version_agree: otelc not built in this configuration, not checked"
fi

# pkg-config files, as built (the installed ones are these).
for pc in "$build"/otelc*.pc; do
    name=$(basename "$pc" .pc)
    same "$name.pc" "$(PKG_CONFIG_PATH="$build" pkg-config --modversion "$name")"
done

# The CMake package: find_package(otelc $v EXACT) is satisfied and reports $v.
cat >"$tmp/version.cmake" <<CM
set(PACKAGE_FIND_NAME otelc)
set(PACKAGE_FIND_VERSION $v)
set(PACKAGE_FIND_VERSION_MAJOR $major)
set(PACKAGE_FIND_VERSION_MINOR $minor)
set(PACKAGE_FIND_VERSION_PATCH $patch)
set(PACKAGE_FIND_VERSION_COUNT 3)
include("$build/otelcConfigVersion.cmake")
if(NOT PACKAGE_VERSION_EXACT OR PACKAGE_VERSION_UNSUITABLE)
  message(FATAL_ERROR "not an exact match")
endif()
message(NOTICE "\${PACKAGE_VERSION}")
CM
same "otelcConfigVersion.cmake" "$(cmake -P "$tmp/version.cmake" 2>&1)"

# Sonames: lib<name>.so.MAJOR, the file itself lib<name>.so.$v.
for lib in "$build/libotelc.so.$v" "$build"/instrument/*/libotelc-*.so."$v"; do
    [ -f "$lib" ] || fail "no $lib: the shared library's file is not named by the version"
    base=$(basename "$lib" ".$v")
    soname=$(readelf -d "$lib" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
    [ "$soname" = "$base.$major" ] || fail "$lib has soname '$soname', not $base.$major"
    echo "version_agree: $(basename "$lib"): soname $soname"
done

# The private ABI: libotelc defines the context stack under a name with the
# release in it, and the libmicrohttpd wrapper needs that very name (a data
# relocation: resolved at load, never lazily).
tagged="otelc__ctx_stack_${major}_${minor}_${patch}"
nm -D --defined-only "$build/libotelc.so.$v" | grep -q " $tagged\$" ||
    fail "libotelc.so.$v does not define $tagged"
mhd="$build/instrument/microhttpd/libotelc-microhttpd.so.$v"
if [ -f "$mhd" ]; then
    nm -D --undefined-only "$mhd" | grep -q " $tagged\$" ||
        fail "libotelc-microhttpd does not bind the release-tagged $tagged"
    echo "version_agree: private ABI: $tagged"
fi

# The Debian packages' version.
if command -v dpkg-parsechangelog >/dev/null 2>&1; then
    same "debian/changelog" "$(dpkg-parsechangelog -l "$src/debian/changelog" -S Version)"
else
    echo "version_agree: dpkg-parsechangelog not installed, debian/changelog not checked"
fi
echo "version_agree: ok"
