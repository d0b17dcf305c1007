#!/bin/sh
# soak.sh - the chaos soak (`make soak`; see docs/reliability.md).
#
#   SOAK_MINUTES=30 sh tests/soak/soak.sh            # the soak of record
#   SOAK_MINUTES=2 sh tests/soak/soak.sh             # the short form
#   SOAK_SANITIZE=address|thread sh tests/soak/soak.sh
#   SOAK_BUILD=build/check-gcc SOAK_MINUTES=2 SOAK_DOCS=0 sh tests/soak/soak.sh
#                                                    # make check's form
#
# Builds otelc and the soak's service in build/soak-<label> (RelWithDebInfo
# with gcc; clang Debug with the sanitizer), or in SOAK_BUILD, a build
# directory already configured (label "check" unless SOAK_LABEL says
# otherwise). Starts a PostgreSQL and a Redis server in a temporary
# directory for the service's database spans (tests/integration/pg_lib.sh,
# redis_lib.sh): when either is not installed or does not start, the soak
# runs without it and its report says why. Runs tests/soak/soak.js into
# build/soak/<label>/ and puts its figures into docs/reliability.md between
# the markers of that label. SOAK_MINUTES defaults to 30, under a sanitizer
# to 10. SOAK_DOCS=0 leaves docs/reliability.md alone. Exits non-zero when
# the soak found a promise broken (the figures are written all the same).
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
san=${SOAK_SANITIZE:-}
case $san in
'')
    label=plain minutes=30
    flags="-DCMAKE_C_COMPILER=gcc -DCMAKE_BUILD_TYPE=RelWithDebInfo"
    ;;
address | thread)
    label=$san minutes=10
    flags="-DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Debug -DOTELC_SANITIZE=$san"
    ;;
*)
    echo "soak.sh: SOAK_SANITIZE is address, thread or empty" >&2
    exit 2
    ;;
esac
build=build/soak-$label
if [ -n "${SOAK_BUILD:-}" ]; then
    build=$SOAK_BUILD label=${SOAK_LABEL:-check}
    [ -f "$build/CMakeCache.txt" ] || { echo "soak.sh: $build is not a configured build" >&2; exit 2; }
fi
out=build/soak/$label
command -v node >/dev/null || { echo "soak.sh: needs node" >&2; exit 2; }

# shellcheck disable=SC2086 # flags are words
[ -n "${SOAK_BUILD:-}" ] || cmake -S . -B "$build" $flags -DOTELC_BUILD_EXAMPLES=OFF >/dev/null
cmake --build "$build" -j "${JOBS:-2}" --target otelc_cli soak_service >/dev/null
[ -x "$build/soak_service" ] || { echo "soak.sh: soak_service needs SQLite and libcurl" >&2; exit 2; }

rm -rf "$out"
mkdir -p "$out"

# The database servers, each in the same temporary directory, stopped on exit.
# shellcheck source=tests/integration/pg_lib.sh
. tests/integration/pg_lib.sh
# shellcheck source=tests/integration/redis_lib.sh
. tests/integration/redis_lib.sh
pg_tmpdir soak
pg_up=0
# shellcheck disable=SC2317 # run by the trap
cleanup() {
    [ "$pg_up" = 0 ] || pg_stop || true
    redis_stop
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
if ! pg_bindir; then
    export SOAK_PG_NOTE="server not installed (scripts/deps.sh installs it)"
elif pg_start >"$out/postgres.log" 2>&1; then
    pg_up=1
    export SOAK_PG_CONNINFO="host=127.0.0.1 port=$pg_port user=postgres dbname=postgres connect_timeout=5"
else
    export SOAK_PG_NOTE="server did not start (see $out/postgres.log)"
fi
if ! command -v redis-server >/dev/null 2>&1; then
    export SOAK_REDIS_NOTE="server not installed (scripts/deps.sh installs it)"
elif redis_start "$tmp" >"$out/redis.log" 2>&1; then
    export SOAK_REDIS_PORT="$redis_port"
else
    export SOAK_REDIS_NOTE="server did not start (see $out/redis.log)"
fi
echo "soak.sh: PostgreSQL: ${SOAK_PG_NOTE:-port $pg_port}; Redis: ${SOAK_REDIS_NOTE:-port ${redis_port:-}}"

status=0
# A fork child of a threaded process starts its own batch worker: TSan must let it.
ASAN_OPTIONS=detect_leaks=1 TSAN_OPTIONS=second_deadlock_stack=1:die_after_fork=0 \
    SOAK_MINUTES=${SOAK_MINUTES:-$minutes} SOAK_LABEL=$label \
    SOAK_COMMIT=$(git rev-parse --short HEAD 2>/dev/null || echo unknown) \
    node tests/soak/soak.js "$build" "$out" || status=$?
if [ -f "$out/report.md" ] && [ "${SOAK_DOCS:-1}" != 0 ]; then
    sh scripts/doc-section.sh docs/reliability.md "<!-- soak $label: begin -->" \
        "<!-- soak $label: end -->" "$out/report.md"
    echo "soak.sh: docs/reliability.md updated from $out/report.json"
fi
exit $status
