#!/bin/sh
# otelc run with real pipelines: sequential and DAG runs, allowed and
# pipeline-failing failures with skipped dependents, a timeout, declared
# outputs hashed, `otelc exec` nested in a step, cancellation by SIGTERM,
# secrets, and invalid pipelines refused before anything runs. Spans go
# through the file exporter and are checked with otlp_json_assert.js.
#
# usage: sh tests/integration/cli_run.sh BUILD_DIR   (exit 77: skipped)
set -u

suite=cli_run
# shellcheck source=tests/integration/cli_lib.sh
. "$(dirname "$0")/cli_lib.sh"
cd "$tmp" || exit 1
export OTELC

# run NAME ARGS... : otelc run with the trace in NAME.jsonl, stderr in NAME.err; sets rc
run() {
    name=$1
    shift
    OTELC_FILE_PATH="$tmp/$name.jsonl" "$OTELC" run "$@" >"$tmp/$name.out" 2>"$tmp/$name.err"
    rc=$?
}

# alive PID : the process exists and is not a zombie (PID 1 in a container may never
# reap the orphans of a killed step, and kill -0 succeeds on a zombie).
alive() {
    state=$(sed -n 's/^[0-9]* (.*) \(.\) .*/\1/p' "/proc/$1/stat" 2>/dev/null)
    [ -n "$state" ] && [ "$state" != Z ] && [ "$state" != X ]
}

# Common to every pipeline trace: one root, every step its child, one trace.
ROOT='spans.filter(s => s.parentSpanId === "").length === 1'
TREE='spans.every(s => s.traceId === spans[0].traceId && (s.kind === 2 ? s.parentSpanId === "" : s.parentSpanId === spans.find(r => r.kind === 2).spanId))'

# ---- declaration order, env, context and outputs --------------------------------
cat >seq.yaml <<'YAML'
name: seq
steps:
  - name: prepare
    type: build
    command: printf 'artifact body\n' > art.bin; echo "$TRACEPARENT" > prepare.tp
    outputs: [art.bin]
  - name: check
    type: test
    command: [sh, -c, 'echo "$GREETING" > check.env; sleep 0.2']
    env:
      GREETING: hello from env
  - name: finish
    command: test -f check.env
YAML
run seq seq.yaml
[ "$rc" -eq 0 ] || fail "seq: exit $rc, expected 0: $(cat seq.err)"
[ "$(cat check.env 2>/dev/null)" = "hello from env" ] || fail "seq: step env not passed"
sum=$(sha256sum art.bin | cut -d' ' -f1)
tp=$(cat prepare.tp 2>/dev/null)
for s in prepare check finish; do
    grep -q "^$s  *success " seq.err || fail "seq: summary row for $s missing: $(cat seq.err)"
done
grep -q 'pipeline "seq": success' seq.err || fail "seq: summary verdict missing"
check seq 'spans.length === 4' "$ROOT" "$TREE" \
    'one("RUN seq").kind === 2' \
    'one("RUN seq").attrs["cicd.pipeline.name"] === "seq"' \
    'one("RUN seq").attrs["cicd.pipeline.result"] === "success"' \
    'one("RUN seq").attrs["cicd.pipeline.action.name"] === "RUN"' \
    '/^[0-9a-f]{32}$/.test(one("RUN seq").attrs["cicd.pipeline.run.id"])' \
    'one("RUN seq").status === 0' \
    '["prepare", "check", "finish"].every(n => one(n).kind === 1 && one(n).attrs["cicd.pipeline.task.name"] === n && one(n).attrs["cicd.pipeline.task.run.result"] === "success" && one(n).attrs["process.exit.code"] === 0 && one(n).attrs["cicd.pipeline.task.run.id"] === one(n).spanId)' \
    'one("prepare").attrs["cicd.pipeline.task.type"] === "build"' \
    'one("check").attrs["cicd.pipeline.task.type"] === "test"' \
    '!("cicd.pipeline.task.type" in one("finish").attrs)' \
    'one("check").start >= one("prepare").end && one("finish").start >= one("check").end' \
    'JSON.stringify(one("check").attrs["process.command_args"]) === JSON.stringify(["sh", "-c", "echo \"$GREETING\" > check.env; sleep 0.2"])' \
    'one("prepare").attrs["process.command_args"][0] === "/bin/sh"' \
    "/^00-[0-9a-f]{32}-[0-9a-f]{16}-0[13]\$/.test(\"$tp\") && \"$tp\".startsWith(\"00-\" + one(\"prepare\").traceId + \"-\" + one(\"prepare\").spanId)" \
    'one("prepare").events.length === 1 && one("prepare").events[0].name === "output"' \
    'one("prepare").events[0].attrs["file.path"] === "art.bin"' \
    'one("prepare").events[0].attrs["file.size"] === 14' \
    "one(\"prepare\").events[0].attrs[\"otelc.file.sha256\"] === \"$sum\""

# ---- a DAG with --jobs 2 and an allowed failure; JSON pipeline and JSON summary ----
cat >dag.json <<'JSON'
{"name": "dag", "steps": [
  {"name": "lint", "command": "sleep 0.4"},
  {"name": "flaky", "command": ["sh", "-c", "sleep 0.4; exit 3"], "allow_failure": true},
  {"name": "package", "command": "true", "depends_on": ["lint", "flaky"]}
]}
JSON
run dag --jobs 2 --output json dag.json
[ "$rc" -eq 0 ] || fail "dag: exit $rc, expected 0 (the failure is allowed): $(cat dag.err)"
node -e '
const s = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
const by = Object.fromEntries(s.steps.map(x => [x.name, x]));
const ok = s.pipeline === "dag" && s.result === "success" && /^[0-9a-f]{32}$/.test(s.trace_id) &&
  by.flaky.result === "failure" && by.flaky.exit_code === 3 && by.flaky.allow_failure === true &&
  by.lint.result === "success" && by.package.result === "success" && s.steps.length === 3;
if (!ok) { console.error(JSON.stringify(s)); process.exit(1); }' "$tmp/dag.out" || fail "dag: JSON summary"
check dag 'spans.length === 4' "$ROOT" "$TREE" \
    'one("RUN dag").attrs["cicd.pipeline.result"] === "success" && one("RUN dag").status === 0' \
    'one("flaky").status === 2 && one("flaky").attrs["cicd.pipeline.task.run.result"] === "failure"' \
    'one("flaky").attrs["process.exit.code"] === 3 && one("flaky").attrs["error.type"] === "3"' \
    'one("lint").start < one("flaky").end && one("flaky").start < one("lint").end' \
    'one("package").start >= one("lint").end && one("package").start >= one("flaky").end' \
    'one("package").attrs["cicd.pipeline.task.run.result"] === "success"'

# ---- a failure that fails the pipeline: dependents and later steps are skipped ----
cat >fail.yaml <<'YAML'
name: fail
steps:
  - name: build
    command: exit 2
  - name: test
    command: touch ran-test
    depends_on: [build]
  - name: docs
    command: touch ran-docs
YAML
run fail fail.yaml
[ "$rc" -eq 1 ] || fail "fail: exit $rc, expected 1"
[ ! -e ran-test ] && [ ! -e ran-docs ] || fail "fail: a step ran after the pipeline failed"
grep -q 'step "build" failure: exit code 2' fail.err || fail "fail: no failure message: $(cat fail.err)"
check fail 'spans.length === 4' "$ROOT" "$TREE" \
    'one("RUN fail").attrs["cicd.pipeline.result"] === "failure" && one("RUN fail").status === 2' \
    'one("build").attrs["cicd.pipeline.task.run.result"] === "failure" && one("build").status === 2' \
    'one("test").attrs["cicd.pipeline.task.run.result"] === "skip" && one("test").status === 0' \
    'one("docs").attrs["cicd.pipeline.task.run.result"] === "skip"' \
    '!("process.exit.code" in one("test").attrs)'
# With --keep-going only the dependents are skipped.
run keep --keep-going fail.yaml
[ "$rc" -eq 1 ] || fail "keep-going: exit $rc, expected 1"
[ ! -e ran-test ] && [ -e ran-docs ] || fail "keep-going: wrong steps ran"
check keep 'one("docs").attrs["cicd.pipeline.task.run.result"] === "success"' \
    'one("test").attrs["cicd.pipeline.task.run.result"] === "skip"'

# A program that does not exist fails its step like a shell would (127), with the reason.
printf 'steps:\n  - {name: ghost, command: [no-such-program-4711, 5]}\n' >ghost.yaml
run ghost ghost.yaml
[ "$rc" -eq 1 ] || fail "ghost: exit $rc, expected 1"
grep -q 'step "ghost" failure: cannot run "no-such-program-4711": No such file or directory' ghost.err ||
    fail "ghost: message: $(cat ghost.err)"
check ghost 'one("ghost").attrs["process.exit.code"] === 127 && one("ghost").status === 2' \
    'JSON.stringify(one("ghost").attrs["process.command_args"]) === JSON.stringify(["no-such-program-4711", "5"])'

# ---- a timeout: TERM reaches the step's whole process group -------------------
cat >slow.yaml <<'YAML'
name: slow
steps:
  - name: hang
    command: echo $$ > hang.pid; sleep 30 & echo $! > sleeper.pid; wait
    timeout: 1s
YAML
start=$(date +%s)
run slow slow.yaml
took=$(($(date +%s) - start))
[ "$rc" -eq 1 ] || fail "timeout: exit $rc, expected 1"
[ "$took" -lt 10 ] || fail "timeout: took ${took}s"
sleep 0.2
alive "$(cat sleeper.pid)" && fail "timeout: the step's background sleep survived"
check slow "$ROOT" \
    'one("hang").attrs["cicd.pipeline.task.run.result"] === "timeout" && one("hang").status === 2' \
    'one("hang").attrs["error.type"] === "timeout" && one("hang").attrs["process.exit.code"] === 143' \
    'one("RUN slow").attrs["cicd.pipeline.result"] === "timeout"' \
    'one("hang").end - one("hang").start < 5000000000n'

# ---- otelc exec inside a step nests under the step span ----------------------
cat >nest.yaml <<'YAML'
name: nest
steps:
  - name: outer
    command: '"$OTELC" exec --name inner -- true'
YAML
run nest nest.yaml
[ "$rc" -eq 0 ] || fail "nest: exit $rc: $(cat nest.err)"
check nest 'spans.length === 3' \
    'one("inner").parentSpanId === one("outer").spanId' \
    'one("outer").parentSpanId === one("RUN nest").spanId' \
    'spans.every(s => s.traceId === one("RUN nest").traceId)'

# ---- TRACEPARENT from the environment: the pipeline joins that trace -------------
TRACEPARENT=00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01 run joined nest.yaml
check joined 'one("RUN nest").traceId === "0af7651916cd43dd8448eb211c80319c"' \
    'one("RUN nest").parentSpanId === "b7ad6b7169203331"'

# ---- cancellation: SIGTERM to otelc reaches the running step --------------------
cat >cancel.yaml <<'YAML'
name: cancel
steps:
  - name: long
    command: sleep 30 & echo $! > long.pid; wait
  - name: after
    command: touch ran-after
YAML
OTELC_FILE_PATH="$tmp/cancel.jsonl" "$OTELC" run cancel.yaml >cancel.out 2>cancel.err &
otelc_pid=$!
i=0
while [ ! -s long.pid ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
kill -TERM "$otelc_pid"
wait "$otelc_pid"
rc=$?
[ "$rc" -eq 1 ] || fail "cancel: exit $rc, expected 1"
[ ! -e ran-after ] || fail "cancel: a step started after cancellation"
sleep 0.2
alive "$(cat long.pid)" && fail "cancel: the step's sleep survived"
check cancel \
    'one("RUN cancel").attrs["cicd.pipeline.result"] === "cancellation"' \
    'one("long").attrs["cicd.pipeline.task.run.result"] === "cancellation" && one("long").status === 2' \
    'one("after").attrs["cicd.pipeline.task.run.result"] === "skip"'

# ---- secrets on a step's command line stay out of the trace ------------------------
cat >secret.yaml <<'YAML'
name: secret
steps:
  - name: deploy
    command: echo deploy --password=hunter2 https://bob:s3cr3t@example.com/x >/dev/null
  - name: login
    command: [echo, --token, tok-9f8e7d, api_key=k-1a2b3c]
YAML
run secret secret.yaml
[ "$rc" -eq 0 ] || fail "secret: exit $rc"
for s in hunter2 s3cr3t tok-9f8e7d k-1a2b3c; do
    grep -q -- "$s" secret.jsonl && fail "secret: \"$s\" leaked into the trace"
done
check secret 'one("deploy").attrs["process.command_args"][2].includes("--password=REDACTED")' \
    'one("login").attrs["process.command_args"][2] === "REDACTED"'

# ---- invalid pipelines: a precise message, exit 3, nothing run or exported ---------
cat >cycle.yaml <<'YAML'
name: cycle
steps:
  - name: a
    command: touch ran-cycle
    depends_on: [b]
  - name: b
    command: touch ran-cycle
    depends_on: [a]
YAML
run cycle cycle.yaml
[ "$rc" -eq 3 ] || fail "cycle: exit $rc, expected 3"
grep -qx 'otelc: cycle.yaml:5:17: step "a": depends_on: dependency cycle: a -> b -> a' cycle.err ||
    fail "cycle: message: $(cat cycle.err)"
cat >unknown.yaml <<'YAML'
name: unknown
steps:
  - name: a
    command: touch ran-cycle
  - name: b
    command: touch ran-cycle
    depends_on: [a, bild]
YAML
run unknown unknown.yaml
[ "$rc" -eq 3 ] || fail "unknown dep: exit $rc, expected 3"
grep -qx 'otelc: unknown.yaml:7:21: step "b": depends_on: unknown step "bild"' unknown.err ||
    fail "unknown dep: message: $(cat unknown.err)"
printf 'steps:\n  - name: a\n    command: touch ran-cycle\n    timeout: soon\n' >badtime.yaml
run badtime badtime.yaml
[ "$rc" -eq 3 ] || fail "bad timeout: exit $rc, expected 3"
grep -q 'badtime.yaml:4:14: step "a": timeout: invalid duration "soon"' badtime.err ||
    fail "bad timeout: message: $(cat badtime.err)"
[ ! -e ran-cycle ] || fail "invalid pipelines: a step ran"
for n in cycle unknown badtime; do
    [ -s "$n.jsonl" ] && fail "$n: spans were exported for an invalid pipeline"
done

# ---- usage errors ----------------------------------------------------------------
"$OTELC" run >/dev/null 2>&1
[ $? -eq 2 ] || fail "run without a file must exit 2"
"$OTELC" run --jobs 0 seq.yaml >/dev/null 2>&1
[ $? -eq 2 ] || fail "--jobs 0 must exit 2"
"$OTELC" run --bogus seq.yaml >/dev/null 2>&1
[ $? -eq 2 ] || fail "an unknown flag must exit 2"
"$OTELC" run missing.yaml >/dev/null 2>&1
[ $? -eq 3 ] || fail "a missing pipeline file must exit 3"

finish
