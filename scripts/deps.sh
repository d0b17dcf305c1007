#!/bin/sh
# Install the Debian packages otelc needs to build and test, when missing.
# The last line is what tests/integration/debian_packages.sh builds, checks
# and installs otelc's own Debian packages with (debian/control lists the
# packages the package build itself needs).
# Idempotent and silent when everything is already there.
set -eu

PACKAGES="build-essential cmake pkg-config clang clang-format libclang-rt-14-dev libcmocka-dev
valgrind libcurl4-openssl-dev libssl-dev zlib1g-dev libyaml-dev libexpat1-dev libmicrohttpd-dev
libpq-dev postgresql libhiredis-dev redis-server libsqlite3-dev sqlite3 libpcre2-dev libxxhash-dev openssl
nodejs npm python3-prometheus-client chromium libnghttp2-dev groff-base mandoc
dpkg-dev debhelper lintian fakeroot man-db wrk"

missing=""
for p in $PACKAGES; do
    # node and npm count as present whatever installed them (a NodeSource
    # nodejs bundles npm, and Debian's npm would try to replace that nodejs).
    case "$p" in
    nodejs) command -v node >/dev/null 2>&1 && continue ;;
    npm) command -v npm >/dev/null 2>&1 && continue ;;
    esac
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done
if [ -n "$missing" ]; then
    if [ "$(id -u)" != 0 ]; then
        SUDO=sudo
    else
        SUDO=
    fi
    echo "deps.sh: installing$missing" >&2
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq >/dev/null
    # shellcheck disable=SC2086
    $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

# The Node packages of the interop tests and of the UI's browser test,
# pinned by tests/interop/package-lock.json and tests/ui/package-lock.json.
sh "$(dirname "$0")/interop-deps.sh"
sh "$(dirname "$0")/ui-deps.sh"
