#!/bin/sh
# otelc exec with real commands: a nested make, failures, signals, SIGTERM
# forwarding, {{traceparent}}, TRACEPARENT from the environment, secrets,
# timeouts, "first, do no harm" and startup tracing. Spans go through the
# file exporter and are checked with otlp_json_assert.js.
#
# usage: sh tests/integration/cli_exec.sh BUILD_DIR   (exit 77: skipped)
set -u

suite=cli_exec
# shellcheck source=tests/integration/cli_lib.sh
. "$(dirname "$0")/cli_lib.sh"
command -v make >/dev/null 2>&1 || { echo "cli_exec: make not found; skipped"; exit 77; }

# ---- a nested make: parent and children across processes, one trace ----------
mkdir "$tmp/mk"
cat >"$tmp/mk/Makefile" <<'MK'
all: a b
a:
	@$(OTELC) exec --name compile-a -- sh -c 'echo compiled a'
b:
	@$(OTELC) exec --name compile-b -- true
MK
out nested
"$OTELC" exec --name build -- make -s -C "$tmp/mk" OTELC="$OTELC" >"$tmp/nested.out" ||
    fail "nested make exited $?"
grep -q "compiled a" "$tmp/nested.out" || fail "nested make: the command's stdout was lost"
check nested 'spans.length === 3' \
    'one("build").parentSpanId === ""' \
    'one("compile-a").parentSpanId === one("build").spanId' \
    'one("compile-b").parentSpanId === one("build").spanId' \
    'spans.every(s => s.traceId === one("build").traceId)' \
    'one("build").attrs["process.executable.name"] === "make"' \
    'one("build").attrs["process.exit.code"] === 0 && one("build").status === 0' \
    'one("compile-a").start >= one("build").start && one("compile-a").end <= one("build").end' \
    'typeof one("build").attrs["otelc.process.cpu.user_time"] === "number"' \
    'typeof one("build").attrs["otelc.process.cpu.system_time"] === "number"' \
    'one("build").attrs["otelc.process.memory.max_rss"] > 0' \
    'one("compile-a").attrs["process.command_args"].join(" ") === "sh -c echo compiled a"'

# ---- a failing command: ERROR status, otelc exits with its code ----------------
out failing
"$OTELC" exec --name failing -- sh -c 'exit 3'
rc=$?
[ "$rc" -eq 3 ] || fail "failing command: otelc exited $rc, expected 3"
check failing 'one("failing").status === 2' 'one("failing").attrs["process.exit.code"] === 3' \
    'one("failing").message === "exit code 3"'

# ---- killed by a signal: 128+N, signal recorded -----------------------------------
out killed
"$OTELC" exec --name killed -- sh -c 'kill -9 $$'
rc=$?
[ "$rc" -eq 137 ] || fail "killed command: otelc exited $rc, expected 137"
check killed 'one("killed").status === 2' \
    'one("killed").attrs["otelc.process.signal.number"] === 9' \
    'one("killed").attrs["otelc.process.signal.name"] === "SIGKILL"' \
    '!("process.exit.code" in one("killed").attrs)'

# ---- SIGTERM sent to otelc reaches the command ------------------------------------
out forwarded
"$OTELC" exec --name forwarded -- sh -c \
    "trap 'echo got TERM >\"$tmp/term\"; exit 42' TERM; : >\"$tmp/ready\"; while :; do sleep 0.02; done" &
pid=$!
i=0
while [ ! -e "$tmp/ready" ] && [ $i -lt 500 ]; do sleep 0.02; i=$((i + 1)); done
kill -TERM $pid
wait $pid
rc=$?
[ "$rc" -eq 42 ] || fail "SIGTERM forwarding: otelc exited $rc, expected 42"
grep -q "got TERM" "$tmp/term" 2>/dev/null || fail "SIGTERM was not forwarded to the command"
check forwarded 'one("forwarded").attrs["process.exit.code"] === 42'

# ---- {{traceparent}} and TRACEPARENT for the child ---------------------------------
out subst
"$OTELC" exec --name subst -- sh -c 'echo "$1" >"$2/arg"; echo "$TRACEPARENT" >"$2/env"' \
    sh '{{traceparent}}' "$tmp"
cmp -s "$tmp/arg" "$tmp/env" || fail "{{traceparent}} differs from TRACEPARENT given to the child"
tp=$(cat "$tmp/arg")
check subst "'$tp' === '00-' + one('subst').traceId + '-' + one('subst').spanId + '-03'"

# ---- TRACEPARENT from the environment is honoured ----------------------------------
out incoming
TRACEPARENT=00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01 \
    "$OTELC" exec --name incoming -- true
check incoming 'one("incoming").traceId === "0af7651916cd43dd8448eb211c80319c"' \
    'one("incoming").parentSpanId === "b7ad6b7169203331"'

# ---- no secret from a command line reaches the output ------------------------------
out secrets
"$OTELC" exec --name secrets -- sh -c 'true' sh --password=hunter2 --token s3cr3tTok \
    'https://alice:pa55w0rd@example.com/x?api_key=k3yk3y&page=2' token=tk4tk4 \
    'curl -H "Authorization: Bearer b34r3r"' --client-secret=cl13nt
for secret in hunter2 s3cr3tTok alice pa55w0rd k3yk3y tk4tk4 b34r3r cl13nt; do
    grep -q "$secret" "$tmp/secrets.jsonl" && fail "secret \"$secret\" appears in the exported spans"
done
check secrets 'one("secrets").attrs["process.command_args"].includes("--password=REDACTED")' \
    'one("secrets").attrs["process.command_args"].includes("https://REDACTED:REDACTED@example.com/x?api_key=REDACTED&page=2")' \
    'one("secrets").resource["process.command_args"].includes("--password=REDACTED")'

# ---- --timeout: TERM, then KILL after the grace period; exit 124 -------------------
out timeout
"$OTELC" exec --name slow --timeout 200ms --kill-after 200ms -- sh -c 'trap "" TERM; sleep 3; sleep 3'
rc=$?
[ "$rc" -eq 124 ] || fail "--timeout: otelc exited $rc, expected 124"
check timeout 'one("slow").attrs["otelc.process.timed_out"] === true' \
    'one("slow").attrs["otelc.process.signal.name"] === "SIGKILL"' \
    'one("slow").status === 2 && /timed out/.test(one("slow").message)'

# ---- command not found: 127 and a clear message, like a shell -----------------------
out notfound
"$OTELC" exec -- otelc-no-such-command-xyz 2>"$tmp/nf.err"
rc=$?
[ "$rc" -eq 127 ] || fail "missing command: otelc exited $rc, expected 127"
grep -q "otelc-no-such-command-xyz: command not found" "$tmp/nf.err" ||
    fail "missing command: no clear message"
check notfound 'spans.length === 1 && spans[0].status === 2' \
    'spans[0].attrs["process.exit.code"] === 127'

# ---- first, do no harm: no exporter, identical output, nothing printed ---------------
cmd='echo out; echo err >&2; printf "%s\n" "${TRACEPARENT-none}" "${OTELC_TRACE_STARTUP-none}"; exit 7'
(unset OTEL_TRACES_EXPORTER OTELC_FILE_PATH
 cd "$tmp" && sh -c "$cmd" >direct.out 2>direct.err; echo $? >direct.rc
 "$OTELC" exec -- sh -c "$cmd" >otelc.out 2>otelc.err; echo $? >otelc.rc)
cmp -s "$tmp/direct.out" "$tmp/otelc.out" || fail "no exporter: stdout differs"
cmp -s "$tmp/direct.err" "$tmp/otelc.err" || fail "no exporter: stderr differs (otelc printed something?)"
cmp -s "$tmp/direct.rc" "$tmp/otelc.rc" || fail "no exporter: exit status differs"
[ -e "$tmp/otelc-traces.jsonl" ] && fail "no exporter: a trace file was written"

# ---- an unreachable OTLP endpoint does not change the exit status -------------------
(OTEL_TRACES_EXPORTER=otlp OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:1 \
     OTELC_CLI_EXPORT_TIMEOUT=500 OTEL_LOG_LEVEL=none "$OTELC" exec -- sh -c 'exit 5')
rc=$?
[ "$rc" -eq 5 ] || fail "unreachable backend: otelc exited $rc, expected 5"

# ---- startup tracing: the command's own SDK reports its startup ----------------------
out startup
"$OTELC" exec --name svc --trace-startup -- "$OTELC" exec --name inner -- true
check startup 'one("startup").parentSpanId === one("svc").spanId' \
    'one("startup").traceId === one("svc").traceId' \
    'one("configuration load").parentSpanId === one("startup").spanId' \
    'one("resource detection").parentSpanId === one("startup").spanId' \
    'one("exporter connectivity check").attrs["otelc.exporter"] === "file"' \
    'one("exporter connectivity check").attrs["otelc.startup.connect.ok"] === true' \
    'one("inner").parentSpanId === one("svc").spanId' \
    'one("configuration load").attrs["otelc.config.source"] === "environment"'

out startup_otlp
OTELC_TRACE_STARTUP=1 OTEL_TRACES_EXPORTER=file,otlp OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:1 \
    OTELC_CLI_EXPORT_TIMEOUT=300 OTEL_LOG_LEVEL=none "$OTELC" exec --name probe -- true
check startup_otlp \
    'named("exporter connectivity check").some(s => s.attrs["otelc.exporter"] === "otlp" && s.attrs["otelc.startup.connect.ok"] === false && s.attrs["server.port"] === 1 && s.status === 2)'

# ---- usage errors and help --------------------------------------------------------------
"$OTELC" --help >/dev/null || fail "otelc --help failed"
"$OTELC" --version | grep -q '^otelc [0-9]' || fail "otelc --version"
"$OTELC" help exec | grep -q "examples:" || fail "otelc help exec has no examples"
"$OTELC" exec --help | grep -q "{{traceparent}}" || fail "otelc exec --help"
"$OTELC" no-such-subcommand 2>/dev/null
[ $? -eq 2 ] || fail "unknown subcommand must exit 2"
"$OTELC" exec --no-such-flag -- true 2>/dev/null
[ $? -eq 2 ] || fail "unknown flag must exit 2"
"$OTELC" exec 2>/dev/null
[ $? -eq 2 ] || fail "exec without a command must exit 2"

finish
