# shellcheck shell=sh
# redis_lib.sh - a throwaway Redis server for the integration scripts and
# the soak (sourced).
#
#   redis_start DIR   start redis-server on 127.0.0.1 at a free port, its
#                     Unix socket and log in DIR, no persistence; sets
#                     $redis_port, $redis_sock and $redis_pid; fails with
#                     the log shown
#   redis_stop        stop it (for the script's exit trap; safe to repeat)

redis_start() {
    redis_sock=$1/redis.sock
    redis_pid=""
    # A free port: redis-server exits at once when the port is taken; try the next.
    redis_port=$((20000 + ($$ * 7) % 20000))
    for _ in 1 2 3 4 5 6 7 8; do
        redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no --dir "$1" \
            --unixsocket "$redis_sock" --daemonize no >"$1/redis.log" 2>&1 &
        redis_pid=$!
        redis_waited=0
        while [ $redis_waited -lt 100 ] && kill -0 "$redis_pid" 2>/dev/null && ! [ -S "$redis_sock" ]; do
            sleep 0.1
            redis_waited=$((redis_waited + 1))
        done
        [ -S "$redis_sock" ] && return 0
        redis_stop
        redis_port=$((redis_port + 11))
    done
    echo "redis-server did not start"
    cat "$1/redis.log"
    return 1
}

redis_stop() {
    if [ -n "${redis_pid:-}" ]; then
        kill "$redis_pid" 2>/dev/null || true
        wait "$redis_pid" 2>/dev/null || true
    fi
    redis_pid=""
}
