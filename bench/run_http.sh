#!/bin/sh
# libmicrohttpd hello-world (bench/bench_http_server.c, keep-alive) traced
# against untraced, the spans exported to bench/discard_receiver.c;
# bench/run.sh runs this. Needs wrk (apt-get install wrk): skipped without.
#
# usage: sh bench/run_http.sh BUILD_DIR
#
# Saturated: wrk -t1 -cC for each C of HTTP_CONNECTIONS (default 32, which
# saturates both vCPUs of the reference machine; "32 8" adds a run with
# idle time), HTTP_DURATION each (default 5s) after a 1 s warm-up, in
# HTTP_ROUNDS rounds (default 7) of the modes of HTTP_MODES (default
# "on off on_1pct"):
#   off      no tracing
#   on       every request traced and exported (always_on)
#   on_1pct  TraceIdRatioBased 1 %: every request still extracts, starts,
#            activates and ends a span; one in a hundred is exported
#   normal   on, with the batch worker at the normal policy and priority
#            (--worker-policy other) instead of stepping back
# The modes of a round run back to back, in reverse order every other
# round; off in the middle, so that each traced run has the untraced one
# it is divided by next to it in time.
# Each ratio is the median over the rounds of that round's traced/untraced
# ratio (the untraced throughput of a shared 2-vCPU guest drifts by 20 %
# within minutes, which a ratio of medians would fold in).
#
# Below saturation: the modes of HTTP_RATE_MODES (default "on off
# on_1pct", ordered as above) under bench/rate_client at each of
# HTTP_RATES requests/s (default 10000), HTTP_RATE_DURATION seconds each
# (default 10) after a 1 s warm-up, HTTP_ROUNDS rounds, latency counted
# from when each request was due.
#
# Targets (issue 12, docs/performance.md): at 1 %, -c32 throughput >= 0.97
# of untraced, and at 10,000 requests/s p99 <= 1.10; at 100 % and 10,000
# requests/s, p99 <= 1.10 and p99.9 <= 1.5. The saturated latencies and
# the saturated 100 % throughput are reported without a target.
set -eu
# shellcheck source=bench/figures.sh
. "$(dirname "$0")/figures.sh"

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
rounds=${HTTP_ROUNDS:-7}
duration=${HTTP_DURATION:-5s}
conn_counts=${HTTP_CONNECTIONS:-32}
modes=${HTTP_MODES:-on off on_1pct}
rates=${HTTP_RATES:-10000}
rate_modes=${HTTP_RATE_MODES:-on off on_1pct}
rate_duration=${HTTP_RATE_DURATION:-10}
rate_client="$build/rate_client"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/otelc-http.XXXXXX")
recv_pid=
srv_pid=
cleanup() {
    [ -n "$srv_pid" ] && kill "$srv_pid" 2>/dev/null && wait "$srv_pid" 2>/dev/null
    [ -n "$recv_pid" ] && kill "$recv_pid" 2>/dev/null && wait "$recv_pid" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM


"$recv" --port-file "$tmp/recv.port" >"$tmp/receiver.out" &
recv_pid=$!
endpoint="http://127.0.0.1:$(wait_port "$tmp/recv.port")/v1/traces"

# The flags of bench_http_server for MODE.
mode_flags() {
    case $1 in
    off) echo "--tracing off" ;;
    on) echo "--tracing on" ;;
    on_1pct) echo "--tracing on --sample 0.01" ;;
    normal) echo "--tracing on --worker-policy other" ;;
    *)
        echo "run_http.sh: unknown mode $1 in HTTP_MODES" >&2
        exit 2
        ;;
    esac
}

# start_server MODE OUT: bench_http_server in MODE, its output in OUT; sets srv_pid and port.
start_server() {
    rm -f "$tmp/srv.port"
    # shellcheck disable=SC2046 # the flags are a list of words
    "$srv" $(mode_flags "$1") --endpoint "$endpoint" --port-file "$tmp/srv.port" >"$2" &
    srv_pid=$!
    port=$(wait_port "$tmp/srv.port")
}

# round_order R MODES...: the modes of round R in the order they run, reversed every other round.
round_order() {
    if [ $(($1 % 2)) -eq 1 ]; then
        shift
        echo "$*"
    else
        shift
        echo "$*" | awk '{ out = $NF; for (i = NF - 1; i > 0; i--) out = out " " $i; print out }'
    fi
}

# Figures from lines "MODE ROUND V1 V2 ...": the median of each mode's
# values, and the median over the rounds of each round's MODE/off. The
# caller names the columns (-v names, units; unit "-": no ratio) and the
# targets (tgt["MODE:NAME"] set in a BEGIN block).
# shellcheck disable=SC2016 # awk code, expanded by awk
awk_figures='
function median(vals, m,    a, b, t) {
    for (a = 1; a <= m; a++)
        for (b = a + 1; b <= m; b++)
            if (vals[b] + 0 < vals[a] + 0) { t = vals[a]; vals[a] = vals[b]; vals[b] = t }
    return m % 2 ? vals[(m + 1) / 2] : (vals[m / 2] + vals[m / 2 + 1]) / 2
}
{ if (!($1 in seen)) { seen[$1] = 1; order[++nmodes] = $1 }
  for (i = 3; i <= NF; i++) val[$1, $2, i] = $i
  have[$1, $2] = 1; if ($2 > rounds) rounds = $2 }
END {
    ncol = split(names, name, " "); split(units, unit, " ")
    for (k = 1; k <= nmodes; k++) {
        mode = order[k]
        for (j = 1; j <= ncol; j++) {
            m = 0; list = ""
            for (r = 1; r <= rounds; r++)
                if (have[mode, r]) { v[++m] = val[mode, r, j + 2]; list = list " " v[m] }
            printf "%-40s %14.0f %-10s %s\n", prefix "." mode "." name[j], median(v, m), unit[j],
                "median of" list
        }
    }
    for (k = 1; k <= nmodes; k++) {
        mode = order[k]
        if (mode == "off") continue
        for (j = 1; j <= ncol; j++) {
            if (unit[j] == "-") continue
            m = 0; list = ""
            for (r = 1; r <= rounds; r++)
                if (have[mode, r] && have["off", r] && val["off", r, j + 2] > 0) {
                    v[++m] = val[mode, r, j + 2] / val["off", r, j + 2]
                    list = list sprintf(" %.3f", v[m])
                }
            if (m == 0) continue
            note = "median of per-round " mode "/off:" list
            printf "%-40s %14.3f %-10s %s\n", prefix "." mode "_over_off." name[j], median(v, m),
                "ratio", note (tgt[mode ":" name[j]] != "" ? "; target " tgt[mode ":" name[j]] : "")
        }
    }
}'

# wrk's latency in microseconds ("812.00us", "1.37ms", "1.02s").
to_us() {
    awk -v x="$1" 'BEGIN {
        u = x; sub(/^[0-9.]+/, "", u); v = x + 0
        if (u == "ms") v *= 1000; else if (u == "s") v *= 1000000
        printf "%.0f\n", v }'
}

# measure CONNS: HTTP_ROUNDS rounds of every mode at CONNS connections, then the figures.
measure() {
    conns=$1
    echo
    echo "== libmicrohttpd hello world under wrk -c$conns: tracing off vs on"
    echo "load:      $(cut -d ' ' -f 1-3 /proc/loadavg) (1/5/15 min load average at start)"
    echo "wrk:       -t1 -c$conns -d$duration --latency, $rounds rounds of: $modes;" \
        "1 s warm-up before each"
    echo "on:        otelc_mhd wrapper, batch 2048/512, OTLP/HTTP protobuf to the discard receiver"
    r=0
    while [ $r -lt "$rounds" ]; do
        r=$((r + 1))
        # shellcheck disable=SC2086 # the modes are a list of words
        for mode in $(round_order $r $modes); do
            out="$tmp/wrk.$conns.$mode.$r"
            start_server "$mode" "$tmp/srv.$conns.$mode.$r"
            wrk -t1 -c"$conns" -d1s "http://127.0.0.1:$port/" >/dev/null
            wrk -t1 -c"$conns" -d"$duration" --latency "http://127.0.0.1:$port/" >"$out"
            stop_pid "$srv_pid"
            srv_pid=
            rps=$(awk '/^Requests\/sec:/ { print $2 }' "$out")
            p50=$(to_us "$(awk '$1 == "50%" { print $2 }' "$out")")
            p99=$(to_us "$(awk '$1 == "99%" { print $2 }' "$out")")
            errs=$(awk '/Socket errors|Non-2xx/ { print }' "$out" | tr -s ' ' | tr '\n' ';')
            echo "$mode $r $rps $p50 $p99" >>"$tmp/results.$conns"
            printf '# round %d %-8s %10s req/s  p50 %7s us  p99 %7s us  load %s %s %s\n' "$r" \
                "$mode" "$rps" "$p50" "$p99" "$(cut -d ' ' -f 1 /proc/loadavg)" \
                "$(tail -n 1 "$tmp/srv.$conns.$mode.$r" | sed -n 's/^bench_http_server: //p')" \
                "$errs"
        done
    done
    printf '%-40s %14s %-10s %s\n' figure value unit note
    awk -v prefix="http.c$conns" -v names="requests_per_s p50 p99" -v units="req/s us us" \
        "BEGIN { tgt[\"on_1pct:requests_per_s\"] = \">= 0.97\";
                 tgt[\"on:requests_per_s\"] = \"none (100 % sampled)\" }
         $awk_figures" "$tmp/results.$conns"
}

# measure_rate RATE: off and on under bench/rate_client's fixed request rate.
measure_rate() {
    rate=$1
    echo
    echo "== libmicrohttpd hello world at a fixed $rate requests/s: tracing off vs on (100 %)"
    echo "client:    rate_client --rate $rate --connections 32, ${rate_duration}s after 1 s warm-up," \
        "$rounds rounds of $rate_modes; latency from each request's due time"
    r=0
    while [ $r -lt "$rounds" ]; do
        r=$((r + 1))
        # shellcheck disable=SC2086 # the modes are a list of words
        for mode in $(round_order $r $rate_modes); do
            start_server "$mode" "$tmp/srv.rate$rate.$mode.$r"
            line=$("$rate_client" --port "$port" --rate "$rate" --connections 32 \
                --duration "$rate_duration") || line=""
            stop_pid "$srv_pid"
            srv_pid=
            [ -n "$line" ] || {
                echo "run_http.sh: rate_client failed at $rate/s ($mode)" >&2
                exit 1
            }
            # "requests N rate R p50 A p90 B p99 C p999 D max E late L"
            echo "$mode $r $(echo "$line" | awk '{ print $4, $6, $10, $12, $16 }')" >>"$tmp/rate.$rate"
            printf '# round %d %-4s %s  load %s\n' "$r" "$mode" "$line" \
                "$(cut -d ' ' -f 1 /proc/loadavg)"
        done
    done
    printf '%-40s %14s %-10s %s\n' figure value unit note
    awk -v prefix="http.rate$rate" -v names="requests_per_s p50 p99 p999 late" \
        -v units="req/s us us us -" \
        "BEGIN { tgt[\"on:p99\"] = \"<= 1.10\"; tgt[\"on:p999\"] = \"<= 1.5\";
                 tgt[\"on_1pct:p99\"] = \"<= 1.10\" } $awk_figures" \
        "$tmp/rate.$rate"
}

for conns in $conn_counts; do
    measure "$conns"
done
if [ -x "$rate_client" ]; then
    for rate in $rates; do
        measure_rate "$rate"
    done
fi

stop_pid "$recv_pid"
recv_pid=
echo "# $(tail -n 1 "$tmp/receiver.out")"
