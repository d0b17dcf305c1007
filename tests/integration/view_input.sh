#!/bin/sh
# What otelc view answers to requests it must not take, with its real
# bounds (16 MiB on the wire, 64 MiB inflated), and that it stores nothing
# of them: a body too large (413, announced or not), a gzip bomb (413, and
# the viewer's memory does not follow what the bomb would inflate to),
# a Content-Type or Content-Encoding it does not read (415), garbage (400
# with a google.rpc.Status); the gate: a foreign Origin (403), a rebound
# Host (403), a text/plain POST (415), the token (401), a --cors-origin
# preflight (granted) and one of another origin (not).
#
# usage: sh tests/integration/view_input.sh BUILD_DIR   (exit 77: skipped)
#
# shellcheck disable=SC2015 # "A && B || fail": fail when any of the checks fails
set -u
BUILD=$(cd "${1:-build}" 2>/dev/null && pwd)
. "$(dirname "$0")/view_lib.sh"
command -v gzip >/dev/null 2>&1 || { echo "view_input: gzip not found; skipped"; exit 77; }

ALLOWED=http://localhost:3000
TOKEN=s3cret-T0ken
view_start --db "$tmp/traces.db" --cors-origin "$ALLOWED"

# expect WANT WHAT STATUS: a check of one answer.
expect() {
    [ "$3" = "$1" ] || fail "$2: $3, expected $1 ($(head -c 200 "$tmp/answer" | tr -d '\000'))"
}

# ---- Too large, announced and not --------------------------------------------------------------

head -c $((20 * 1024 * 1024)) /dev/zero >"$tmp/big"
expect 413 "20 MiB with Content-Length" "$(post_otlp "$OTLP_HTTP" "$tmp/big")"
grep -aq 'larger than 16777216' "$tmp/answer" || fail "413 without the bound in its Status"
expect 413 "20 MiB chunked" "$(post_otlp "$OTLP_HTTP" "$tmp/big" -H 'Transfer-Encoding: chunked')"

# ---- A gzip bomb: 1 GiB of zeros in about a megabyte -------------------------------------------

head -c $((1024 * 1024 * 1024)) /dev/zero | gzip -1 >"$tmp/bomb.gz"
rss_before=$(rss_kb)
hwm_before=$(rss_kb VmHWM)
expect 413 "gzip bomb" "$(post_otlp "$OTLP_HTTP" "$tmp/bomb.gz" -H 'Content-Encoding: gzip')"
grep -aq 'inflates to more than 67108864' "$tmp/answer" || fail "the bomb's 413 does not say why"
rss_after=$(rss_kb)
hwm_after=$(rss_kb VmHWM)
echo "view_input: bomb of $(wc -c <"$tmp/bomb.gz") bytes: RSS $rss_before -> $rss_after KiB, peak $hwm_before -> $hwm_after KiB"
# At most the inflated bound (64 MiB) was held, never the gigabyte; and it was given back.
if [ -n "$measures_memory" ]; then
    [ $((hwm_after - hwm_before)) -le $((96 * 1024)) ] || fail "the bomb took $((hwm_after - hwm_before)) KiB"
    [ $((rss_after - rss_before)) -le $((16 * 1024)) ] || fail "the bomb left $((rss_after - rss_before)) KiB"
else
    echo "view_input: a sanitized build: memory not checked"
fi

# ---- What the receiver does not read -------------------------------------------------------------

printf '\377\377\377 garbage' >"$tmp/garbage"
expect 400 "garbage" "$(post_otlp "$OTLP_HTTP" "$tmp/garbage")"
grep -aq 'google.rpc.BadRequest' "$tmp/answer" || fail "400 without a BadRequest detail"
expect 415 "text/plain" "$(curl -s -o "$tmp/answer" -w '%{http_code}' -X POST \
    -H 'Content-Type: text/plain' --data-binary @"$tmp/garbage" "$OTLP_HTTP/v1/traces")"
expect 415 "Content-Encoding: br" "$(post_otlp "$OTLP_HTTP" "$tmp/garbage" -H 'Content-Encoding: br')"
expect 415 "Zipkin thrift" "$(curl -s -o "$tmp/answer" -w '%{http_code}' -X POST \
    -H 'Content-Type: application/x-thrift' --data-binary @"$tmp/garbage" "$UI/api/v2/spans")"

# ---- The gate -----------------------------------------------------------------------------------------

printf '' >"$tmp/empty" # an empty request: what it takes to pass is the gate
port=${OTLP_HTTP##*:}
expect 403 "foreign Origin" "$(post_otlp "$OTLP_HTTP" "$tmp/empty" -H 'Origin: http://evil.example')"
expect 403 "rebound Host" "$(post_otlp "$OTLP_HTTP" "$tmp/empty" -H "Host: evil.example:$port")"
expect 403 "rebound Host, UI" "$(curl -s -o "$tmp/answer" -w '%{http_code}' \
    -H "Host: evil.example:${UI##*:}" "$UI/")"
expect 200 "localhost" "$(post_otlp "$OTLP_HTTP" "$tmp/empty" -H "Host: localhost:$port")"
# The CORS preflight of a browser application at an allowed origin, then its POST.
status=$(curl -s -o /dev/null -D "$tmp/h" -w '%{http_code}' -X OPTIONS -H "Origin: $ALLOWED" \
    -H 'Access-Control-Request-Method: POST' -H 'Access-Control-Request-Headers: content-type' \
    "$OTLP_HTTP/v1/traces")
expect 204 "preflight" "$status"
grep -qi "^Access-Control-Allow-Origin: $ALLOWED" "$tmp/h" || fail "preflight: no grant"
grep -qi '^Access-Control-Allow-Methods:.*POST' "$tmp/h" || fail "preflight: POST not allowed"
expect 200 "allowed origin" "$(post_otlp "$OTLP_HTTP" "$tmp/empty" -H "Origin: $ALLOWED")"
curl -s -o /dev/null -D "$tmp/h" -X OPTIONS -H 'Origin: http://evil.example' \
    -H 'Access-Control-Request-Method: POST' "$OTLP_HTTP/v1/traces"
grep -qi '^Access-Control-Allow-Origin' "$tmp/h" && fail "a preflight of another origin was granted"
view_stop TERM
[ "$(spans_in "$tmp/traces.db")" = 0 ] || fail "refused requests stored spans"

# ---- The token ----------------------------------------------------------------------------------------

view_start --db "$tmp/traces.db" --token "$TOKEN"
expect 401 "no token" "$(post_otlp "$OTLP_HTTP" "$tmp/empty")"
expect 401 "wrong token" "$(post_otlp "$OTLP_HTTP" "$tmp/empty" -H 'Authorization: Bearer nope')"
expect 200 "token" "$(post_otlp "$OTLP_HTTP" "$tmp/empty" -H "Authorization: Bearer $TOKEN")"
expect 401 "API without the token" "$(curl -s -o "$tmp/answer" -w '%{http_code}' "$UI/api/services")"
expect 200 "the UI's files without it" "$(curl -s -o "$tmp/answer" -w '%{http_code}' "$UI/")"
view_stop TERM

view_done
