// serve_check.js - `otelc serve` as real processes on 127.0.0.1 (run by
// serve.sh): two instances, A with B as its downstream, and a receiver that
// records what POST /w3c/test sends it. Checks the answers, then stops both
// with SIGTERM and checks the spans they flushed to their files.
//
// usage: node serve_check.js OTELC TMPDIR JUNIT_REPORT
'use strict';
const fs = require('fs');
const path = require('path');
const lib = require('./serve_lib.js');

const [otelc, tmp, junitReport] = process.argv.slice(2);
const check = lib.checker('serve');

const T = '4bf92f3577b34da6a3ce929d0e0e4736';
const P = '00f067aa0ba902b7';
const VALID = `00-${T}-${P}-01`;

// ---- Plain endpoints ----------------------------------------------------------------

async function basics(a) {
  const h = await lib.request(`${a.url}/health`);
  check(h.status === 200 && h.json && h.json.status === 'ok', '/health', h);
  check(/application\/json/.test(h.headers['content-type'] || ''), '/health content type', h.headers);

  const fresh = await lib.request(`${a.url}/trace-context`);
  const j = fresh.json || {};
  check(fresh.status === 200 && /^[0-9a-f]{32}$/.test(j.trace_id) && j.trace_id !== T &&
        /^[0-9a-f]{16}$/.test(j.span_id) && /^0[13]$/.test(j.flags) && j.sampled === true &&
        j.traceparent === `00-${j.trace_id}-${j.span_id}-${j.flags}`, '/trace-context without a parent', j);
  check(fresh.headers.traceresponse === j.traceparent, 'traceresponse names the server span',
        fresh.headers);

  const cont = await lib.request(`${a.url}/trace-context`,
                                 {headers: {traceparent: VALID, tracestate: 'vendor=x'}});
  const c = cont.json || {};
  check(c.trace_id === T && c.span_id !== P && /^[0-9a-f]{16}$/.test(c.span_id) && c.flags === '01' &&
        c.tracestate === 'vendor=x', '/trace-context continues the incoming trace', c);
  const unsampled = await lib.request(`${a.url}/trace-context`, {headers: {traceparent: `00-${T}-${P}-00`}});
  check(unsampled.json && unsampled.json.trace_id === T && unsampled.json.flags === '00',
        '/trace-context keeps the unsampled flag', unsampled.json);

  const nf = await lib.request(`${a.url}/no/such/route`);
  check(nf.status === 404 && nf.json && typeof nf.json.error === 'string', 'unknown route: 404', nf);
  const wrong = await lib.request(`${a.url}/health`, {method: 'POST', body: '{}'});
  check(wrong.status === 405 && wrong.headers.allow === 'GET', 'wrong method: 405 with Allow', wrong);
  return c;
}

async function badBodies(a) {
  for (const route of ['/build', '/test', '/benchmark', '/w3c/test']) {
    const r = await lib.postJson(`${a.url}${route}`, '{"steps": [1, 2');
    check(r.status === 400 && r.json && /invalid JSON/.test(r.json.error), `${route}: bad JSON is 400`, r);
  }
  const big = await lib.postJson(`${a.url}/build`, '['.padEnd(1200000, ' '));
  check(big.status === 413 && big.json, 'a body over 1 MiB is 413', big.status);
  const shapes = [
    ['/w3c/test', '{"url": "http://127.0.0.1:1/"}'],
    ['/w3c/test', '[{"arguments": 1}]'],
    ['/w3c/test', '[{"url": 5}]'],
    ['/benchmark', '{"iterations": -1}'],
    ['/benchmark', '{"iterations": 1.5}'],
    ['/benchmark', '[]'],
    ['/build', '"make"'],
    ['/build', '[{"name": "x", "command": "true", "colour": "red"}]'],
    ['/build', '[]'],
    ['/test', '{"command": "true"}'],
    ['/test', '{"command": "true", "report": "r.xml", "timeout": "soon"}'],
  ];
  for (const [route, body] of shapes) {
    const r = await lib.postJson(`${a.url}${route}`, body);
    check(r.status === 400 && r.json && typeof r.json.error === 'string' && r.json.error.length > 0,
          `${route} ${body}: 400 with a message`, r);
  }
  const id = await lib.request(`${a.url}/users/abc`);
  check(id.status === 400, '/users/abc: 400', id);
  await hostile(a);
}

// Inputs meant to break a parser or the service: each gets a 4xx/502 answer, none a crash.
async function hostile(a) {
  const cases = [
    ['/w3c/test', '['.repeat(100) + ']'.repeat(100), 400],
    ['/w3c/test', '[{"url": "http://127.0.0.1:1/\u0000x", "arguments": 1}]', 400],
    ['/w3c/test', '[{"url": "file:///etc/passwd", "arguments": 1}]', 502],
    ['/w3c/test', '[{"url": "", "arguments": 1}]', 502],
    ['/w3c/test', Buffer.from([0x5b, 0x22, 0xff, 0xfe, 0x22, 0x5d]), 400],
    ['/benchmark', '{"iterations": 1e300}', 400],
    ['/benchmark', '{"threads": 100000}', 400],
    ['/test', '{"command": "\u0000", "report": "x"}', 400],
    ['/build', '{"steps": [{"name": "a", "command": "true", "depends_on": ["a"]}]}', 400],
    ['/build', '\ufeff', 400],
  ];
  for (const [route, body, want] of cases) {
    const r = await lib.postJson(`${a.url}${route}`, body);
    check(r.status === want && r.json, `${route} ${String(body).slice(0, 40)}: ${want}`, r.status);
  }
  const long = await lib.request(`${a.url}/users/${'9'.repeat(5000)}`);
  check(long.status === 400 || long.status === 414, 'a very long id is refused', long.status);
  // Many at once: each connection has its own thread, SQLite connection and spans.
  const many = await Promise.all(Array.from({length: 24}, (_, i) =>
    lib.request(`${a.url}/users/${1 + i % 3}`)));
  check(many.every(r => r.status === 200 && r.json.downstream.status === 200), '24 concurrent /users requests',
        many.map(r => r.status));
  const health = await lib.request(`${a.url}/health`);
  check(health.status === 200, 'still serving after the hostile inputs', health.status);
}

async function benchmark(a) {
  const r = await lib.postJson(`${a.url}/benchmark`, '{"iterations": 2000, "warmup": 100}');
  const j = r.json || {};
  check(r.status === 200 && j.iterations === 2000 && j.warmup === 100 && j.threads === 1,
        '/benchmark echoes its parameters', j);
  for (const k of ['sampled', 'unsampled', 'disabled'])
    check(j[k] && j[k].spans === 2000 && j[k].ns_per_span > 0 && j[k].spans_per_s > 0,
          `/benchmark ${k} figures`, j[k]);
  check('export' in j, '/benchmark has the export key', j);
}

// ---- /users/{id}: SQLite, then the downstream (B) --------------------------------------

async function users(a) {
  const tp = `00-${'ab'.repeat(16)}-${'cd'.repeat(8)}-01`;
  const r = await lib.request(`${a.url}/users/2`, {headers: {traceparent: tp}});
  const j = r.json || {};
  check(r.status === 200 && j.id === 2 && j.name === 'Grace Hopper' && j.email === 'grace@example.com',
        '/users/2 from SQLite', j);
  const d = j.downstream || {};
  check(d.status === 200 && d.body && d.body.id === 2 && d.body.name === 'Grace Hopper' &&
        /\/users\/2$/.test(d.url), '/users/2 includes the downstream answer', d);
  const missing = await lib.request(`${a.url}/users/999`);
  check(missing.status === 404 && missing.json && /999/.test(missing.json.error), '/users/999: 404', missing);
  return 'ab'.repeat(16);
}

// ---- /build and /test: otelc run and otelc junit as children -----------------------------

async function buildAndTest(a) {
  const steps = [
    {name: 'compile', command: 'echo compiled > built.txt', type: 'build'},
    {name: 'check', command: ['test', '-f', 'built.txt'], depends_on: ['compile']},
  ];
  const b = await lib.postJson(`${a.url}/build`, JSON.stringify(steps));
  const j = b.json || {};
  check(b.status === 200 && j.result === 'success' && j.steps && j.steps.length === 2 &&
        j.steps.every(s => s.result === 'success'), '/build runs the steps', j);
  const f = await lib.postJson(`${a.url}/build`, JSON.stringify([{name: 'fails', command: 'exit 3'}]));
  check(f.status === 200 && f.json && f.json.result === 'failure' && f.json.steps[0].exit_code === 3,
        '/build reports a failing step', f.json);

  const t = await lib.postJson(`${a.url}/test`,
                             JSON.stringify({command: 'echo testing; exit 1', report: junitReport}));
  const tj = t.json || {};
  check(t.status === 200 && tj.command && tj.command.exit_code === 1 && tj.command.output === 'testing\n' &&
        tj.report && tj.report.tests === 5 && tj.report.failed === 1 && tj.report.passed === 2,
        '/test runs the command and imports the report', tj);
  const m = await lib.postJson(`${a.url}/test`,
                             JSON.stringify({command: 'true', report: 'no-such-report.xml'}));
  check(m.status === 422 && m.json && m.json.command && m.json.command.exit_code === 0,
        '/test with a missing report: 422', m);
  return {build: j.trace_id, test: tj.report && tj.report.trace_id};
}

// ---- POST /w3c/test --------------------------------------------------------------------

// Run one case: two calls to the receiver; returns what it got for them.
async function w3c(a, recv, name, headers) {
  const args = [{name, n: 1, nested: {list: [1, 'two', null, true]}}, 'second'];
  const body = JSON.stringify(args.map((arg, i) => ({url: `${recv.url}/cb/${name}/${i}`, arguments: arg})));
  const r = await lib.postJson(`${a.url}/w3c/test`, body, headers);
  const calls = recv.got.filter(g => g.path.startsWith(`/cb/${name}/`));
  check(r.status === 200, `w3c ${name}: 200`, r);
  check(calls.length === 2 && calls[0].path.endsWith('/0') && calls[1].path.endsWith('/1'),
        `w3c ${name}: both calls made, in order, before the answer`, calls.map(c => c.path));
  calls.forEach((c, i) => {
    check(c.method === 'POST' && /^application\/json/.test(c.headers['content-type'] || '') &&
          JSON.stringify(JSON.parse(c.body)) === JSON.stringify(args[i]),
          `w3c ${name}: call ${i} posts its arguments as JSON`, c.body);
    const tps = [];
    for (let k = 0; k < c.raw.length; k += 2) if (c.raw[k].toLowerCase() === 'traceparent') tps.push(c.raw[k + 1]);
    check(tps.length === 1, `w3c ${name}: exactly one traceparent per call`, tps);
    c.tp = lib.parseTraceparent(tps[0]);
    check(c.tp !== null, `w3c ${name}: a valid version-00 traceparent`, tps[0]);
  });
  return calls.length === 2 && calls[0].tp && calls[1].tp ? calls : null;
}

async function w3cCases(a, recv) {
  const continued = (calls, name, flags) => {
    check(calls[0].tp.traceId === T && calls[1].tp.traceId === T, `w3c ${name}: same trace-id`);
    check(calls[0].tp.parentId !== P && calls[1].tp.parentId !== P &&
          calls[0].tp.parentId !== calls[1].tp.parentId, `w3c ${name}: a new parent-id per call`);
    check(calls.every(c => c.tp.flags === flags), `w3c ${name}: flags ${flags}`, calls.map(c => c.tp.flags));
  };
  const restarted = (calls, name) => {
    check(calls[0].tp.traceId !== T && calls[0].tp.traceId === calls[1].tp.traceId,
          `w3c ${name}: a new trace (same for both calls)`, calls.map(c => c.tp));
    check(calls.every(c => c.headers.tracestate === undefined), `w3c ${name}: tracestate dropped`,
          calls.map(c => c.headers.tracestate));
  };
  const tracestate = (calls, name, want) =>
    check(calls.every(c => c.headers.tracestate === want), `w3c ${name}: tracestate ${want}`,
          calls.map(c => c.headers.tracestate));
  const members = n => Array.from({length: n}, (_, i) => `k${i}=v${i}`).join(',');
  let c;

  if ((c = await w3c(a, recv, 'valid', {traceparent: VALID, tracestate: 'foo=1,bar=2'}))) {
    continued(c, 'valid', '01');
    tracestate(c, 'valid', 'foo=1,bar=2');
  }
  if ((c = await w3c(a, recv, 'unsampled', {traceparent: `00-${T}-${P}-00`}))) continued(c, 'unsampled', '00');
  if ((c = await w3c(a, recv, 'higher-version',
                     {traceparent: `cc-${T}-${P}-01-what-the-future-will-be-like`, tracestate: 'foo=1'}))) {
    continued(c, 'higher-version', '01');
    tracestate(c, 'higher-version', 'foo=1');
  }
  const malformed = {
    'short-flags': `00-${T}-${P}-0`, 'upper-case': `00-${T.toUpperCase()}-${P}-01`,
    'zero-trace-id': `00-${'0'.repeat(32)}-${P}-01`, 'zero-parent-id': `00-${T}-${'0'.repeat(16)}-01`,
    'version-ff': `ff-${T}-${P}-01`, 'trailing-data-v00': `00-${T}-${P}-01-extra`,
    'bad-separator': `00_${T}_${P}_01`,
  };
  for (const [name, tp] of Object.entries(malformed))
    if ((c = await w3c(a, recv, name, {traceparent: tp, tracestate: 'foo=1'}))) restarted(c, name);
  if ((c = await w3c(a, recv, 'no-traceparent', {tracestate: 'foo=1'}))) restarted(c, 'no-traceparent');
  if ((c = await w3c(a, recv, 'duplicate-traceparent',
                     {traceparent: [VALID, `00-${'1'.repeat(32)}-${P}-01`], tracestate: 'foo=1'})))
    restarted(c, 'duplicate-traceparent');
  if ((c = await w3c(a, recv, 'tracestate-32', {traceparent: VALID, tracestate: members(32)}))) {
    continued(c, 'tracestate-32', '01');
    tracestate(c, 'tracestate-32', members(32));
  }
  for (const [name, ts] of [['tracestate-33', members(33)], ['tracestate-upper-key', 'foo=1,BAR=2'],
                            ['tracestate-bad-value', 'foo=a=b'],
                            ['tracestate-no-equals', 'foo']]) {
    if ((c = await w3c(a, recv, name, {traceparent: VALID, tracestate: ts}))) {
      continued(c, name, '01');
      tracestate(c, name, undefined);
    }
  }
  // A key given twice: the list is inherited without the later member (W3C Level 2 test suite).
  if ((c = await w3c(a, recv, 'tracestate-duplicate-key', {traceparent: VALID, tracestate: 'foo=1,bar=2,foo=3'}))) {
    continued(c, 'tracestate-duplicate-key', '01');
    tracestate(c, 'tracestate-duplicate-key', 'foo=1,bar=2');
  }
  if ((c = await w3c(a, recv, 'tracestate-two-headers', {traceparent: VALID, tracestate: ['foo=1', 'bar=2']}))) {
    continued(c, 'tracestate-two-headers', '01');
    tracestate(c, 'tracestate-two-headers', 'foo=1,bar=2');
  }
  const dead = await lib.postJson(`${a.url}/w3c/test`,
                                 JSON.stringify([{url: 'http://127.0.0.1:1/x', arguments: 1}]));
  check(dead.status === 502 && dead.json && dead.json.calls[0].status === 0, 'w3c: an unreachable url: 502', dead);
}

// ---- Spans --------------------------------------------------------------------------------

function checkSpans(spans, ids) {
  const inTrace = t => spans.filter(s => s.traceId === t);
  const user = inTrace(ids.users);
  const [aServer, bServer] = ['a', 'b'].map(x => user.find(s => s.kind === 2 && s.file.endsWith(`/${x}.jsonl`)));
  const client = user.find(s => s.kind === 3 && s.scope === 'otelc.instrument.curl');
  const sql = user.filter(s => s.scope === 'otelc.instrument.sqlite');
  const ok = check(aServer && bServer && client && sql.length === 2, '/users: spans of both hops',
                   lib.describe(user));
  if (ok) {
    check(aServer.name === 'GET /users/{id}' && bServer.name === 'GET /users/{id}' &&
          aServer.attrs['http.route'] === '/users/{id}', '/users: server spans named by the route');
    check(aServer.parentSpanId === 'cd'.repeat(8), '/users: A continues the caller', aServer.parentSpanId);
    check(client.parentSpanId === aServer.spanId && client.file.endsWith('/a.jsonl'),
          '/users: the downstream call is a child of A');
    check(bServer.parentSpanId === client.spanId, '/users: B is a child of A\'s call', lib.describe(user));
    check(sql.some(s => s.parentSpanId === aServer.spanId) && sql.some(s => s.parentSpanId === bServer.spanId) &&
          sql.every(s => s.kind === 3 && s.attrs['db.system.name'] === 'sqlite'),
          '/users: a SQL span under each server span', lib.describe(sql));
  }
  const build = inTrace(ids.build);
  const bs = build.find(s => s.name === 'POST /build'), run = build.find(s => s.name === 'RUN build');
  check(bs && run && run.parentSpanId === bs.spanId && build.filter(s => s.parentSpanId === (run && run.spanId)).length === 2,
        '/build: otelc run under the request span, steps under it', lib.describe(build));
  const test = inTrace(ids.test);
  const ts = test.find(s => s.name === 'POST /test');
  const cmd = test.find(s => s.name === 'test command'), junit = test.find(s => s.name === 'otelc junit');
  check(ts && cmd && junit && cmd.parentSpanId === ts.spanId && junit.parentSpanId === ts.spanId &&
        test.some(s => s.attrs['test.case.name']), '/test: command and report under the request span',
        lib.describe(test));
  const valid = inTrace(T).filter(s => s.name === 'POST /w3c/test' && s.parentSpanId === P);
  check(valid.length >= 4, '/w3c/test: server spans continue the incoming trace', valid.length);
  const nf = spans.find(s => s.kind === 2 && s.attrs['url.path'] === '/no/such/route');
  check(nf && nf.name === 'GET' && nf.attrs['http.response.status_code'] === 404 && !('http.route' in nf.attrs),
        'an unknown route: span "GET" without http.route', nf);
}

// SIGTERM during a build: the build is cancelled, its request still gets the answer.
async function stopDuringBuild(b) {
  const marker = path.join(tmp, 'slow-started');
  const slow = lib.postJson(`${b.url}/build`,
                           JSON.stringify([{name: 'slow', command: `touch ${marker}; sleep 30`}]));
  for (let i = 0; i < 200 && !fs.existsSync(marker); i++) await new Promise(r => setTimeout(r, 50));
  const code = await b.stop();
  const r = await slow;
  check(code === 0 && r.status === 200 && r.json && r.json.result === 'cancellation' &&
        r.json.steps[0].exit_code === 143, 'a stop cancels a running build and still answers', [code, r.json]);
}

async function main() {
  const b = await lib.startServe(otelc, [], {spanFile: path.join(tmp, 'b.jsonl'), logFile: path.join(tmp, 'b.log')});
  const a = await lib.startServe(otelc, ['--downstream', `${b.url}/users/{id}`, '--db', `sqlite:${tmp}/a.db`],
                                 {spanFile: path.join(tmp, 'a.jsonl'), logFile: path.join(tmp, 'a.log')});
  const recv = await lib.startReceiver();
  const ids = {};
  try {
    await basics(a);
    await badBodies(a);
    await benchmark(a);
    ids.users = await users(a);
    Object.assign(ids, await buildAndTest(a));
    await w3cCases(a, recv);
    await stopDuringBuild(b);
  } finally {
    await recv.close();
    const codes = [await a.stop(), await b.stop()];
    check(codes[0] === 0 && codes[1] === 0, 'SIGTERM stops both cleanly (exit 0)', codes);
  }
  check(fs.existsSync(`${tmp}/a.db`), '--db sqlite:PATH creates the file');
  checkSpans(lib.loadSpans(path.join(tmp, 'a.jsonl'), path.join(tmp, 'b.jsonl')), ids);
  if (check.failures()) {
    for (const log of ['a.log', 'b.log']) console.error(`---- ${log}\n${fs.readFileSync(path.join(tmp, log), 'utf8').slice(-3000)}`);
    process.exit(1);
  }
  console.log(`serve: all ${check.passed()} checks passed`);
}

main().catch(e => {
  console.error(`serve: ${e.stack || e}`);
  process.exit(1);
});
