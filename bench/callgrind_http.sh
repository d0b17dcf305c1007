#!/bin/sh
# Instructions otelc spends per traced HTTP request: bench_http_server under
# callgrind, driven by wrk on keep-alive connections (docs/performance.md,
# "Where the traced server's extra instructions go"); bench/run.sh runs this.
#
# usage: sh bench/callgrind_http.sh BUILD_DIR
#
# Each mode starts its own server under valgrind --tool=callgrind
# --separate-threads=yes, exporting to bench/discard_receiver; wrk warms it
# up, the server exports what it has queued (SIGUSR1, see
# bench_http_server.c), the counters are zeroed (callgrind_control -z), wrk
# runs for the measured window, the server exports the window's spans and
# the counters are dumped (callgrind_control -d). The requests wrk
# completed in the window divide the instructions. Modes:
#   sampled:   always_on (every request's span is recorded and exported)
#   unsampled: TraceIdRatioBased 1 % (--sample 0.01): 99 of 100 requests
#              start, activate and end a span that does not record
#   child:     always_on, each request carrying a traceparent, a tracestate
#              of two members, a User-Agent and an Accept header, as a
#              call from another traced service does (wrk sends only Host
#              otherwise)
#   off:       no tracing, for the server's own instructions per request
# Figures (instructions per request):
#   request_thread: on libmicrohttpd's thread, what the wrapper adds: its
#     handler and completion callback inclusive, less the application's
#     handler (bench_http_server's hello), plus otelc_mhd_queue_response
#     less the MHD_queue_response inside it
#   .wrapper / .completion: the handler call and the completion callback
#     of that (the handler figure the issue calls "wrapper")
#   all_threads: request_thread plus every instruction of the other
#     threads (the batch worker: encode, send with libcurl, recycle)
#
# Environment: CG_HTTP_WARMUP (default 2s) and CG_HTTP_DURATION (default
# 10s: a shorter window lets glibc malloc's occasional slow paths move the
# figures by +-100) wrk durations, CG_HTTP_CONNECTIONS (default 8), CG_HTTP_MODES
# (default "sampled unsampled child off"), CG_HTTP_ANNOTATE=1 adds, per traced
# mode, the request thread's functions by inclusive instructions per
# request (callgrind_annotate), CG_HTTP_KEEP=DIR keeps the callgrind files
# there.
set -eu
# shellcheck source=bench/figures.sh
. "$(dirname "$0")/figures.sh"

build=${1:-build/bench}
srv="$build/bench_http_server"
recv="$build/discard_receiver"
for tool in valgrind callgrind_control callgrind_annotate wrk; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "$tool not installed: callgrind HTTP figures skipped"
        exit 0
    fi
done
if [ ! -x "$srv" ] || [ ! -x "$recv" ]; then
    echo "bench_http_server (needs libmicrohttpd) or discard_receiver not built: skipped"
    exit 0
fi
warmup=${CG_HTTP_WARMUP:-2s}
duration=${CG_HTTP_DURATION:-10s}
conns=${CG_HTTP_CONNECTIONS:-8}
modes=${CG_HTTP_MODES:-sampled unsampled child off}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/otelc-cghttp.XXXXXX")
recv_pid=
srv_pid=
cleanup() {
    [ -n "$srv_pid" ] && stop_pid "$srv_pid"
    [ -n "$recv_pid" ] && stop_pid "$recv_pid"
    if [ -n "${CG_HTTP_KEEP:-}" ]; then
        mkdir -p "$CG_HTTP_KEEP"
        cp "$tmp"/cg.* "$CG_HTTP_KEEP"/ 2>/dev/null || true
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM


# Ir of one thread's file: its "totals:" line, else its "summary:".
thread_ir() {
    awk '/^totals:/ { t = $2; have = 1 } /^summary:/ { s = $2 }
        END { printf "%.0f\n", have ? t : s }' "$1"
}

# incl FILE FUNCTION: FUNCTION's inclusive Ir in one thread's file (0 if absent).
incl() {
    callgrind_annotate --inclusive=yes --threshold=100 "$1" 2>/dev/null |
        awk -v f="$2" '{
            for (i = 2; i <= NF; i++) {
                n = $i; sub(/^.*:/, "", n)
                if (n == f) { gsub(/,/, "", $1); v += $1; break }
            }
        } END { printf "%.0f\n", v }'
}

"$recv" --port-file "$tmp/recv.port" >"$tmp/receiver.out" &
recv_pid=$!
endpoint="http://127.0.0.1:$(wait_port "$tmp/recv.port")/v1/traces"

# load DURATION URL: wrk's requests for $mode.
load() {
    if [ "$mode" = child ]; then
        wrk -t1 -c"$conns" -d"$1" \
            -H "traceparent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01" \
            -H "tracestate: congo=t61rcWkgMzE,rojo=00f067aa0ba902b7" \
            -H "User-Agent: Mozilla/5.0 (X11; Linux x86_64) otelc-bench/1" \
            -H "Accept: text/html,application/xhtml+xml" "$2"
    else
        wrk -t1 -c"$conns" -d"$1" "$2"
    fi
}

# flush N: the server exports every span ended so far (its N-th "flushed").
flush() {
    kill -USR1 "$srv_pid"
    i=0
    while [ "$(grep -c '^flushed' "$tmp/srv.$mode.out")" -lt "$1" ]; do
        i=$((i + 1))
        [ $i -le 1200 ] || {
            echo "callgrind_http.sh: the server did not flush ($mode)" >&2
            exit 1
        }
        sleep 0.05
    done
}

# measure MODE: one callgrind run, then its figures.
measure() {
    mode=$1
    case $mode in
    sampled | child) flags="--tracing on" ;;
    unsampled) flags="--tracing on --sample 0.01" ;;
    off) flags="--tracing off" ;;
    esac
    rm -f "$tmp/srv.port"
    # shellcheck disable=SC2086 # flags is a list of words
    valgrind --tool=callgrind --separate-threads=yes --dump-instr=no \
        --callgrind-out-file="$tmp/cg.$mode.%p" "$srv" $flags --endpoint "$endpoint" \
        --port-file "$tmp/srv.port" >"$tmp/srv.$mode.out" 2>"$tmp/vg.$mode.log" &
    srv_pid=$!
    url="http://127.0.0.1:$(wait_port "$tmp/srv.port" 60)/"
    load "$warmup" "$url" >/dev/null
    flush 1
    callgrind_control -z "$srv_pid" >/dev/null 2>&1
    load "$duration" "$url" >"$tmp/wrk.$mode"
    flush 2
    callgrind_control -d "$srv_pid" >/dev/null 2>&1
    stop_pid "$srv_pid"
    srv_pid=
    requests=$(awk '/requests in/ { print $1 }' "$tmp/wrk.$mode")
    [ "${requests:-0}" -gt 0 ] || {
        echo "callgrind_http.sh: wrk completed no request ($mode)" >&2
        cat "$tmp/vg.$mode.log" >&2
        exit 1
    }

    # The dump's files, one per thread: the request thread is the one that ran MHD's handler.
    app=0 others=0 wrapper=0 completion=0 req_file=
    for f in "$tmp/cg.$mode."*.1-[0-9]*; do
        [ -s "$f" ] || continue
        ir=$(thread_ir "$f")
        if [ "$(incl "$f" hello)" -gt 0 ]; then
            req_file=$f
            app=$ir
        else
            others=$((others + ir))
        fi
    done
    [ -n "$req_file" ] || {
        echo "callgrind_http.sh: no request thread in the $mode dump" >&2
        exit 1
    }
    c="http.callgrind.$mode"
    per() { awk -v a="$1" -v n="$requests" 'BEGIN { printf "%.0f", a / n }'; }
    if [ "$mode" = off ]; then
        figure "$c.server_thread" "$(per "$app")" instr \
            "libmicrohttpd's thread per request, untraced ($requests requests, wrk -c$conns)"
        return
    fi
    handler=$(incl "$req_file" otelc_mhd_handler)
    hello=$(incl "$req_file" hello)
    queue=$(incl "$req_file" otelc_mhd_queue_response)
    mhd_queue=$(incl "$req_file" MHD_queue_response)
    completion=$(incl "$req_file" otelc_mhd_completed)
    wrapper=$((handler - hello + queue - mhd_queue))
    figure "$c.request_thread" "$(per $((wrapper + completion)))" instr \
        "handler wrapper + completion, less the application ($requests requests, wrk -c$conns)"
    figure "$c.request_thread.wrapper" "$(per "$wrapper")" instr \
        "extract, span start, attributes, activation"
    figure "$c.request_thread.completion" "$(per "$completion")" instr "status, span end"
    note="batch worker: encode, send, recycle"
    # The window's last export is a partial batch, whose fixed cost (one
    # HTTP request) would be spread over 512 spans in steady state.
    [ "$requests" -ge 4000 ] || note="$note (only $requests requests: the last export's fixed cost weighs; lengthen CG_HTTP_DURATION)"
    figure "$c.other_threads" "$(per "$others")" instr "$note"
    figure "$c.all_threads" "$(per $((wrapper + completion + others)))" instr \
        "request thread + other threads"
    figure "$c.server_thread" "$(per "$app")" instr "libmicrohttpd's thread, all of it"
    [ "${CG_HTTP_ANNOTATE:-0}" = 1 ] && annotate "$req_file" "$requests"
    return 0
}

# annotate FILE REQUESTS: the request thread's functions under the wrapper's
# entry points, inclusive instructions per request (libmicrohttpd's own
# loop and the kernel-facing calls left out).
annotate() {
    echo "# $mode, request thread: inclusive instructions per request, function (calls)"
    callgrind_annotate --inclusive=yes --threshold=100 --tree=calling "$1" 2>/dev/null |
        awk -v n="$2" '
            / \* / { keep = $0 ~ /otelc|start_span|request_|carrier|collect|extract|hello|attr|scope/ }
            keep && / \* / {
                v = $1; gsub(/,/, "", v); f = $0
                sub(/^.*\* +/, "", f); sub(/ \[.*$/, "", f); sub(/^[^:]*:/, "", f)
                printf "#   %7.0f  %s\n", v / n, f
            }
            keep && / > / {
                v = $1; gsub(/,/, "", v); f = $0
                sub(/^.*> +/, "", f); sub(/ \[.*$/, "", f); sub(/^[^:]*:/, "", f)
                printf "#            %7.0f  %s\n", v / n, f
            }'
}

echo
echo "== instructions per HTTP request (callgrind on bench_http_server, wrk -t1 -c$conns," \
    "$duration after $warmup)"
printf '%-40s %14s %-10s %s\n' figure value unit note
for mode in $modes; do
    measure "$mode"
done
