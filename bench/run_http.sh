#!/bin/sh
# libmicrohttpd hello-world under wrk, tracing off against tracing on, and
# tracing on with the batch worker left at the application's normal policy
# and priority (bench/bench_http_server.c --worker-policy other, where by
# default it steps back; the spans go to bench/discard_receiver.c);
# bench/run.sh runs this. Needs wrk (apt-get install wrk): skipped without.
#
# usage: sh bench/run_http.sh BUILD_DIR
#
# Environment: HTTP_ROUNDS (default 5: one round's p99 moves by +-15 % on a
# 2-vCPU guest) alternating off/on pairs;
# HTTP_DURATION (default 10s), HTTP_CONNECTIONS (default "32 8": each
# count is measured in turn; 32 saturates both vCPUs of the reference
# machine, 8 leaves the server idle time) and HTTP_THREADS (default 1) for
# wrk. Each wrk run follows a 1 s warm-up run on the same server. Reported
# per connection count (figures http.cN.*): the median requests/s and
# latency percentiles of each mode, and on/off and normal/off ratios.
#
# Then, below saturation, off and on under bench/rate_client at each of
# HTTP_RATES requests/s (default "10000 30000"; HTTP_RATE_DURATION seconds
# each, default 5), with latency counted from when each request was due
# (figures http.rateR.*).
set -eu

build=${1:-build/bench}
srv="$build/bench_http_server"
recv="$build/discard_receiver"
if ! command -v wrk >/dev/null 2>&1; then
    echo "wrk not installed (apt-get install wrk): HTTP server benchmark skipped"
    exit 0
fi
if [ ! -x "$srv" ] || [ ! -x "$recv" ]; then
    echo "bench_http_server (needs libmicrohttpd) or discard_receiver not built: skipped"
    exit 0
fi
rounds=${HTTP_ROUNDS:-5}
duration=${HTTP_DURATION:-10s}
conn_counts=${HTTP_CONNECTIONS:-32 8}
threads=${HTTP_THREADS:-1}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/otelc-http.XXXXXX")
recv_pid=
srv_pid=
# stop_pid PID: SIGTERM, then wait for it (it prints its counters on the way out).
stop_pid() {
    kill "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
}
cleanup() {
    [ -n "$srv_pid" ] && kill "$srv_pid" 2>/dev/null && wait "$srv_pid" 2>/dev/null
    [ -n "$recv_pid" ] && kill "$recv_pid" 2>/dev/null && wait "$recv_pid" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# wait_port FILE: until the program writing FILE has written its port.
wait_port() {
    i=0
    while [ ! -s "$1" ]; do
        i=$((i + 1))
        [ $i -le 100 ] || {
            echo "run_http.sh: no port in $1" >&2
            exit 1
        }
        sleep 0.05
    done
    cat "$1"
}

"$recv" --port-file "$tmp/recv.port" >"$tmp/receiver.out" &
recv_pid=$!
endpoint="http://127.0.0.1:$(wait_port "$tmp/recv.port")/v1/traces"

# For the figures: median(MODE, COLUMN) of val[MODE, round, COLUMN] over n[MODE] rounds.
awk_median='
function median(mode, col,    m, a, b, t, s) {
    m = 0
    for (a = 1; a <= n[mode]; a++) s[++m] = val[mode, a, col]
    for (a = 1; a <= m; a++)
        for (b = a + 1; b <= m; b++)
            if (s[b] + 0 < s[a] + 0) { t = s[a]; s[a] = s[b]; s[b] = t }
    return m % 2 ? s[(m + 1) / 2] : (s[m / 2] + s[m / 2 + 1]) / 2
}'

# wrk's latency in microseconds ("812.00us", "1.37ms", "1.02s").
to_us() {
    awk -v x="$1" 'BEGIN {
        u = x; sub(/^[0-9.]+/, "", u); v = x + 0
        if (u == "ms") v *= 1000; else if (u == "s") v *= 1000000
        printf "%.0f\n", v }'
}

# measure CONNS: every round of off, on and normal at CONNS connections, then the figures.
measure() {
    conns=$1
    echo
    echo "== libmicrohttpd hello world under wrk: tracing off vs on"
    echo "load:      $(cut -d ' ' -f 1-3 /proc/loadavg) (1/5/15 min load average at start)"
    echo "wrk:       -t$threads -c$conns -d$duration --latency, $rounds rounds of off, on, normal," \
        "1 s warm-up before each"
    echo "on:        otelc_mhd wrapper, always_on, batch 2048/512, OTLP/HTTP protobuf to the discard receiver"
    echo "normal:    on, with the batch worker at the normal policy and priority (worker_start hook)"

    r=0
    while [ $r -lt "$rounds" ]; do
        r=$((r + 1))
        for mode in off on normal; do
            rm -f "$tmp/srv.port"
            case $mode in
            off) flags="--tracing off" ;;
            on) flags="--tracing on" ;;
            normal) flags="--tracing on --worker-policy other" ;;
            esac
            # shellcheck disable=SC2086 # flags is a list of words
            "$srv" $flags --endpoint "$endpoint" --port-file "$tmp/srv.port" \
                >"$tmp/srv.$conns.$mode.$r" &
            srv_pid=$!
            url="http://127.0.0.1:$(wait_port "$tmp/srv.port")/"
            wrk -t"$threads" -c"$conns" -d1s "$url" >/dev/null
            wrk -t"$threads" -c"$conns" -d"$duration" --latency "$url" >"$tmp/wrk.$conns.$mode.$r"
            stop_pid "$srv_pid"
            srv_pid=
            rps=$(awk '/^Requests\/sec:/ { print $2 }' "$tmp/wrk.$conns.$mode.$r")
            p50=$(to_us "$(awk '$1 == "50%" { print $2 }' "$tmp/wrk.$conns.$mode.$r")")
            p99=$(to_us "$(awk '$1 == "99%" { print $2 }' "$tmp/wrk.$conns.$mode.$r")")
            errs=$(awk '/Socket errors|Non-2xx/ { print }' "$tmp/wrk.$conns.$mode.$r" | tr -s ' ' | tr '\n' ';')
            echo "$mode $rps $p50 $p99" >>"$tmp/results.$conns"
            printf '# round %d %-6s %10s req/s  p50 %7s us  p99 %7s us  load %s %s %s\n' "$r" "$mode" \
                "$rps" "$p50" "$p99" "$(cut -d ' ' -f 1 /proc/loadavg)" \
                "$(tail -n 1 "$tmp/srv.$conns.$mode.$r" | sed -n 's/^bench_http_server: //p')" "$errs"
        done
    done

    printf '%-40s %14s %-10s %s\n' figure value unit note
    awk -v c="http.c$conns" "$awk_median"'
        function runs(mode, col,    a, out) {
            out = ""
            for (a = 1; a <= n[mode]; a++) out = out " " val[mode, a, col]
            return out
        }
        { k = ++n[$1]; val[$1, k, 2] = $2; val[$1, k, 3] = $3; val[$1, k, 4] = $4 }
        END {
            for (i = 1; i <= 3; i++) {
                mode = i == 1 ? "off" : i == 2 ? "on" : "normal"
                printf "%-40s %14.0f %-10s %s\n", c "." mode ".requests_per_s", median(mode, 2),
                    "req/s", "median of" runs(mode, 2)
                printf "%-40s %14.0f %-10s %s\n", c "." mode ".p50", median(mode, 3), "us",
                    "median of" runs(mode, 3)
                printf "%-40s %14.0f %-10s %s\n", c "." mode ".p99", median(mode, 4), "us",
                    "median of" runs(mode, 4)
            }
            printf "%-40s %14.3f %-10s %s\n", c ".on_over_off.requests_per_s",
                median("on", 2) / median("off", 2), "ratio", "medians; target >= 0.97"
            printf "%-40s %14.3f %-10s %s\n", c ".on_over_off.p99", median("on", 4) / median("off", 4),
                "ratio", "medians; target <= 1.05"
            printf "%-40s %14.3f %-10s %s\n", c ".normal_over_off.requests_per_s",
                median("normal", 2) / median("off", 2), "ratio", "medians; worker not stepping back"
            printf "%-40s %14.3f %-10s %s\n", c ".normal_over_off.p99",
                median("normal", 4) / median("off", 4), "ratio", "medians; worker not stepping back"
        }' "$tmp/results.$conns"
}

for conns in $conn_counts; do
    measure "$conns"
done

# measure_rate RATE: off and on under bench/rate_client's fixed request rate.
measure_rate() {
    rate=$1
    echo
    echo "== libmicrohttpd hello world at a fixed $rate requests/s: tracing off vs on"
    echo "client:    rate_client --rate $rate --connections 32, ${rate_duration}s after 1 s warm-up," \
        "$rounds rounds of off, on; latency from each request's due time"
    r=0
    while [ $r -lt "$rounds" ]; do
        r=$((r + 1))
        for mode in off on; do
            rm -f "$tmp/srv.port"
            "$srv" --tracing "$mode" --endpoint "$endpoint" --port-file "$tmp/srv.port" \
                >"$tmp/srv.rate$rate.$mode.$r" &
            srv_pid=$!
            port=$(wait_port "$tmp/srv.port")
            line=$("$rate_client" --port "$port" --rate "$rate" --connections 32 \
                --duration "$rate_duration") || line=""
            stop_pid "$srv_pid"
            srv_pid=
            [ -n "$line" ] || {
                echo "run_http.sh: rate_client failed at $rate/s ($mode)" >&2
                exit 1
            }
            # "requests N rate R p50 A p90 B p99 C p999 D max E late L"
            echo "$mode $(echo "$line" | awk '{ print $4, $6, $10, $12, $16 }')" >>"$tmp/rate.$rate"
            printf '# round %d %-4s %s  load %s\n' "$r" "$mode" "$line" \
                "$(cut -d ' ' -f 1 /proc/loadavg)"
        done
    done
    printf '%-40s %14s %-10s %s\n' figure value unit note
    awk -v c="http.rate$rate" "$awk_median"'
        { k = ++n[$1]; for (i = 2; i <= 6; i++) val[$1, k, i] = $i }
        END {
            split("requests_per_s p50 p99 p999 late", name, " ")
            split("req/s us us us requests", unit, " ")
            for (i = 1; i <= 2; i++) {
                mode = i == 1 ? "off" : "on"
                for (j = 1; j <= 5; j++)
                    printf "%-40s %14.0f %-10s %s\n", c "." mode "." name[j], median(mode, j + 1),
                        unit[j], "median of " n[mode]
            }
            printf "%-40s %14.3f %-10s %s\n", c ".on_over_off.p50", median("on", 3) / median("off", 3),
                "ratio", "medians"
            printf "%-40s %14.3f %-10s %s\n", c ".on_over_off.p99", median("on", 4) / median("off", 4),
                "ratio", "medians; target <= 1.05"
        }' "$tmp/rate.$rate"
}

rate_client="$build/rate_client"
rate_duration=${HTTP_RATE_DURATION:-5}
if [ -x "$rate_client" ]; then
    for rate in ${HTTP_RATES:-10000 30000}; do
        measure_rate "$rate"
    done
fi

stop_pid "$recv_pid"
recv_pid=
echo "# $(tail -n 1 "$tmp/receiver.out")"
