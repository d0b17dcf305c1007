#!/bin/sh
# The Debian packages work for users: the tracked files of this working tree
# are copied to a scratch directory and built with `dpkg-buildpackage -us
# -uc -b` (debian/); lintian finds no error in the result; every package is
# installed with dpkg -i, each file lands in the package meant for it, each
# runtime instrumentation package depends only on libotelc0 and what it
# instruments; the consumer programs of tests/integration/consumer/ build
# against the installed packages through pkg-config and find_package(otelc)
# and export their spans; `man -w otelc` finds the page. The packages are
# then purged and nothing of them may be left. Cleanup runs on failure too.
#
# Root is needed (dpkg -i); a machine where any otelc package is already
# installed is left alone (exit 77). Takes a full Release build of otelc.
#
# usage: sh tests/integration/debian_packages.sh BUILD-DIR
set -eu

build=$(cd "$1" && pwd)
src=$(cd "$(dirname "$0")/../.." && pwd)
skip() {
    echo "debian_packages: skipped: $*"
    exit 77
}
fail() {
    echo "debian_packages: FAIL: $*" >&2
    exit 1
}

# One run per make check is enough: the package build does not depend on the
# build directory's configuration, and sanitizer runtimes would get in the way.
if grep -q '^OTELC_SANITIZE:STRING=.\+' "$build/CMakeCache.txt"; then
    skip "sanitizer build (the plain build runs this test)"
fi
[ "$(id -u)" = 0 ] || skip "installing packages needs root"
for tool in dpkg-buildpackage dh lintian fakeroot git man; do
    command -v "$tool" >/dev/null 2>&1 ||
        skip "$tool not installed (dpkg-dev debhelper lintian fakeroot man-db: scripts/deps.sh)"
done
git -C "$src" rev-parse --is-inside-work-tree >/dev/null 2>&1 || skip "$src is not a git work tree"
(cd "$src" && dpkg-checkbuilddeps >/dev/null 2>&1) ||
    skip "build dependencies missing: $( (cd "$src" && dpkg-checkbuilddeps 2>&1) || true)"

packages=$(sed -n 's/^Package: //p' "$src/debian/control")
for p in $packages; do
    state=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
    case "$state" in
    "" | not-installed) ;;
    *) skip "package $p is already $state on this machine; not touching it" ;;
    esac
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/otelc-deb.XXXXXX")
cleanup() {
    installed=""
    for p in $packages; do
        state=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
        case "$state" in "" | not-installed) ;; *) installed="$installed $p" ;; esac
    done
    # shellcheck disable=SC2086
    [ -z "$installed" ] || dpkg --purge $installed >/dev/null 2>&1 || true
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# The tracked files as they are in the working tree (uncommitted edits
# included), so the test checks the tree being tested.
mkdir "$tmp/otelc"
(cd "$src" && git ls-files -z | tar --null -T - --ignore-failed-read -cf - 2>/dev/null) |
    tar -xf - -C "$tmp/otelc"

started=$(date +%s)
(cd "$tmp/otelc" && DEB_BUILD_OPTIONS="parallel=2 nocheck" dpkg-buildpackage -us -uc -b) \
    >"$tmp/build.log" 2>&1 || fail "dpkg-buildpackage: $(tail -n 40 "$tmp/build.log")"
# The packages of debian/control; dh also builds -dbgsym ones, not installed here.
debs=$(for p in $packages; do ls "$tmp/${p}_"*.deb; done)
echo "debian_packages: built in $(($(date +%s) - started)) s"

# The symbols files are enforced: a shared library exporting a symbol its
# debian/*.symbols does not list fails the package build.
(cd "$tmp/otelc" && sed -i '/^ otelc_span_end@/d' debian/libotelc0.symbols &&
    fakeroot debian/rules override_dh_makeshlibs) >"$tmp/abi.log" 2>&1 &&
    fail "dh_makeshlibs accepted a symbol missing from debian/libotelc0.symbols"
grep -q '^+ otelc_span_end@Base' "$tmp/abi.log" ||
    fail "dh_makeshlibs did not report the unlisted symbol: $(cat "$tmp/abi.log")"

# lintian: errors fail, warnings are shown.
changes=$(ls "$tmp"/*.changes)
lintian --fail-on error "$changes" >"$tmp/lintian.log" 2>&1 ||
    fail "lintian: $(cat "$tmp/lintian.log")"
sed 's/^/debian_packages: lintian: /' "$tmp/lintian.log"

# Each runtime instrumentation package depends on libc, libotelc0 and the
# library it instruments, nothing else.
for pair in curl:libcurl microhttpd:libmicrohttpd pq:libpq hiredis:libhiredis sqlite:libsqlite3; do
    name=${pair%%:*}
    deb=$(ls "$tmp"/libotelc-"$name"0_*.deb)
    for dep in $(dpkg-deb -f "$deb" Depends | tr ',|' '\n' | sed 's/(.*//; s/ //g'); do
        case "$dep" in
        libc6 | libotelc0 | "${pair#*:}"*) ;;
        *) fail "libotelc-${name}0 depends on $dep" ;;
        esac
    done
done

# shellcheck disable=SC2086
dpkg -i $debs >"$tmp/install.log" 2>&1 || fail "dpkg -i: $(cat "$tmp/install.log")"

# Each file in the package meant for it.
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
owner_is() { # PACKAGE PATH
    owner=$(dpkg -S "$2" 2>/dev/null | sed 's/:.*//') || true
    [ "$owner" = "$1" ] || fail "$2 is in '${owner:-no package}', not in $1"
}
lib=/usr/lib/$multiarch
owner_is libotelc0 "$lib/libotelc.so.0"
for f in "$lib/libotelc.so" "$lib/libotelc.a" "$lib/pkgconfig/otelc.pc" \
    "$lib/cmake/otelc/otelcConfig.cmake" /usr/include/otelc/otelc.h /usr/include/otelc/instrument/server.h; do
    owner_is libotelc-dev "$f"
done
for name in curl microhttpd pq hiredis sqlite; do
    owner_is "libotelc-${name}0" "$lib/libotelc-$name.so.0"
    for f in "$lib/libotelc-$name.so" "$lib/libotelc-$name.a" "$lib/pkgconfig/otelc-$name.pc" \
        "/usr/include/otelc/instrument/$name.h"; do
        owner_is "libotelc-$name-dev" "$f"
    done
done
for f in /usr/bin/otelc /usr/bin/otelc-serve /usr/bin/otelc-view "$lib/otelc/libotelc-auto.so"; do
    owner_is otelc "$f"
done

# Users' programs, against the system's packages only.
unset PKG_CONFIG_PATH CMAKE_PREFIX_PATH LD_LIBRARY_PATH
consumer_tmp=$tmp/consumer
mkdir "$consumer_tmp"
. "$(dirname "$0")/consumer_lib.sh"
consumer_check_sdk
consumer_check_sqlite
version=$(dpkg-parsechangelog -l "$src/debian/changelog" -S Version)
[ "$(otelc --version)" = "otelc $version" ] || fail "otelc --version: $(otelc --version)"
page=$(man -w otelc 2>&1) || fail "man -w otelc: $page"
# Zero-code instrumentation from the packages: the system's own curl program, traced.
if command -v curl >/dev/null 2>&1; then
    OTEL_TRACES_EXPORTER=file OTELC_FILE_PATH="$tmp/auto.jsonl" \
        otelc exec --instrument=curl -- curl -s -o /dev/null file:///etc/hostname ||
        fail "otelc exec --instrument: curl failed"
    grep -q '"name":"otelc.instrument.curl"' "$tmp/auto.jsonl" ||
        fail "otelc exec --instrument: no libcurl span from the installed libotelc-auto"
fi
owner_is otelc "$page"

# Purged, nothing is left.
# shellcheck disable=SC2086
dpkg --purge $packages >"$tmp/purge.log" 2>&1 || fail "dpkg --purge: $(cat "$tmp/purge.log")"
for p in $packages; do
    if dpkg -L "$p" >/dev/null 2>&1; then fail "$p still has files after purge"; fi
done
for f in /usr/bin/otelc /usr/include/otelc "$lib/libotelc.so.0" "$lib/cmake/otelc"; do
    [ ! -e "$f" ] || fail "$f left after purge"
done
echo "debian_packages: ok"
