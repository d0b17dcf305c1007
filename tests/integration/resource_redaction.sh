#!/bin/sh
# Every program's resource records process.command_args; secrets given on
# its command line must not leave the process. Runs examples/hello with
# secret-bearing arguments through the file exporter and checks the export.
#
# usage: sh tests/integration/resource_redaction.sh BUILD-DIR
set -eu

build=$(cd "$1" && pwd)
hello="$build/example_hello"
[ -x "$hello" ] || { echo "resource_redaction: no example_hello in this build"; exit 77; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/otelc-redact.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

OTEL_TRACES_EXPORTER=file OTELC_FILE_PATH="$tmp/out.jsonl" "$hello" \
    --password=hunter2 --token s3cr3tt0ken --db-url=postgres://alice:pa55w0rd@db/x \
    api_key=AKIA0000 --verbose >/dev/null

out="$tmp/out.jsonl"
[ -s "$out" ] || { echo "resource_redaction: FAIL: nothing exported" >&2; exit 1; }
for secret in hunter2 s3cr3tt0ken pa55w0rd alice AKIA0000; do
    if grep -q "$secret" "$out"; then
        echo "resource_redaction: FAIL: '$secret' exported" >&2
        exit 1
    fi
done
grep -q '"process.command_args"' "$out" || { echo "resource_redaction: FAIL: no command args" >&2; exit 1; }
grep -q -- '--verbose' "$out" || { echo "resource_redaction: FAIL: harmless argument lost" >&2; exit 1; }
grep -q 'REDACTED' "$out" || { echo "resource_redaction: FAIL: no REDACTED marker" >&2; exit 1; }
echo "resource_redaction: ok"
