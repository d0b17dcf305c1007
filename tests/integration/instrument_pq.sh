#!/bin/sh
# libotelc-pq against a real PostgreSQL server started here, on loopback, in
# a temporary directory, and stopped on exit (pg_lib.sh; as "nobody" when
# run as root).
# Exit 77 (skipped) only when libpq or the server binaries are not installed.
set -u
build=$1
test_bin="$build/test_instrument_pq"
[ -x "$test_bin" ] || { echo "libotelc-pq not built (libpq missing): skipped"; exit 77; }

# shellcheck source=tests/integration/pg_lib.sh
. "$(dirname "$0")/pg_lib.sh"
pg_bindir || { echo "PostgreSQL server binaries not installed: skipped"; exit 77; }
pg_tmpdir pq
trap 'pg_stop; rm -rf "$tmp"' EXIT INT TERM
pg_start || exit 1

OTELC_TEST_PG="host=127.0.0.1 port=$pg_port dbname=postgres user=postgres connect_timeout=10" \
OTELC_TEST_PG_HOST=127.0.0.1 OTELC_TEST_PG_PORT=$pg_port "$test_bin"
