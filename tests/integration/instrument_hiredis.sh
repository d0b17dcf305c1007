#!/bin/sh
# libotelc-hiredis against a real Redis server started here on loopback
# (TCP and a Unix socket in a temporary directory), stopped on exit.
# Exit 77 (skipped) only when hiredis or redis-server is not installed.
set -u
build=$1
test_bin="$build/test_instrument_hiredis"
[ -x "$test_bin" ] || { echo "libotelc-hiredis not built (hiredis missing): skipped"; exit 77; }
command -v redis-server >/dev/null 2>&1 || { echo "redis-server not installed: skipped"; exit 77; }

# shellcheck source=tests/integration/redis_lib.sh
. "$(dirname "$0")/redis_lib.sh"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/otelc-redis.XXXXXX") || exit 1
cleanup() {
    redis_stop
    rm -rf "$tmp"
}
trap cleanup EXIT INT TERM
redis_start "$tmp" || exit 1

OTELC_TEST_REDIS_PORT=$redis_port OTELC_TEST_REDIS_SOCK="$redis_sock" "$test_bin"
