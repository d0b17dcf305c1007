#!/bin/sh
# secrets-audit.sh BUILD_DIR [--docs] - plant secrets where a traced
# program meets them and search every exported byte for each.
#
# The workload: `otelc exec` running commands whose arguments hold a
# password, a token, URL credentials, a query-string token, an Authorization
# line and an API key assignment; tests/integration/secrets_workload.c with
# a SQL literal, a libcurl GET of a URL with user:password@ and ?token= and
# API-key, Authorization and Cookie headers, and (when redis-server and
# hiredis are there) Redis values. Every program exports twice: OTLP/JSON
# lines through the file exporter, and OTLP/HTTP protobuf to
# tests/integration/raw_receiver.js, which keeps the raw bodies. Each secret
# is searched for in both (the secrets are letters and digits: no encoding
# changes them). Controls, harmless values planted beside the secrets, must
# be found in both: they prove the search looks where the spans are.
#
# Prints one line per secret; --docs also puts a table of them into
# docs/reliability.md between its markers. Exits 0 when no secret was found, 1 when one was, 77 when the build
# lacks the workload or node is missing (tests/integration/secrets_audit.sh
# runs it as a test).
set -eu
build=$(cd "$1" && pwd)
docs=${2:-}
root=$(cd "$(dirname "$0")/.." && pwd)
if [ ! -x "$build/secrets_workload" ] || [ ! -x "$build/otelc" ]; then
    echo "secrets-audit: no secrets_workload or otelc in $build: skipped"
    exit 77
fi
command -v node >/dev/null 2>&1 || { echo "secrets-audit: node not installed: skipped"; exit 77; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/otelc-secrets.XXXXXX")
receiver_pid='' redis_pid=''
cleanup() {
    [ -z "$receiver_pid" ] || { exec 3>&-; wait "$receiver_pid" 2>/dev/null || true; }
    [ -z "$redis_pid" ] || redis_stop
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# The receiver: its port on the first line; its stdin open until the end.
mkfifo "$tmp/in"
node "$root/tests/integration/raw_receiver.js" "$tmp/raw.bin" <"$tmp/in" >"$tmp/port" &
receiver_pid=$!
exec 3>"$tmp/in"
i=0
until [ -s "$tmp/port" ]; do
    i=$((i + 1))
    [ $i -lt 100 ] || { echo "secrets-audit: the receiver did not start" >&2; exit 1; }
    sleep 0.1
done
port=$(head -n 1 "$tmp/port")

# Redis when there is a server to start and a build that speaks to it.
redis_port=''
if command -v redis-server >/dev/null 2>&1; then
    # shellcheck source=tests/integration/redis_lib.sh
    . "$root/tests/integration/redis_lib.sh"
    # Descriptor 3, the receiver's input, stays out of the server: the receiver sees its end.
    redis_start "$tmp" 3>&- >/dev/null || redis_port=''
fi

# Each secret: a name, then the value (unique strings nothing else contains).
cat >"$tmp/secrets" <<SECRETS
exec --password=        PwArg7f3c
exec --token            TokArg91ab
exec URL credentials    UrlPwArg55e
exec ?token=            QryArg2d4
exec Authorization      BearArg8c1
exec API_KEY=           EnvKey3b9
curl URL credentials    UrlPw6a2
curl ?token=            QryTok4e7
curl ?api_key=          QryKey0f5
curl X-Api-Key          HdrKey1c8
curl Authorization      HdrBear9d2
curl Cookie             HdrCookie3a1
SQL literal             SqlLit5b6
SECRETS
[ -z "$redis_port" ] || echo "Redis value            RedisVal7e4" >>"$tmp/secrets"
cat >"$tmp/controls" <<CONTROLS
exec argument           CtlArg4d1
curl query parameter    CtlQry6f0
SQL table name          CtlTable2b7
CONTROLS
[ -z "$redis_port" ] || echo "Redis key              CtlKey8a3" >>"$tmp/controls"

export OTEL_TRACES_EXPORTER=otlp,file OTELC_FILE_PATH="$tmp/file.jsonl"
export OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:$port" OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf
export OTEL_SERVICE_NAME=secrets-audit
otelc="$build/otelc"
"$otelc" exec -- true --label=CtlArg4d1 --password=PwArg7f3c --token TokArg91ab
"$otelc" exec -- true https://bob:UrlPwArg55e@example.com/repo.git
"$otelc" exec -- true "https://example.com/x?token=QryArg2d4&page=1"
"$otelc" exec -- true -H "Authorization: Bearer BearArg8c1"
"$otelc" exec -- env API_KEY=EnvKey3b9 true
AUDIT_SQL=SqlLit5b6 \
    AUDIT_URL="http://carol:UrlPw6a2@127.0.0.1:$port/app?token=QryTok4e7&api_key=QryKey0f5&page=CtlQry6f0" \
    AUDIT_HEADERS="X-Api-Key: HdrKey1c8
Authorization: Bearer HdrBear9d2
Cookie: session=HdrCookie3a1" \
    AUDIT_REDIS_PORT=$redis_port AUDIT_REDIS_VALUE=RedisVal7e4 "$build/secrets_workload"
exec 3>&-
wait "$receiver_pid" 2>/dev/null || true
receiver_pid=''

if [ ! -s "$tmp/file.jsonl" ] || [ ! -s "$tmp/raw.bin" ]; then
    echo "secrets-audit: FAIL: nothing was exported" >&2
    exit 1
fi
spans=$(grep -o '"spanId"' "$tmp/file.jsonl" | wc -l)
found=0
{
    echo "| where the secret was planted | found in the OTLP/JSON file | found in the OTLP/HTTP bodies |"
    echo "|---|---:|---:|"
} >"$tmp/report.md"
missed=0
while read -r line; do
    value=${line##* }
    grep -qaF "$value" "$tmp/file.jsonl" && grep -qaF "$value" "$tmp/raw.bin" && continue
    echo "secrets-audit: FAIL: the control ${line% *}($value) was not exported" >&2
    missed=$((missed + 1))
done <"$tmp/controls"
[ "$missed" -eq 0 ] || exit 1
while read -r line; do
    value=${line##* }
    name=$(echo "${line% *}" | sed 's/ *$//')
    in_file=0 in_raw=0
    grep -qaF "$value" "$tmp/file.jsonl" && in_file=1
    grep -qaF "$value" "$tmp/raw.bin" && in_raw=1
    [ $((in_file + in_raw)) -eq 0 ] || found=$((found + 1))
    echo "secrets-audit: $name: file $in_file, OTLP/HTTP $in_raw"
    echo "| $name | $in_file | $in_raw |" >>"$tmp/report.md"
done <"$tmp/secrets"
count=$(wc -l <"$tmp/secrets")
summary="$count planted secrets, $spans spans exported ($(wc -c <"$tmp/file.jsonl") bytes of OTLP/JSON, $(wc -c <"$tmp/raw.bin") bytes of OTLP/HTTP protobuf): $found found"
echo "secrets-audit: $summary"
if [ "$docs" = --docs ]; then
    {
        echo "Secrets audit on $(date -u '+%Y-%m-%d %H:%M') UTC ($(git -C "$root" rev-parse --short HEAD)): $summary."
        echo
        cat "$tmp/report.md"
    } >"$tmp/section.md"
    sh "$root/scripts/doc-section.sh" "$root/docs/reliability.md" '<!-- secrets: begin -->' \
        '<!-- secrets: end -->' "$tmp/section.md"
fi
[ "$found" -eq 0 ]
