#!/bin/sh
# cli_bench.sh - `otelc bench` with small iteration counts: the table, the
# JSON document and its keys, the export run through the file exporter, and
# usage errors. No timing thresholds: shared CI machines vary too much.
#
# usage: sh tests/integration/cli_bench.sh BUILD_DIR   (exit 77: skipped)
set -eu

build=${1:?usage: cli_bench.sh BUILD_DIR}
otelc="$build/otelc"
[ -x "$otelc" ] || {
    echo "cli_bench: $otelc not built: skipped"
    exit 77
}
command -v node >/dev/null 2>&1 || {
    echo "cli_bench: node not installed: skipped"
    exit 77
}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/otelc-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
unset OTEL_TRACES_EXPORTER OTEL_CONFIG_FILE OTEL_SDK_DISABLED

fail() {
    echo "cli_bench: $*" >&2
    exit 1
}

# 1. The table: a row per figure, and no export run without an exporter.
"$otelc" bench --iterations 2000 --warmup 100 >"$tmp/table" 2>"$tmp/table.err" ||
    fail "table run failed: $(cat "$tmp/table.err")"
for row in sampled unsampled disabled; do
    grep -Eq "^$row +[0-9]+\.[0-9] +[0-9]+" "$tmp/table" || fail "no $row row in: $(cat "$tmp/table")"
done
grep -q "^export: no exporter configured" "$tmp/table" || fail "export line missing"

# 2. JSON on two threads: the keys `otelc serve` will return too, and sane values.
"$otelc" bench --iterations=1500 --warmup=0 --threads 2 --output json >"$tmp/json" ||
    fail "json run failed"
node -e '
const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
const assert = require("assert");
assert.deepStrictEqual(Object.keys(r),
    ["iterations", "warmup", "threads", "sampled", "unsampled", "disabled", "export"]);
assert.deepStrictEqual([r.iterations, r.warmup, r.threads], [1500, 0, 2]);
for (const k of ["sampled", "unsampled", "disabled"]) {
  const f = r[k];
  assert.deepStrictEqual(Object.keys(f),
      ["ns_per_span", "spans_per_s", "spans", "dropped", "exported", "failed"]);
  assert.ok(f.ns_per_span > 0 && f.spans_per_s > 0, k);
  assert.strictEqual(f.spans, 3000, k);
}
// Every sampled span is exported or dropped; unsampled and disabled export none.
assert.strictEqual(r.sampled.exported + r.sampled.dropped, 3000);
assert.strictEqual(r.unsampled.exported, 0);
assert.strictEqual(r.disabled.exported, 0);
assert.strictEqual(r.export, null);
' "$tmp/json" || fail "bad JSON: $(cat "$tmp/json")"

# 3. The export run through the configured (file) exporter, drops reported.
OTEL_TRACES_EXPORTER=file OTELC_FILE_PATH="$tmp/spans.jsonl" \
    "$otelc" bench --iterations 3000 --warmup 10 --output json >"$tmp/export" || fail "export run failed"
node -e '
const fs = require("fs"), assert = require("assert");
const r = JSON.parse(fs.readFileSync(process.argv[1], "utf8"));
const e = r.export;
assert.ok(e, "export run missing");
assert.deepStrictEqual(Object.keys(e),
    ["exporter", "seconds", "spans", "exported", "dropped", "failed", "spans_per_s"]);
assert.strictEqual(e.exporter, "file");
assert.strictEqual(e.spans, 3000);
assert.strictEqual(e.exported + e.dropped + e.failed, 3000);
assert.ok(e.exported > 0 && e.seconds > 0 && e.spans_per_s > 0);
// What the exporter says it wrote is in the file.
let n = 0;
for (const line of fs.readFileSync(process.argv[2], "utf8").split("\n"))
  if (line) for (const rs of JSON.parse(line).resourceSpans)
    for (const ss of rs.scopeSpans) n += ss.spans.length;
assert.strictEqual(n, e.exported);
' "$tmp/export" "$tmp/spans.jsonl" || fail "bad export run: $(cat "$tmp/export")"
OTEL_TRACES_EXPORTER=file OTELC_FILE_PATH="$tmp/spans2.jsonl" \
    "$otelc" bench --iterations 500 --warmup 0 >"$tmp/export.table" || fail "export table failed"
grep -Eq "^export \(file\): [0-9]+ spans/s exported; [0-9]+ of 500 spans exported, [0-9]+ dropped" \
    "$tmp/export.table" || fail "no export line in: $(cat "$tmp/export.table")"

# 4. Usage errors.
for args in "--iterations 0" "--threads 65" "--iterations x" "--warmup" "--output xml" "extra"; do
    status=0
    # shellcheck disable=SC2086
    "$otelc" bench $args >/dev/null 2>"$tmp/usage.err" || status=$?
    [ "$status" = 2 ] || fail "'bench $args': exit status $status, expected 2"
    grep -q "otelc bench --help" "$tmp/usage.err" || fail "'bench $args': unclear error"
done
"$otelc" bench --help | grep -q "^usage: otelc bench" || fail "--help prints no usage"

echo "cli_bench: ok"
