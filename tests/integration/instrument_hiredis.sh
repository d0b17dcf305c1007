#!/bin/sh
# libotelc-hiredis against a real Redis server started here on loopback
# (TCP and a Unix socket in a temporary directory), stopped on exit.
# Exit 77 (skipped) only when hiredis or redis-server is not installed.
set -u
build=$1
test_bin="$build/test_instrument_hiredis"
[ -x "$test_bin" ] || { echo "libotelc-hiredis not built (hiredis missing): skipped"; exit 77; }
command -v redis-server >/dev/null 2>&1 || { echo "redis-server not installed: skipped"; exit 77; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/otelc-redis.XXXXXX") || exit 1
pid=""
cleanup() {
    [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

# A free port: redis-server exits at once when the port is taken; try the next.
port=$((20000 + ($$ * 7) % 20000))
for _ in 1 2 3 4 5 6 7 8; do
    redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --dir "$tmp" \
        --unixsocket "$tmp/redis.sock" --daemonize no >"$tmp/server.log" 2>&1 &
    pid=$!
    i=0
    while [ $i -lt 100 ] && kill -0 "$pid" 2>/dev/null && ! [ -S "$tmp/redis.sock" ]; do
        sleep 0.1
        i=$((i + 1))
    done
    [ -S "$tmp/redis.sock" ] && break
    kill "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    pid=""
    port=$((port + 11))
done
[ -n "$pid" ] || { echo "redis-server did not start"; cat "$tmp/server.log"; exit 1; }

OTELC_TEST_REDIS_PORT=$port OTELC_TEST_REDIS_SOCK="$tmp/redis.sock" "$test_bin"
