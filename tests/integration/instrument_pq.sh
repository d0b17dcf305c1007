#!/bin/sh
# libotelc-pq against a real PostgreSQL server started here, on loopback, in
# a temporary directory, and stopped on exit. PostgreSQL refuses to run as
# root, so as root the server runs as the unprivileged user "nobody".
# Exit 77 (skipped) only when libpq or the server binaries are not installed.
set -u
build=$1
test_bin="$build/test_instrument_pq"
[ -x "$test_bin" ] || { echo "libotelc-pq not built (libpq missing): skipped"; exit 77; }

bindir=""
for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r) $(dirname "$(command -v initdb 2>/dev/null || echo /nonexistent/x)"); do
    if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then bindir=$d; break; fi
done
[ -n "$bindir" ] || { echo "PostgreSQL server binaries not installed: skipped"; exit 77; }

as_server() { "$@"; }
base=${TMPDIR:-/tmp}
if [ "$(id -u)" = 0 ]; then
    as_server() { runuser -u nobody -- "$@"; }
    base=/tmp # root's TMPDIR may be closed to nobody
fi
tmp=$(mktemp -d "$base/otelc-pq.XXXXXX") || exit 1
chmod 755 "$tmp"
[ "$(id -u)" = 0 ] && chown nobody "$tmp"
data="$tmp/data"
cleanup() {
    as_server "$bindir/pg_ctl" -D "$data" -m immediate -t 10 stop >/dev/null 2>&1
    rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

as_server "$bindir/initdb" -D "$data" -U postgres --auth=trust --no-locale -E UTF8 \
    >"$tmp/initdb.log" 2>&1 || { cat "$tmp/initdb.log"; exit 1; }

# A free port: try a few from a pid-derived start; pg_ctl -w fails fast when one is taken.
port=$((20000 + $$ % 20000))
started=0
for _ in 1 2 3 4 5 6 7 8; do
    if as_server "$bindir/pg_ctl" -D "$data" -l "$tmp/server.log" -w -t 30 \
        -o "-p $port -k $tmp -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null 2>&1; then
        started=1
        break
    fi
    port=$((port + 7))
done
[ "$started" = 1 ] || { echo "PostgreSQL did not start"; cat "$tmp/server.log"; exit 1; }

OTELC_TEST_PG="host=127.0.0.1 port=$port dbname=postgres user=postgres connect_timeout=10" \
OTELC_TEST_PG_HOST=127.0.0.1 OTELC_TEST_PG_PORT=$port "$test_bin"
