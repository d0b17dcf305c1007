# shellcheck shell=sh
# pg_lib.sh - a throwaway PostgreSQL server for the integration scripts
# (sourced). PostgreSQL refuses to run as root, so as root the server runs
# as the unprivileged user "nobody", in a directory under /tmp (root's
# TMPDIR may be closed to it).
#
#   pg_bindir || skip   sets $pg_bin, the directory of initdb and pg_ctl;
#                       fails when the server binaries are not installed
#   pg_tmpdir NAME      sets $tmp to a new directory the server may use
#   pg_start            initdb in $tmp/data and start on 127.0.0.1 at a free
#                       port, set as $pg_port; fails with the log shown
#   pg_stop             stop it (immediate; for the script's exit trap)
#   as_server CMD...    run CMD as the server's user

as_server() { "$@"; }
if [ "$(id -u)" = 0 ]; then
    as_server() { runuser -u nobody -- "$@"; }
fi

pg_bindir() {
    pg_bin=""
    # shellcheck disable=SC2012 # ls | sort -V: the newest server version first
    for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r) \
        $(dirname "$(command -v initdb 2>/dev/null || echo /nonexistent/x)"); do
        if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then
            pg_bin=$d
            return 0
        fi
    done
    return 1
}

pg_tmpdir() {
    base=${TMPDIR:-/tmp}
    [ "$(id -u)" = 0 ] && base=/tmp
    tmp=$(mktemp -d "$base/otelc-$1.XXXXXX") || exit 1
    chmod 755 "$tmp"
    if [ "$(id -u)" = 0 ]; then chown nobody "$tmp"; fi
}

pg_start() {
    as_server "$pg_bin/initdb" -D "$tmp/data" -U postgres --auth=trust --no-locale -E UTF8 \
        >"$tmp/initdb.log" 2>&1 || {
        cat "$tmp/initdb.log"
        return 1
    }
    # A few tries from a pid-derived start: pg_ctl -w fails fast on a port that is taken.
    pg_port=$((20000 + $$ % 20000))
    for _ in 1 2 3 4 5 6 7 8; do
        as_server "$pg_bin/pg_ctl" -D "$tmp/data" -l "$tmp/server.log" -w -t 30 \
            -o "-p $pg_port -k $tmp -c listen_addresses=127.0.0.1 -c fsync=off" start \
            >/dev/null 2>&1 && return 0
        pg_port=$((pg_port + 7))
    done
    echo "PostgreSQL did not start"
    cat "$tmp/server.log"
    return 1
}

pg_stop() {
    as_server "$pg_bin/pg_ctl" -D "$tmp/data" -m immediate -t 10 stop >/dev/null 2>&1
}
