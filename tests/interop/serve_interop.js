// serve_interop.js - `otelc serve` and a Node.js service traced with the
// official OpenTelemetry JS SDK (@opentelemetry/sdk-trace-base, W3C
// propagator from @opentelemetry/core) call each other on 127.0.0.1:
//
//   JS client span --HTTP--> otelc serve GET /users/{id} --SQLite
//                                      \--libcurl--> JS service GET /users/:id
//
// The JS spans are kept in memory, otelc's come from its file exporter;
// both directions must make one trace with the right parents, and the
// tracestate the JS side starts with must come back to it through otelc.
// A second request starts at otelc (no incoming context) and must still
// reach the JS service as one trace.
//
// usage: node serve_interop.js OTELC TMPDIR
'use strict';
const path = require('path');
const api = require('@opentelemetry/api');
const {W3CTraceContextPropagator, TraceState} = require('@opentelemetry/core');
const {BasicTracerProvider, SimpleSpanProcessor, InMemorySpanExporter} =
  require('@opentelemetry/sdk-trace-base');
const lib = require('../integration/serve_lib.js');

const [otelc, tmp] = process.argv.slice(2);
const check = lib.checker('serve_interop');

const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({spanProcessors: [new SimpleSpanProcessor(exporter)]});
const tracer = provider.getTracer('serve-interop');
const propagator = new W3CTraceContextPropagator();

// The JS service: a SERVER span per request, continuing the incoming context.
function startJsService() {
  const http = require('http');
  const server = http.createServer((req, res) => {
    const parent = propagator.extract(api.ROOT_CONTEXT, req.headers, api.defaultTextMapGetter);
    const span = tracer.startSpan('GET /users/:id', {kind: api.SpanKind.SERVER}, parent);
    const sc = span.spanContext();
    const ts = sc.traceState ? sc.traceState.serialize() : '';
    const id = Number(req.url.split('/').pop());
    res.writeHead(200, {'Content-Type': 'application/json'});
    res.end(JSON.stringify({id, from: 'js', trace_id: sc.traceId, tracestate: ts}));
    span.end();
  });
  return new Promise(resolve => server.listen(0, '127.0.0.1', () => resolve({
    url: `http://127.0.0.1:${server.address().port}`,
    close: () => new Promise(r => server.close(r)),
  })));
}

// The JS client: a CLIENT span under a remote parent carrying tracestate js=1.
async function jsCalls(url) {
  const remote = {traceId: 'a1'.repeat(16), spanId: 'b2'.repeat(8), traceFlags: api.TraceFlags.SAMPLED,
                  isRemote: true, traceState: new TraceState('js=1')};
  const parent = api.trace.setSpanContext(api.ROOT_CONTEXT, remote);
  const span = tracer.startSpan('GET', {kind: api.SpanKind.CLIENT}, parent);
  const headers = {};
  propagator.inject(api.trace.setSpan(api.ROOT_CONTEXT, span), headers, api.defaultTextMapSetter);
  const r = await lib.request(url, {headers});
  span.end();
  return {r, span};
}

function checkJsFirst(r, jsClient, ours, theirs) {
  const T = jsClient.spanContext().traceId;
  const trace = ours.filter(s => s.traceId === T);
  const server = trace.find(s => s.kind === 2), call = trace.find(s => s.kind === 3 && s.scope === 'otelc.instrument.curl');
  const sql = trace.find(s => s.scope === 'otelc.instrument.sqlite');
  const jsServer = theirs.find(s => s.kind === api.SpanKind.SERVER && s.spanContext().traceId === T);
  check(r.status === 200 && r.json && r.json.downstream && r.json.downstream.body.from === 'js',
        'JS -> otelc -> JS: 200 with the JS answer inside', r.json);
  if (!check(server && call && sql && jsServer, 'JS -> otelc -> JS: one trace on both sides', lib.describe(ours)))
    return;
  check(server.parentSpanId === jsClient.spanContext().spanId, 'otelc\'s server span is a child of the JS client span');
  check(call.parentSpanId === server.spanId && sql.parentSpanId === server.spanId,
        'otelc\'s SQL and HTTP client spans are children of its server span');
  check(jsServer.parentSpanId === call.spanId, 'the JS server span is a child of otelc\'s client span',
        {jsParent: jsServer.parentSpanId, otelcCall: call.spanId});
  check(r.json.downstream.body.trace_id === T && r.json.downstream.body.tracestate === 'js=1',
        'the JS tracestate made the round trip through otelc', r.json.downstream.body);
}

function checkOtelcFirst(r, ours, theirs) {
  const T = r.json && r.json.downstream && r.json.downstream.body.trace_id;
  const trace = ours.filter(s => s.traceId === T);
  const server = trace.find(s => s.kind === 2), call = trace.find(s => s.kind === 3 && s.scope === 'otelc.instrument.curl');
  const jsServer = theirs.find(s => s.kind === api.SpanKind.SERVER && s.spanContext().traceId === T);
  check(r.status === 200, 'otelc -> JS: 200', r);
  if (!check(server && call && jsServer, 'otelc -> JS: one trace on both sides', lib.describe(ours)))
    return;
  check(server.parentSpanId === '', 'otelc starts the trace without incoming context');
  check(jsServer.parentSpanId === call.spanId && call.parentSpanId === server.spanId,
        'the JS server span is a child of otelc\'s client span (otelc first)');
}

async function main() {
  const js = await startJsService();
  const spanFile = path.join(tmp, 'serve.jsonl');
  const serve = await lib.startServe(otelc, ['--downstream', `${js.url}/users/{id}`],
                                     {spanFile, logFile: path.join(tmp, 'serve.log')});
  let first, second;
  try {
    first = await jsCalls(`${serve.url}/users/3`);
    second = await lib.request(`${serve.url}/users/1`);
  } finally {
    await js.close();
    check(await serve.stop() === 0, 'otelc serve stops cleanly on SIGTERM');
  }
  const ours = lib.loadSpans(spanFile), theirs = exporter.getFinishedSpans();
  checkJsFirst(first.r, first.span, ours, theirs);
  checkOtelcFirst(second, ours, theirs);
  if (check.failures()) process.exit(1);
  console.log(`serve_interop: all ${check.passed()} checks passed`);
}

main().catch(e => {
  console.error(`serve_interop: ${e.stack || e}`);
  process.exit(1);
});
