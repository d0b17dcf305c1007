#!/bin/sh
# Zero-code instrumentation (docs/zero-code.md): programs written against
# libcurl, libmicrohttpd, libpq, hiredis and SQLite only (tests/auto/*.c,
# no otelc header or library) run under `otelc exec --instrument` against
# real servers started here. Each must print the same and exit with the
# same status as without it, produce the spans and attributes the linked
# instrumentation libraries' tests assert (tests/unit/test_instrument_*.c),
# join one trace across processes, and export nothing with
# OTEL_SDK_DISABLED=true. Parts whose library or server is not installed
# are skipped; exit 77 when none could run.
# shellcheck disable=SC2016 # the assertions are JavaScript: their $ is not the shell's
suite=auto_instrument
# shellcheck source=tests/integration/cli_lib.sh
. "$(dirname "$0")/cli_lib.sh"
B=$(cd "$1" && pwd)
[ -f "$B/libotelc-auto.so" ] || { echo "$suite: libotelc-auto not built; skipped"; exit 77; }
ran=0

# same NAME CMD...: CMD's output and status with and without --instrument
# must agree; the instrumented run exports to $tmp/NAME.jsonl.
same() {
    name=$1
    shift
    "$@" >"$tmp/$name.plain" 2>&1
    plain=$?
    out "$name"
    "$OTELC" exec --instrument -- "$@" >"$tmp/$name.traced" 2>&1
    traced=$?
    [ "$plain" = "$traced" ] || fail "$name: exit status $traced under --instrument, $plain without"
    cmp -s "$tmp/$name.plain" "$tmp/$name.traced" || {
        fail "$name: output differs under --instrument"
        diff "$tmp/$name.plain" "$tmp/$name.traced" >&2
    }
    [ -s "$tmp/$name.jsonl" ] || fail "$name: nothing exported"
}

# disabled NAME CMD...: with OTEL_SDK_DISABLED=true nothing is exported.
disabled() {
    name=$1
    shift
    out "$name"
    OTEL_SDK_DISABLED=true "$OTELC" exec --instrument -- "$@" >/dev/null 2>&1
    [ -e "$tmp/$name.jsonl" ] && fail "$name: spans exported with OTEL_SDK_DISABLED=true"
}

# ---- libpq, against a PostgreSQL server of its own ---------------------------
pq_part() {
    # shellcheck source=tests/integration/pg_lib.sh
    . "$here/pg_lib.sh"
    pg_bindir || { echo "$suite: PostgreSQL server not installed: libpq part skipped"; return 77; }
    work=$tmp
    pg_tmpdir auto
    pgtmp=$tmp
    trap 'tmp=$pgtmp; pg_stop; rm -rf "$pgtmp"' EXIT
    pg_start || return 1
    ci="host=127.0.0.1 port=$pg_port dbname=postgres user=postgres connect_timeout=10"
    fresh() { "$pg_bin/psql" -q -h 127.0.0.1 -p "$pg_port" -U postgres -c 'DROP TABLE IF EXISTS users' postgres >/dev/null 2>&1; }
    tmp=$work
    # Both runs create the table: it is dropped before each.
    fresh && "$B/auto_pq_app" "$ci" >"$tmp/pq.plain" 2>&1
    plain=$?
    out pq
    fresh && "$OTELC" exec --instrument=pq -- "$B/auto_pq_app" "$ci" >"$tmp/pq.traced" 2>&1
    traced=$?
    if [ "$plain" != 3 ] || [ "$traced" != 3 ]; then
        fail "pq: exit status $plain, $traced under --instrument (want 3)"
    fi
    cmp -s "$tmp/pq.plain" "$tmp/pq.traced" || fail "pq: output differs under --instrument"
    # As test_instrument_pq.c asserts them: names, sanitized text, rows, SQLSTATE.
    check pq \
        'spans.filter(s => s.scope === "otelc.instrument.pq").length === 9' \
        'spans.filter(s => s.scope === "otelc.instrument.pq").every(s => s.kind === 3 &&
            s.attrs["db.system.name"] === "postgresql" && s.attrs["db.namespace"] === "postgres" &&
            s.attrs["server.address"] === "127.0.0.1" && s.attrs["server.port"] > 0 &&
            s.parentSpanId === one("auto_pq_app").spanId)' \
        'one("CREATE TABLE users").attrs["db.operation.name"] === "CREATE TABLE"' \
        'one("INSERT users").attrs["db.query.text"] === "INSERT INTO users VALUES (?, ?), (?, ?)"' \
        'one("UPDATE users").attrs["db.query.text"] === "UPDATE users SET name = ? WHERE id = ?"' \
        'named("SELECT users").some(s => s.attrs["db.query.text"] === "SELECT name FROM users WHERE id < ? ORDER BY id" &&
            s.attrs["db.response.returned_rows"] === 2 && s.attrs["db.operation.name"] === "SELECT")' \
        'named("SELECT users").some(s => s.attrs["db.query.text"] === "SELECT name FROM users WHERE id = $1" &&
            s.attrs["db.response.returned_rows"] === 1)' \
        'one("PREPARE").attrs["db.operation.name"] === "PREPARE" &&
            one("PREPARE").attrs["db.query.text"] === "SELECT id FROM users WHERE name = $1"' \
        'named("SELECT users").filter(s => s.attrs["db.query.text"] === "SELECT id FROM users WHERE name = $1").length === 1' \
        'one("SELECT users SELECT").attrs["db.response.returned_rows"] === 3 &&
            one("SELECT users SELECT").attrs["db.query.text"] === "SELECT ? FROM users; SELECT ?"' \
        'one("SELECT no_such_table").status === 2 && one("SELECT no_such_table").message === "SQLSTATE 42P01" &&
            one("SELECT no_such_table").attrs["error.type"] === "42P01" &&
            one("SELECT no_such_table").attrs["db.response.status_code"] === "42P01"' \
        '!JSON.stringify(spans.map(s => s.attrs)).match(/SecretBob|AsyncLiteral/)'
    fresh && disabled pq_off "$B/auto_pq_app" "$ci"
    # Only the libraries named are traced.
    out pq_other
    fresh && "$OTELC" exec --instrument=curl -- "$B/auto_pq_app" "$ci" >/dev/null 2>&1
    check pq_other 'spans.length === 1 && spans[0].name === "auto_pq_app"'
    [ "$failures" = 0 ]
}
if [ -x "$B/auto_pq_app" ]; then
    (pq_part)
    rc=$?
    [ "$rc" = 77 ] || ran=1
    [ "$rc" = 0 ] || [ "$rc" = 77 ] || fail "libpq part failed (status $rc)"
fi

# ---- libcurl against a libmicrohttpd server ----------------------------------
server_pid=""
stop_server() {
    [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
    server_pid=""
}
trap 'stop_server; rm -rf "$tmp"' EXIT INT TERM

# start_server NAME [otelc exec options]: auto_mhd_app, its port as $port.
start_server() {
    name=$1
    shift
    out "$name"
    if [ $# -gt 0 ]; then
        "$OTELC" exec "$@" -- "$B/auto_mhd_app" >"$tmp/$name.port" 2>"$tmp/$name.err" &
    else
        "$B/auto_mhd_app" >"$tmp/$name.port" 2>"$tmp/$name.err" &
    fi
    server_pid=$!
    port=""
    for _ in $(seq 1 100); do
        port=$(sed -n 's/^port //p' "$tmp/$name.port")
        [ -n "$port" ] && return 0
        sleep 0.05
    done
    fail "$name: auto_mhd_app did not start"
    cat "$tmp/$name.err" >&2
    return 1
}

# otlp_self URL: curl_app traced while exporting over OTLP/HTTP, which is
# libcurl too. The SDK's own requests are never traced (a span per export,
# exported, would make another span, without end): the receiver gets the
# spans the file exporter lists, each once, and nothing else.
otlp_self() {
    rm -f "$tmp/ids"
    receiver_start collect 0 "$tmp/ids"
    out curl_otlp
    OTEL_TRACES_EXPORTER=otlp,file OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf \
        OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:$receiver_port" \
        "$OTELC" exec --instrument -- "$B/auto_curl_app" "$1" >/dev/null 2>&1 ||
        fail "curl_otlp: curl_app failed under --instrument with the OTLP exporter"
    receiver_stop
    made=$(grep -o '"spanId":"[0-9a-f]*"' "$tmp/curl_otlp.jsonl" | sed 's/.*:"\(.*\)"/\1/' | sort)
    got=$(sort "$tmp/ids" 2>/dev/null)
    [ -n "$made" ] || fail "curl_otlp: nothing exported"
    [ "$made" = "$got" ] ||
        fail "curl_otlp: the receiver got $(echo "$got" | grep -c .) spans for the $(echo "$made" | grep -c .) the run made"
}

if [ -x "$B/auto_curl_app" ] && [ -x "$B/auto_mhd_app" ]; then
    ran=1
    # The server ends by SIGTERM, as without otelc: its spans are flushed on the way.
    start_server plain_server && {
        kill "$server_pid"
        wait "$server_pid" 2>/dev/null # the shell's "Terminated"
        plain_status=$?
        server_pid=""
    }
    start_server server --instrument && {
        base=http://127.0.0.1:$port
        same curl "$B/auto_curl_app" "$base/hello" "$base/chain?to=$base/hello"
        grep -q '^hello kept$' "$tmp/curl.traced" || fail "curl: the application's header was lost"
        same curl404 "$B/auto_curl_app" "$base/nothing-here"
        disabled curl_off "$B/auto_curl_app" "$base/hello"
        otlp_self "$base/hello"
        sleep 0.2 # the last completion callbacks
        kill "$server_pid"
        wait "$server_pid" 2>/dev/null
        status=$?
        [ "$status" = "$plain_status" ] || fail "server: exit status $status under --instrument, $plain_status without"
        server_pid=""
    }
    cat "$tmp/server.jsonl" "$tmp/curl.jsonl" >"$tmp/http.jsonl"
    # As test_instrument_http.c asserts them, and one trace: curl_app's exec span ->
    # its GET /chain -> the server's SERVER span -> its own GET /hello -> SERVER span.
    check http \
        'spans.filter(x => x.traceId === one("auto_curl_app").traceId).length === 7' \
        'spans.filter(x => x.traceId === one("auto_curl_app").traceId).filter(s => s.kind === 3).length === 3 && spans.filter(x => x.traceId === one("auto_curl_app").traceId).filter(s => s.kind === 2).length === 3' \
        'spans.filter(x => x.traceId === one("auto_curl_app").traceId).filter(s => s.kind === 3).every(s => s.name === "GET" && s.scope === "otelc.instrument.curl" &&
            s.attrs["http.request.method"] === "GET" && s.attrs["server.address"] === "127.0.0.1" &&
            s.attrs["server.port"] === '"${port:-0}"' && s.attrs["http.response.status_code"] === 200 &&
            s.attrs["network.protocol.version"] === "1.1" && s.status === 0)' \
        'spans.filter(x => x.traceId === one("auto_curl_app").traceId).filter(s => s.kind === 2).every(s => s.name === "GET" && s.scope === "otelc.instrument.microhttpd" &&
            s.attrs["http.request.method"] === "GET" && s.attrs["url.scheme"] === "http" &&
            s.attrs["client.address"] === "127.0.0.1" && s.attrs["server.address"] === "127.0.0.1" &&
            s.attrs["server.port"] === '"${port:-0}"' && s.attrs["network.protocol.version"] === "1.1" &&
            s.attrs["http.response.status_code"] === 200 && s.status === 0)' \
        '(() => {
            const byId = Object.fromEntries(spans.map(s => [s.spanId, s]));
            const chain = spans.filter(x => x.traceId === one("auto_curl_app").traceId).find(s => s.kind === 3 && /\/chain\?/.test(s.attrs["url.full"]));
            const served = spans.filter(x => x.traceId === one("auto_curl_app").traceId).find(s => s.kind === 2 && s.attrs["url.path"] === "/chain");
            const inner = spans.filter(x => x.traceId === one("auto_curl_app").traceId).find(s => s.kind === 3 && s.parentSpanId === served.spanId);
            const hello = spans.filter(x => x.traceId === one("auto_curl_app").traceId).find(s => s.kind === 2 && s.parentSpanId === inner.spanId);
            return byId[chain.parentSpanId].name === "auto_curl_app" && served.parentSpanId === chain.spanId &&
                /\/hello$/.test(inner.attrs["url.full"]) && hello.attrs["url.path"] === "/hello" &&
                served.attrs["url.query"] === "to=" + inner.attrs["url.full"];
        })()'
    check curl404 \
        'named("GET").length === 2 && named("GET").every(s => s.kind === 3 && s.status === 2 &&
            s.attrs["error.type"] === "404" && s.attrs["http.response.status_code"] === 404)'
    check server \
        'named("GET").filter(s => s.attrs["url.path"] === "/nothing-here").length === 4 &&
            named("GET").filter(s => s.attrs["url.path"] === "/nothing-here").every(s =>
                s.status === 0 && s.attrs["http.response.status_code"] === 404 && !("error.type" in s.attrs))'
fi

# ---- hiredis, against a Redis server of its own -------------------------------
redis_part() {
    command -v redis-server >/dev/null 2>&1 || { echo "$suite: redis-server not installed: hiredis part skipped"; return 77; }
    # shellcheck source=tests/integration/redis_lib.sh
    . "$here/redis_lib.sh"
    redis_start "$tmp" || return 1
    trap redis_stop EXIT
    rport=$redis_port
    same redis "$B/auto_redis_app" "$rport"
    # As test_instrument_hiredis.c asserts them: "{command} {db}", keys kept, values hidden;
    # the async context's commands too, but not its subscription.
    check redis \
        'spans.filter(s => s.scope === "otelc.instrument.hiredis").length === 9' \
        'spans.filter(s => s.scope === "otelc.instrument.hiredis").every(s => s.kind === 3 &&
            s.attrs["db.system.name"] === "redis" && s.attrs["db.namespace"] === "0" &&
            s.attrs["server.address"] === "127.0.0.1" && s.attrs["server.port"] === '"$rport"' &&
            s.parentSpanId === one("auto_redis_app").spanId)' \
        'named("SET 0").some(s => s.attrs["db.query.text"] === "SET user:1 ?")' \
        'named("GET 0").some(s => s.attrs["db.query.text"] === "GET user:1" && s.attrs["db.operation.name"] === "GET")' \
        'named("SET 0").some(s => s.attrs["db.query.text"] === "SET counter ?") && one("INCRBY 0")' \
        'one("LPUSH 0").status === 2 && one("LPUSH 0").message === "WRONGTYPE" &&
            one("LPUSH 0").attrs["error.type"] === "WRONGTYPE" && one("LPUSH 0").attrs["db.response.status_code"] === "WRONGTYPE"' \
        'named("SET 0").some(s => s.attrs["db.query.text"] === "SET async:1 ?" && s.status === 0)' \
        'named("GET 0").some(s => s.attrs["db.query.text"] === "GET async:1" && s.status === 0)' \
        'one("INCR 0").status === 2 && one("INCR 0").attrs["error.type"] === "ERR" &&
            one("INCR 0").attrs["db.response.status_code"] === "ERR"' \
        'one("EXISTS 0").status === 2 && one("EXISTS 0").attrs["error.type"] === "_OTHER"' \
        'named("SUBSCRIBE 0").length === 0' \
        '!JSON.stringify(spans.map(s => s.attrs)).includes("SecretValue")'
    disabled redis_off "$B/auto_redis_app" "$rport"
    [ "$failures" = 0 ]
}
if [ -x "$B/auto_redis_app" ]; then
    (redis_part)
    rc=$?
    [ "$rc" = 77 ] || ran=1
    [ "$rc" = 0 ] || [ "$rc" = 77 ] || fail "hiredis part failed (status $rc)"
fi

# ---- SQLite ------------------------------------------------------------------
if [ -x "$B/auto_sqlite_app" ]; then
    ran=1
    "$B/auto_sqlite_app" "$tmp/plain.db" >"$tmp/sqlite.plain" 2>&1
    plain=$?
    out sqlite
    "$OTELC" exec --instrument=sqlite -- "$B/auto_sqlite_app" "$tmp/traced.db" >"$tmp/sqlite.traced" 2>&1
    [ "$plain:$?" = 0:0 ] || fail "sqlite: exit status changed or failed"
    cmp -s "$tmp/sqlite.plain" "$tmp/sqlite.traced" || fail "sqlite: output differs under --instrument"
    # As test_instrument_sqlite.c asserts them: a span per statement, bound values never recorded.
    check sqlite \
        'spans.filter(s => s.scope === "otelc.instrument.sqlite").length === 4' \
        'spans.filter(s => s.scope === "otelc.instrument.sqlite").every(s => s.kind === 3 &&
            s.attrs["db.system.name"] === "sqlite" && /traced\.db$/.test(s.attrs["db.namespace"]) &&
            s.parentSpanId === one("auto_sqlite_app").spanId)' \
        'one("CREATE TABLE users").attrs["db.operation.name"] === "CREATE TABLE"' \
        'named("INSERT users").some(s => s.attrs["db.query.text"] === "INSERT INTO users VALUES (?, ?)")' \
        'named("INSERT users").some(s => s.attrs["db.query.text"] === "INSERT INTO users (name) VALUES (?1)")' \
        'one("SELECT users").attrs["db.response.returned_rows"] === 2' \
        '!JSON.stringify(spans.map(s => s.attrs)).match(/SecretBob|alice/)'
    disabled sqlite_off "$B/auto_sqlite_app" "$tmp/off.db"
    # fork(): the child, in a copy of a traced process, traces its own calls into the same
    # trace and flushes them at its exit. exec(): the children of the command are traced,
    # here through sh, which a sanitizer build cannot preload into (its runtime is not in sh).
    out sqlite_fork
    if grep -aq -e '__asan_init' -e '__tsan_init' "$B/otelc"; then
        # TSan stops a child that starts threads after a multi-threaded fork (the SDK's
        # export thread) unless told otherwise. ASan before LLVM 17 does not lock its
        # allocator across fork(): a child forked while the export thread is inside
        # malloc hangs at its first malloc (1 run in ~300 here). A long batch delay
        # keeps that thread asleep at the fork; the SDK itself makes the fork wait
        # for a thread that is still starting (test_batch).
        TSAN_OPTIONS="${TSAN_OPTIONS:+$TSAN_OPTIONS:}die_after_fork=0" OTEL_BSP_SCHEDULE_DELAY=60000 \
            timeout -k 5 120 "$OTELC" exec --instrument -- "$B/auto_sqlite_app" "$tmp/f1.db" "$tmp/f2.db" >/dev/null 2>&1
        status=$? runs=2
    else
        timeout -k 5 120 "$OTELC" exec --instrument -- sh -c "\"$B/auto_sqlite_app\" \"$tmp/f1.db\" \"$tmp/f2.db\" &&
            \"$B/auto_sqlite_app\" \"$tmp/f3.db\"" >/dev/null 2>&1
        status=$? runs=3
    fi
    [ "$status" = 0 ] || fail "sqlite_fork: failed (status $status; 124: hung)"
    check sqlite_fork \
        'spans.filter(s => s.scope === "otelc.instrument.sqlite").length === 4 * '"$runs" \
        'spans.every(s => s.traceId === spans.find(s => !s.parentSpanId).traceId)' \
        '[1, 2, 3].slice(0, '"$runs"').every(i => spans.filter(s => s.attrs["db.namespace"] &&
            s.attrs["db.namespace"].endsWith("/f" + i + ".db")).length === 4)'
    # A fork child ended by SIGTERM, as a pre-forking server's workers are: its spans are
    # flushed on the way, by the child's own flusher thread, which the signal handler asks
    # (async-signal-safe: a pipe and poll) rather than flushing in the handler itself.
    # Not under a sanitizer (threads started after a multi-threaded fork; see above).
    if ! grep -aq -e '__asan_init' -e '__tsan_init' "$B/otelc"; then
        out sqlite_term
        OTEL_BSP_SCHEDULE_DELAY=60000 timeout -k 5 60 "$OTELC" exec --instrument -- \
            "$B/auto_sqlite_app" "$tmp/t1.db" "$tmp/t2.db" term >"$tmp/term.out" 2>&1 &
        term_pid=$!
        child=""
        for _ in $(seq 1 200); do
            child=$(sed -n 's/^child \([0-9]*\)$/\1/p' "$tmp/term.out")
            [ -n "$child" ] && break
            sleep 0.05
        done
        [ -n "$child" ] && kill -TERM "$child"
        wait "$term_pid"
        status=$?
        [ -n "$child" ] && [ "$status" = 0 ] ||
            fail "sqlite_term: child '$child', status $status: $(cat "$tmp/term.out")"
        check sqlite_term \
            'spans.filter(s => s.attrs["db.namespace"] && s.attrs["db.namespace"].endsWith("/t2.db")).length === 4'
    fi
    # Short programs exporting over OTLP exit while the batch worker may still be loading
    # libcurl and initialising OpenSSL: each exits 0 and each run's spans arrive. (OpenSSL's
    # own atexit cleanup, when the worker let it register one, ran first and crashed a few
    # runs in a hundred.)
    runs=100
    grep -aq -e '__asan_init' -e '__tsan_init' "$B/otelc" && runs=20
    rm -f "$tmp/ids"
    receiver_start collect 0 "$tmp/ids"
    crashed=0 i=0
    while [ $i -lt $runs ]; do
        rm -f "$tmp/short.db"
        OTEL_TRACES_EXPORTER=otlp OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf \
            OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:$receiver_port" \
            OTEL_BSP_SCHEDULE_DELAY=60000 "$OTELC" exec --instrument=sqlite -- "$B/auto_sqlite_app" "$tmp/short.db" \
            >/dev/null 2>&1 || crashed=$((crashed + 1))
        i=$((i + 1))
    done
    receiver_stop
    [ "$crashed" = 0 ] || fail "sqlite_short: $crashed of $runs runs failed"
    # Four statements and otelc exec's own span per run.
    got=$(sort -u "$tmp/ids" 2>/dev/null | grep -c .)
    [ "$got" = $((runs * 5)) ] || fail "sqlite_short: the receiver got $got spans of $((runs * 5))"
fi

# ---- What cannot be preloaded into: said once, the command still runs ------------
printf 'int main(void) { return 5; }\n' >"$tmp/static.c"
if command -v cc >/dev/null 2>&1 && cc -static -o "$tmp/static_app" "$tmp/static.c" 2>/dev/null; then
    "$OTELC" exec --instrument -- "$tmp/static_app" 2>"$tmp/static.err"
    [ "$?" = 5 ] || fail "static: exit status changed"
    [ "$(grep -c 'statically linked' "$tmp/static.err")" = 1 ] || fail "static: not reported once"
fi
if [ -x "$B/auto_sqlite_app" ]; then
    cp "$B/auto_sqlite_app" "$tmp/setuid_app" && chmod u+s "$tmp/setuid_app"
    "$OTELC" exec --instrument -- "$tmp/setuid_app" "$tmp/setuid.db" >/dev/null 2>"$tmp/setuid.err" ||
        fail "setuid: the command failed"
    [ "$(grep -c 'setuid' "$tmp/setuid.err")" = 1 ] || fail "setuid: not reported once"
fi

[ "$ran" = 1 ] || { echo "$suite: no instrumented library installed; skipped"; exit 77; }
finish
