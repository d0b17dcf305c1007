#!/bin/sh
# A store that cannot keep up, for real: another process (the sqlite3 shell)
# holds the store's write lock with BEGIN IMMEDIATE while senders keep
# sending. The viewer must tell them to back off - 503 with Retry-After
# for the batches whose commit failed, 429 with Retry-After once its queue
# is full - without holding more and more of what they send: its resident
# memory, read from /proc while the flood goes on, levels off. Once the
# lock is released it recovers: requests are acknowledged again, and the
# store holds exactly the spans acknowledged (a refused request stored
# nothing).
#
# usage: sh tests/integration/view_backpressure.sh BUILD_DIR   (exit 77: skipped)
#
# shellcheck disable=SC2015 # "A && B || fail": fail when any of the checks fails
set -u
BUILD=$(cd "${1:-build}" 2>/dev/null && pwd)
. "$(dirname "$0")/view_lib.sh"
command -v node >/dev/null 2>&1 || { echo "view_backpressure: node not found; skipped"; exit 77; }
SEND="node $(cd "$(dirname "$0")" && pwd)/view_send.js"

# The lock outlasts two failed commits (each gives up after the store's 5 s
# busy timeout; retention, which needs the lock too, waits as long between
# them). The senders have six times the spans in flight that the ingest
# queue holds (--max-queued, 40,000), so that it fills even when a busy
# machine slows the senders down.
LOCK_S=16
FLOOD_S=24
SPANS=2000
SENDERS=120
QUEUED=40000

# --max-spans 0: the default (1,000,000) would trim
view_start --db "$tmp/traces.db" --max-spans 0 --max-queued $QUEUED
base_rss=$(rss_kb)

# The sqlite3 shell keeps the lock while its input stays open.
mkfifo "$tmp/sql"
sqlite3 "$tmp/traces.db" <"$tmp/sql" >"$tmp/sql.out" 2>&1 &
sql_pid=$!
exec 3>"$tmp/sql"
echo 'BEGIN IMMEDIATE;' >&3
locked=""
for _ in $(seq 1 50); do
    if sqlite3 "$tmp/traces.db" 'PRAGMA busy_timeout = 0; BEGIN IMMEDIATE; ROLLBACK;' \
        >/dev/null 2>&1; then
        sleep 0.1
    else
        locked=yes
        break
    fi
done
[ -n "$locked" ] || { fail "sqlite3 did not take the lock"; exit 1; }

$SEND flood "$OTLP_HTTP/v1/traces" $FLOOD_S $SPANS $SENDERS >"$tmp/flood.json" &
send_pid=$!

# Resident memory every half second while the lock is held.
: >"$tmp/rss"
i=0
while [ $i -lt $((LOCK_S * 2)) ]; do
    sleep 0.5
    rss_kb >>"$tmp/rss"
    i=$((i + 1))
done
echo 'COMMIT;' >&3
exec 3>&-
wait "$sql_pid"
wait "$send_pid" || fail "the flood sender failed"

# ---- What the senders heard ---------------------------------------------------------------------

flood=$(cat "$tmp/flood.json")
echo "view_backpressure: $flood"
# field EXPR: a value of the sender's JSON summary (empty when absent).
field() { node -e "const f = $flood; const v = f.$1; if (v !== undefined) console.log(String(v))"; }
[ -n "$(field 'statuses[503]')" ] || fail "no 503 while the store could not commit"
[ -n "$(field 'statuses[429]')" ] || fail "no 429 while the queue was full"
[ "$(field 'retryAfter[429]')" = 1 ] || fail "429 without Retry-After: 1"
[ "$(field 'retryAfter[503]')" = 5 ] || fail "503 without Retry-After: 5"
[ -n "$(field 'statuses[200]')" ] || fail "no request acknowledged once the lock was gone"
[ -z "$(field 'statuses[0]')" ] || fail "connections failed"

# ---- Memory levelled off ------------------------------------------------------------------------

# The queue holds at most $QUEUED spans: once full, what comes is refused, not held.
half=$(($(wc -l <"$tmp/rss") / 2))
first=$(head -n "$half" "$tmp/rss" | sort -n | tail -n 1)
second=$(tail -n +$((half + 1)) "$tmp/rss" | sort -n | tail -n 1)
peak=$(rss_kb VmHWM)
echo "view_backpressure: RSS $base_rss KiB at start, $first KiB most in the first half of the lock, $second KiB in the second, peak $peak KiB"
if [ -n "$measures_memory" ]; then
    [ "$second" -le $((first + first / 4 + 20480)) ] || fail "memory kept growing: $first KiB then $second KiB"
    [ "$peak" -le 1048576 ] || fail "peak resident memory $peak KiB"
else
    echo "view_backpressure: a sanitized build: memory not checked"
fi

# ---- Recovered: acknowledged again, and exactly what was acknowledged is stored ---------------------

acked=$($SEND batches "$OTLP_HTTP/v1/traces" 5 100) || fail "not acknowledged after the lock: $acked"
flood_acked=$(field ackedSpans)
view_stop TERM
held=$(spans_in "$tmp/traces.db")
[ "$held" = $((flood_acked + acked)) ] ||
    fail "the store holds $held spans, $((flood_acked + acked)) were acknowledged"
grep -q 'database is locked' "$tmp/view.err" || fail "the viewer did not say why commits failed"

view_done
