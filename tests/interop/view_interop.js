'use strict';
/*
 * The official OpenTelemetry JS SDK exporting into a running `otelc view`,
 * then every field the SDK recorded read back through the viewer's query
 * API and compared.
 *
 *   node view_interop.js --ui URL --otlp-http URL --otlp-grpc HOST:PORT [--driver PATH]
 *
 * It starts nothing itself (view_run.sh starts the viewer). For each of the
 * three official exporters (exporter-trace-otlp-proto, -http (JSON) and
 * -grpc, each plain and with gzip) it builds one trace of its own across
 * three services: three TracerProviders with their own resources, the
 * context carried between them by the W3C trace context propagator, every
 * span kind, attributes of every type the JS API allows, events, links,
 * statuses, trace state and dropped counts. Each provider exports through
 * the exporter under test and also to an InMemorySpanExporter, whose
 * ReadableSpans are what the SDK recorded. Then:
 *
 * - GET /api/v3/traces/{id} (OTLP/JSON) is decoded by the strict walker of
 *   lib/otlp.js and compared field by field: ids, parentage, kind, name,
 *   times to the nanosecond, typed attributes, events, links, status, trace
 *   state, dropped counts, resource, scope (name, version, schema URL).
 * - GET /api/traces/{id} (Jaeger) is compared with the mapping API.md
 *   gives: references, µs times, tags with their types, logs, processes.
 *
 * With --driver (interop_emit, the C side of the interop tests), otelc's own
 * OTLP exporters (protobuf, JSON, gRPC, each plain and with gzip) send the
 * driver's five spans, and /api/v3/traces/{id} is compared with the
 * expectation the driver writes, every AnyValue kind included (the driver's
 * times are of 2023: the viewer must keep them, --retention 0).
 *
 * The exporter's success means the spans are stored (the viewer answers
 * only once they are committed), so a trace is read once, not polled.
 * Exits 0 when everything matched, 1 with one line per difference.
 */

const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnSync } = require('child_process');
const api = require('@opentelemetry/api');
const { W3CTraceContextPropagator, TraceState } = require('@opentelemetry/core');
const { Resource } = require('@opentelemetry/resources');
const {
  BasicTracerProvider, BatchSpanProcessor, SimpleSpanProcessor, InMemorySpanExporter, AlwaysOnSampler,
} = require('@opentelemetry/sdk-trace-base');
const otlp = require('./lib/otlp');

const EXPORTERS = {
  'http/protobuf': (a, compression) => {
    const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-proto');
    return new OTLPTraceExporter({ url: `${a.otlpHttp}/v1/traces`, compression });
  },
  'http/json': (a, compression) => {
    const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-http');
    return new OTLPTraceExporter({ url: `${a.otlpHttp}/v1/traces`, compression });
  },
  grpc: (a, compression) => {
    const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-grpc');
    return new OTLPTraceExporter({ url: `http://${a.otlpGrpc}`, compression });
  },
};

function parseArgs(argv) {
  const a = { timeoutMs: 30000 };
  for (let i = 0; i < argv.length; i++) {
    switch (argv[i]) {
      case '--ui': a.ui = argv[++i].replace(/\/$/, ''); break;
      case '--otlp-http': a.otlpHttp = argv[++i].replace(/\/$/, ''); break;
      case '--otlp-grpc': a.otlpGrpc = argv[++i]; break;
      case '--driver': a.driver = argv[++i]; break;
      case '--timeout-ms': a.timeoutMs = Number(argv[++i]); break;
      default: throw new Error(`unknown argument ${argv[i]}`);
    }
  }
  if (!a.ui || !a.otlpHttp || !a.otlpGrpc) {
    throw new Error('usage: view_interop.js --ui URL --otlp-http URL --otlp-grpc HOST:PORT [--driver PATH]');
  }
  return a;
}

/*
 * What the SDK says while it works: an exporter's failure is reported
 * through diag as well as through the flush, and an attribute the SDK
 * refused would make the expectation silently smaller. Any warning but
 * the one the event limit is meant to cause fails.
 */
const EXPECTED_WARNINGS = [/^Dropped \d+ events because eventCountLimit reached$/];
const sdkComplaints = [];
api.diag.setLogger({
  error: (...m) => sdkComplaints.push(`diag error: ${m.join(' ')}`),
  warn: (...m) => {
    const text = m.join(' ');
    if (!EXPECTED_WARNINGS.some((re) => re.test(text))) sdkComplaints.push(`diag warn: ${text}`);
  },
  info: () => {}, debug: () => {}, verbose: () => {},
}, api.DiagLogLevel.WARN);

/* ---- The trace ---------------------------------------------------------------------- */

// Attributes of every type the JS API allows (AttributeValue): strings,
// numbers (integers go out as intValue, the others as doubleValue),
// booleans, and arrays of one of those, which may hold null.
const EVERY_TYPE = {
  'str': 'hello',
  'str.empty': '',
  'str.unicode': 'naïve 日本語 🚀 "quoted" back\\slash\nline\ttab \u0001 </script>',
  'int': 42,
  'int.negative': -7,
  'int.zero': 0,
  'int.max_safe': Number.MAX_SAFE_INTEGER,
  'int.min_safe': -Number.MAX_SAFE_INTEGER,
  'int.two_to_60': 2 ** 60, // an integer past 2^53, exact as a double
  // (No double at or above 2^53: Number.isInteger says it is an integer, and
  // the JS transform sends it as an intValue, which cannot hold 1e308.)
  'double': 3.14159,
  'double.negative': -0.5,
  'double.third': 1 / 3,
  'double.tenth': 0.1, // not exact in binary: the text the viewer writes must read back as this double
  'double.smallest': 5e-324,
  'bool.true': true,
  'bool.false': false,
  'array.string': ['a', '', 'ü'],
  'array.int': [1, -2, 2 ** 60],
  'array.double': [1.5, -2.25],
  'array.numbers': [1, 2.5], // one JS type, two OTLP types: intValue then doubleValue
  'array.bool': [true, false],
  'array.empty': [],
  'array.with_null': ['x', null, 'z'],
};

const SCHEMA_URL = 'https://opentelemetry.io/schemas/1.26.0';

// A sampler that records everything and puts an entry of its own in the
// trace state, which the children inherit and the propagator carries.
class TraceStateSampler extends AlwaysOnSampler {
  shouldSample() {
    return { ...super.shouldSample(), traceState: new TraceState('otelc=interop,vendor=a:b') };
  }

  toString() {
    return 'TraceStateSampler';
  }
}

// [seconds, nanoseconds] some seconds ago, with every nanosecond digit
// set: a time the SDK keeps exactly as given.
function hrAgo(base, offsetNs) {
  const ns = base + BigInt(offsetNs);
  return [Number(ns / 1000000000n), Number(ns % 1000000000n)];
}

/*
 * Three services, each a TracerProvider with its own resource, exporting
 * through `exporter()` (one new exporter per provider) and to one shared
 * in-memory exporter.
 */
function makeServices(exporter, memory) {
  const provider = (resource, config = {}) => {
    const p = new BasicTracerProvider({ resource: new Resource(resource), ...config });
    p.addSpanProcessor(new SimpleSpanProcessor(memory));
    p.addSpanProcessor(new BatchSpanProcessor(exporter()));
    return p;
  };
  return {
    frontend: provider({
      'service.name': 'interop-frontend', 'service.version': '1.2.3', 'host.cores': 2,
      'process.load': 0.75, 'feature.enabled': true, 'deployment.regions': ['eu', 'us'],
    }, { sampler: new TraceStateSampler() }),
    // Limits low enough to drop attributes and events, and cut long strings.
    orders: provider({ 'service.name': 'interop-orders', 'service.namespace': 'shop' }, {
      spanLimits: { attributeCountLimit: 6, eventCountLimit: 3, attributeValueLengthLimit: 12 },
    }),
    worker: provider({ 'service.name': 'interop-worker' }),
  };
}

const propagator = new W3CTraceContextPropagator();

// The headers a client would send with ctx's span as the parent.
function inject(span) {
  const carrier = {};
  propagator.inject(api.trace.setSpan(api.ROOT_CONTEXT, span), carrier, api.defaultTextMapSetter);
  return carrier;
}

function extract(carrier) {
  return propagator.extract(api.ROOT_CONTEXT, carrier, api.defaultTextMapGetter);
}

/*
 * One checkout across the three services. Most times are given (every
 * nanosecond digit set); one span uses the SDK's own clock. Returns the
 * trace id.
 */
function buildTrace(services, label) {
  const base = BigInt(Date.now() - 20000) * 1000000n + 123456789n;
  const at = (ms, ns = 0) => hrAgo(base, ms * 1000000 + ns);
  const { SpanKind, SpanStatusCode } = api;
  const httpServer = services.frontend.getTracer('interop-http', '2.0.1', { schemaUrl: SCHEMA_URL });
  const render = services.frontend.getTracer('interop-render'); // no version, no schema URL
  const ordersTracer = services.orders.getTracer('interop-orders-lib', '0.9.0');
  const workerTracer = services.worker.getTracer('interop-worker-lib', '3.1.4', { schemaUrl: SCHEMA_URL });

  const root = httpServer.startSpan('GET /checkout', {
    kind: SpanKind.SERVER, startTime: at(0), attributes: { ...EVERY_TYPE, 'interop.exporter': label },
  });
  root.addEvent('request.received', { 'http.request.header.accept': ['text/html'], 'bytes': 512 }, at(0, 1));
  root.addEvent('no attributes', at(1, 999));
  const rootCtx = api.trace.setSpan(api.ROOT_CONTEXT, root);

  const call = httpServer.startSpan('POST /orders', {
    kind: SpanKind.CLIENT, startTime: at(2, 7), attributes: { 'http.request.method': 'POST', 'server.port': 8080 },
  }, rootCtx);

  // Another service: the parent comes in through headers.
  const orders = ordersTracer.startSpan('POST /orders', {
    kind: SpanKind.SERVER, startTime: at(3, 11),
    attributes: {
      'http.route': '/orders', 'order.note': 'a note longer than the limit', 'order.tags': ['gift-wrapping', 'x'],
      'order.items': 3, 'order.total': 59.9, 'order.express': true, 'order.dropped.1': 1, 'order.dropped.2': 2,
    },
  }, extract(inject(call)));
  for (let i = 0; i < 5; i++) orders.addEvent(`step ${i}`, { 'step.index': i }, at(4 + i, i));
  const ordersCtx = api.trace.setSpan(api.ROOT_CONTEXT, orders);

  // Jaeger shows a link as FOLLOWS_FROM unless its opentracing.ref_type says child_of.
  const validate = ordersTracer.startSpan('validate order', { startTime: at(10), links: [
    { context: call.spanContext(), attributes: { 'link.reason': 'same trace', 'link.n': 1 } },
    { context: root.spanContext(), attributes: { 'opentracing.ref_type': 'child_of' } },
  ] }, ordersCtx);
  // A link to a span of another trace, with a trace state and a dropped count (addLink keeps the count).
  validate.addLink({
    context: { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: 1,
      traceState: new TraceState('congo=t61rcWkgMzE') },
    attributes: { 'link.kind': 'batch', 'link.weights': [0.5, 0.25] }, droppedAttributesCount: 2,
  });
  validate.setStatus({ code: SpanStatusCode.OK });
  validate.end(at(20, 3));

  const charge = ordersTracer.startSpan('charge card', { kind: SpanKind.CLIENT, startTime: at(21) }, ordersCtx);
  const err = new Error('card declined: insufficient funds');
  err.name = 'PaymentError';
  charge.recordException(err, at(30, 5));
  charge.setStatus({ code: SpanStatusCode.ERROR, message: 'card declined — «insufficient funds»' });
  charge.end(at(31));

  const publish = ordersTracer.startSpan('orders publish', {
    kind: SpanKind.PRODUCER, startTime: at(32), attributes: { 'messaging.system': 'kafka' },
  }, ordersCtx);

  // The third service consumes the message: its parent is the producer,
  // which it also links to (Jaeger shows the two as one reference).
  const consume = workerTracer.startSpan('orders process', {
    kind: SpanKind.CONSUMER, startTime: at(40), attributes: { 'messaging.operation.type': 'process' },
    links: [{ context: publish.spanContext() }],
  }, extract(inject(publish)));
  publish.end(at(33, 1));
  const write = workerTracer.startSpan('write', {}, api.trace.setSpan(api.ROOT_CONTEXT, consume)); // the SDK's clock
  write.setAttribute('db.rows', 1);
  write.end();
  consume.setStatus({ code: SpanStatusCode.ERROR }); // an error without a description
  consume.end(at(60));

  orders.setStatus({ code: SpanStatusCode.ERROR, message: 'payment failed' });
  orders.end(at(70, 250));
  call.end(at(71));
  const paint = render.startSpan('render checkout', { startTime: at(72) }, rootCtx);
  paint.end(at(80, 40));
  root.setStatus({ code: SpanStatusCode.OK });
  root.end(at(90, 999999));
  return root.spanContext().traceId;
}

/* ---- What the SDK recorded, in lib/otlp.js's canonical form --------------------------- */

const nanos = (hr) => (BigInt(hr[0]) * 1000000000n + BigInt(hr[1])).toString();

/*
 * The int64 an exporter sends for a JS integer, as a decimal string.
 * Protobuf carries the double's exact value; the JSON exporter writes the
 * number with JSON.stringify, whose shortest spelling of 2^60 is
 * 1152921504606847000: another integer, which the receiver must read as
 * written.
 */
const INT_SENT = {
  'http/protobuf': (v) => BigInt(v).toString(),
  'http/json': (v) => BigInt(JSON.stringify(v)).toString(),
  grpc: (v) => BigInt(v).toString(),
};

/*
 * A JS attribute value as the typed value lib/otlp.js's canonValue gives.
 * Numbers follow the JS transform's rule (integers are int64), and null
 * in an array is an AnyValue with nothing set.
 */
function canonJs(v, intSent) {
  if (v === null || v === undefined) return { empty: true };
  if (typeof v === 'string') return { string: v };
  if (typeof v === 'boolean') return { bool: v };
  if (typeof v === 'number') return Number.isInteger(v) ? { int: intSent(v) } : { double: v };
  if (Array.isArray(v)) return { array: v.map((x) => canonJs(x, intSent)) };
  throw new Error(`no OTLP form for attribute value ${String(v)}`);
}

function canonJsAttrs(attrs, intSent) {
  const out = {};
  for (const [k, v] of Object.entries(attrs || {})) out[k] = canonJs(v, intSent);
  return out;
}

function expectedRecord(s, intSent) {
  const ctx = s.spanContext();
  const scope = s.instrumentationLibrary;
  return {
    resource: { schemaUrl: '', attributes: canonJsAttrs(s.resource.attributes, intSent), droppedAttributesCount: 0 },
    scope: {
      name: scope.name, version: scope.version || '', schemaUrl: scope.schemaUrl || '',
      attributes: {}, droppedAttributesCount: 0,
    },
    traceId: ctx.traceId,
    spanId: ctx.spanId,
    traceState: ctx.traceState ? ctx.traceState.serialize() : '',
    parentSpanId: s.parentSpanId || '',
    name: s.name,
    kind: s.kind + 1, // the JS API counts kinds from INTERNAL = 0, OTLP from 1
    startTimeUnixNano: nanos(s.startTime),
    endTimeUnixNano: nanos(s.endTime),
    attributes: canonJsAttrs(s.attributes, intSent),
    droppedAttributesCount: s.droppedAttributesCount,
    events: s.events.map((e) => ({
      timeUnixNano: nanos(e.time), name: e.name, attributes: canonJsAttrs(e.attributes, intSent),
      droppedAttributesCount: e.droppedAttributesCount || 0,
    })),
    droppedEventsCount: s.droppedEventsCount,
    links: s.links.map((l) => ({
      traceId: l.context.traceId, spanId: l.context.spanId,
      traceState: l.context.traceState ? l.context.traceState.serialize() : '',
      attributes: canonJsAttrs(l.attributes, intSent), droppedAttributesCount: l.droppedAttributesCount || 0,
    })),
    droppedLinksCount: s.droppedLinksCount,
    status: { code: s.status.code, message: s.status.message || '' },
  };
}

/*
 * The cases this run means to cover, checked on the SDK's own record so
 * that a change of SDK behaviour cannot quietly shrink the test.
 */
function coverage(spans) {
  const missing = [];
  const kinds = new Set(spans.map((s) => s.kind));
  for (const k of ['INTERNAL', 'SERVER', 'CLIENT', 'PRODUCER', 'CONSUMER']) {
    if (!kinds.has(api.SpanKind[k])) missing.push(`no ${k} span`);
  }
  const has = (what, f) => { if (!spans.some(f)) missing.push(what); };
  has('a dropped attribute', (s) => s.droppedAttributesCount > 0);
  has('a dropped event', (s) => s.droppedEventsCount > 0);
  has('a cut string', (s) => s.attributes['order.note'] === 'a note longe');
  has('a link with a dropped count', (s) => s.links.some((l) => l.droppedAttributesCount > 0));
  has('an ERROR status with a message', (s) => s.status.code === api.SpanStatusCode.ERROR && s.status.message);
  has('an OK status', (s) => s.status.code === api.SpanStatusCode.OK);
  has('a trace state', (s) => s.spanContext().traceState);
  has('an exception event', (s) => s.events.some((e) => e.name === 'exception'));
  if (new Set(spans.map((s) => s.resource)).size !== 3) missing.push('not three resources');
  if (spans.length !== 9) missing.push(`${spans.length} spans recorded, expected 9`);
  return missing.map((m) => `the SDK recorded ${m}`);
}

/* ---- Reading the viewer --------------------------------------------------------------- */

async function getJson(url) {
  const res = await fetch(url, { headers: { Accept: 'application/json' } });
  const text = Buffer.from(await res.arrayBuffer());
  if (res.status !== 200) throw new Error(`GET ${url}: HTTP ${res.status} ${text.toString('utf8').slice(0, 200)}`);
  const type = res.headers.get('content-type') || '';
  if (!/^application\/json\b/.test(type)) throw new Error(`GET ${url}: Content-Type ${JSON.stringify(type)}`);
  return { text, body: otlp.parseJsonStrict(text) };
}

/*
 * /api/v3/traces/{id}: the trace as OTLP/JSON, every field as sent, read
 * with the proto3 JSON mapping and OTLP's rules, strictly (int64 as
 * strings, integer enums, hex ids, no unknown or snake_case field) into
 * lib/otlp.js's span records. Throws when the body breaks those rules.
 */
async function v3Trace(a, traceId) {
  const { body } = await getJson(`${a.ui}/api/v3/traces/${traceId}`);
  const keys = Object.keys(body);
  if (keys.length !== 1 || keys[0] !== 'result') throw new Error(`v3: top-level keys [${keys}], expected [result]`);
  const request = otlp.decodeJsonObject(body.result, 'v3.result');
  return { result: body.result, records: otlp.canonRequest(request, 'v3') };
}

async function checkOtlp(a, traceId, recorded, intSent) {
  const { result, records } = await v3Trace(a, traceId);
  const problems = otlp.compareSpans(recorded.map((s) => expectedRecord(s, intSent)), records);
  return [...problems, ...traceFlagProblems(result)].map((p) => `v3: ${p}`);
}

/*
 * Span.flags and Link.flags, which the walker leaves out (they are newer
 * than the 0.57 generated code). The 0.57 exporters send none, so the W3C
 * trace flags (bits 0-7) must read 0: a viewer that showed the sampled
 * bit would have made it up. Bits 8 and 9 (whether the parent is remote)
 * are not checked: the store keeps no "not said" for them (see README).
 */
function traceFlagProblems(result) {
  const problems = [];
  const check = (flags, where) => {
    if (flags !== undefined && (!Number.isInteger(flags) || (flags & 0xff) !== 0)) {
      problems.push(`${where}.flags: ${JSON.stringify(flags)}, but no trace flags were sent`);
    }
  };
  for (const rs of result.resourceSpans) {
    for (const ss of rs.scopeSpans) {
      for (const span of ss.spans) {
        check(span.flags, `span ${span.spanId}`);
        (span.links || []).forEach((l, i) => check(l.flags, `span ${span.spanId}.links[${i}]`));
      }
    }
  }
  return problems;
}

/* A JS attribute value as a Jaeger tag (API.md: arrays are JSON text of type string). */
function jaegerTag(v, intSent) {
  if (typeof v === 'string') return { type: 'string', value: v };
  if (typeof v === 'boolean') return { type: 'bool', value: v };
  if (typeof v === 'number' && Number.isInteger(v)) {
    // int64 past 2^53 as a decimal string: a JSON number would lose digits.
    const sent = intSent(v);
    return { type: 'int64', value: Number.isSafeInteger(Number(sent)) ? Number(sent) : sent };
  }
  if (typeof v === 'number') return { type: 'float64', value: v };
  if (Array.isArray(v)) return { type: 'string', json: v.map((x) => (x === undefined ? null : x)) };
  throw new Error(`no Jaeger form for ${String(v)}`);
}

function jaegerTags(attrs, intSent) {
  const out = {};
  for (const [k, v] of Object.entries(attrs || {})) out[k] = jaegerTag(v, intSent);
  return out;
}

/*
 * A Jaeger kv list as a map, to compare regardless of order. Array values
 * are JSON text: parsed, so that the comparison is of values and not of a
 * number's spelling (0.1 may be written 0.10000000000000001).
 */
function tagMap(list, expected, where, problems) {
  const out = {};
  if (!Array.isArray(list)) {
    problems.push(`${where}: expected a list of tags, got ${JSON.stringify(list)}`);
    return out;
  }
  for (const kv of list) {
    if (Object.prototype.hasOwnProperty.call(out, kv.key)) problems.push(`${where}: tag ${kv.key} appears twice`);
    const extra = Object.keys(kv).filter((k) => !['key', 'type', 'value'].includes(k));
    if (extra.length) problems.push(`${where}: tag ${kv.key} has fields [${extra}]`);
    const want = expected[kv.key];
    if (want && 'json' in want && kv.type === 'string' && typeof kv.value === 'string') {
      try {
        out[kv.key] = { type: kv.type, json: JSON.parse(kv.value) };
        continue;
      } catch (e) {
        problems.push(`${where}: tag ${kv.key} is not JSON text: ${JSON.stringify(kv.value)}`);
      }
    }
    out[kv.key] = { type: kv.type, value: kv.value };
  }
  return out;
}

/*
 * References as Jaeger's OTLP translator makes them: the parent first as
 * CHILD_OF, then one per link, FOLLOWS_FROM unless the link's
 * opentracing.ref_type is child_of; a link to the parent itself sets the
 * parent's type instead of adding a second reference.
 */
function jaegerReferences(s) {
  const ctx = s.spanContext();
  const refs = [];
  if (s.parentSpanId) refs.push({ refType: 'CHILD_OF', traceID: ctx.traceId, spanID: s.parentSpanId });
  for (const l of s.links) {
    const attrs = l.attributes || {};
    const refType = attrs['opentracing.ref_type'] === 'child_of' ? 'CHILD_OF' : 'FOLLOWS_FROM';
    if (s.parentSpanId && l.context.traceId === ctx.traceId && l.context.spanId === s.parentSpanId) {
      refs[0].refType = refType;
      continue;
    }
    refs.push({ refType, traceID: l.context.traceId, spanID: l.context.spanId });
  }
  return refs;
}

const JAEGER_KINDS = ['internal', 'server', 'client', 'producer', 'consumer'];
const micros = (hr) => Number(BigInt(nanos(hr)) / 1000n);

/* The tags API.md (after Jaeger's OTLP translator) gives a span. */
function expectedSpanTags(s, intSent) {
  const tags = jaegerTags(s.attributes, intSent);
  const scope = s.instrumentationLibrary;
  tags['otel.scope.name'] = { type: 'string', value: scope.name };
  if (scope.version) tags['otel.scope.version'] = { type: 'string', value: scope.version };
  tags['span.kind'] = { type: 'string', value: JAEGER_KINDS[s.kind] };
  if (s.status.code === api.SpanStatusCode.OK) tags['otel.status_code'] = { type: 'string', value: 'OK' };
  if (s.status.code === api.SpanStatusCode.ERROR) {
    tags['otel.status_code'] = { type: 'string', value: 'ERROR' };
    tags.error = { type: 'bool', value: true };
  }
  if (s.status.message) tags['otel.status_description'] = { type: 'string', value: s.status.message };
  const ts = s.spanContext().traceState;
  if (ts) tags['w3c.tracestate'] = { type: 'string', value: ts.serialize() };
  return tags;
}

/* /api/traces/{id}: the trace in Jaeger's JSON, mapped as API.md says. */
async function checkJaeger(a, traceId, recorded, intSent) {
  const problems = [];
  const { body } = await getJson(`${a.ui}/api/traces/${traceId}`);
  const envelope = { total: body.total, limit: body.limit, offset: body.offset, errors: body.errors };
  otlp.diff({ total: 1, limit: 0, offset: 0, errors: null }, envelope, 'jaeger', problems);
  if (!Array.isArray(body.data) || body.data.length !== 1) return [...problems, 'jaeger: data is not one trace'];
  const trace = body.data[0];
  if (trace.traceID !== traceId) problems.push(`jaeger: traceID ${trace.traceID}, expected ${traceId}`);
  if (trace.warnings !== null) problems.push(`jaeger: warnings ${JSON.stringify(trace.warnings)}`);
  const processes = trace.processes || {};

  // One process per resource: spans of one service share it.
  const processOf = new Map();
  const byId = new Map((trace.spans || []).map((s) => [s.spanID, s]));
  if (byId.size !== (trace.spans || []).length) problems.push('jaeger: a span id appears twice');
  for (const s of recorded) {
    const ctx = s.spanContext();
    const where = `jaeger span "${s.name}" (${ctx.spanId})`;
    const g = byId.get(ctx.spanId);
    if (!g) {
      problems.push(`${where}: missing`);
      continue;
    }
    byId.delete(ctx.spanId);
    const refs = jaegerReferences(s);
    const wantTags = expectedSpanTags(s, intSent);
    const want = {
      traceID: ctx.traceId, spanID: ctx.spanId, operationName: s.name, references: refs,
      startTime: micros(s.startTime), duration: Number((BigInt(nanos(s.endTime)) - BigInt(nanos(s.startTime))) / 1000n),
      tags: wantTags,
      logs: s.events.map((e) => ({ timestamp: micros(e.time), fields: { event: { type: 'string', value: e.name },
        ...jaegerTags(e.attributes, intSent) } })),
      processID: g.processID, warnings: null,
    };
    const got = {
      ...g, tags: tagMap(g.tags, wantTags, `${where}.tags`, problems),
      logs: Array.isArray(g.logs) ? g.logs.map((l, i) => ({ ...l,
        fields: tagMap(l.fields, want.logs[i] ? want.logs[i].fields : {}, `${where}.logs[${i}]`, problems) })) : g.logs,
    };
    // No "flags": the 0.57 exporters send no Span.flags, so there are no trace flags to show.
    otlp.diff(want, got, where, problems);

    if (!processOf.has(s.resource)) processOf.set(s.resource, g.processID);
    else if (processOf.get(s.resource) !== g.processID) problems.push(`${where}: process ${g.processID}, not its service's ${processOf.get(s.resource)}`);
  }
  for (const g of byId.values()) problems.push(`jaeger span ${g.spanID}: not recorded by the SDK`);

  for (const [resource, pid] of processOf) {
    const attrs = { ...resource.attributes };
    const serviceName = attrs['service.name'];
    delete attrs['service.name']; // API.md: the serviceName, not repeated in tags
    const wantTags = jaegerTags(attrs, intSent);
    const p = processes[pid];
    if (!p) {
      problems.push(`jaeger: no process ${pid}`);
      continue;
    }
    otlp.diff({ serviceName, tags: wantTags }, { ...p, tags: tagMap(p.tags, wantTags, `jaeger process ${pid}`, problems) },
      `jaeger process ${pid}`, problems);
  }
  const used = new Set(processOf.values());
  for (const pid of Object.keys(processes)) if (!used.has(pid)) problems.push(`jaeger: process ${pid} is no span's`);
  return problems;
}

/* ---- Runs ---------------------------------------------------------------------------- */

async function runOne(a, protocol, compression) {
  const label = `${protocol}${compression === 'gzip' ? '+gzip' : ''}`;
  const memory = new InMemorySpanExporter();
  const services = makeServices(() => EXPORTERS[protocol](a, compression), memory);
  const traceId = buildTrace(services, label);
  const problems = [];
  // A rejected export fails the flush (BatchSpanProcessor) and says why through diag.
  for (const [name, p] of Object.entries(services)) {
    await p.forceFlush().catch((e) => problems.push(`${name}: export failed: ${e && e.message}`));
  }
  const recorded = memory.getFinishedSpans().filter((s) => s.spanContext().traceId === traceId);
  await Promise.all(Object.values(services).map((p) => p.shutdown()));
  problems.push(...coverage(recorded));
  if (problems.length === 0) {
    problems.push(...await checkOtlp(a, traceId, recorded, INT_SENT[protocol]));
    problems.push(...await checkJaeger(a, traceId, recorded, INT_SENT[protocol]));
  }
  problems.push(...sdkComplaints.splice(0));
  return { label, traceId, spans: recorded.length, problems };
}

/*
 * otelc's own exporter through the C driver: its five spans (two traces,
 * one of them the same remote trace id every run) against the expectation
 * it writes. `seen` holds the span ids of earlier runs, which the shared
 * trace also holds by now; any other span is one too many.
 */
async function runDriver(a, protocol, gzip, seen) {
  const label = `otelc ${protocol}${gzip ? '+gzip' : ''}`;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'otelc-view-interop-'));
  const expectFile = path.join(dir, 'expected.json');
  const endpoint = protocol === 'grpc' ? `http://${a.otlpGrpc}` : `${a.otlpHttp}/v1/traces`;
  const argv = ['--protocol', protocol, '--endpoint', endpoint, '--expect', expectFile, ...(gzip ? ['--gzip'] : [])];
  const run = spawnSync(a.driver, argv, { stdio: ['ignore', 'inherit', 'inherit'], timeout: 20000 });
  let exp;
  try {
    exp = JSON.parse(fs.readFileSync(expectFile, 'utf8'));
  } catch (e) {
    exp = null;
  }
  fs.rmSync(dir, { recursive: true, force: true });
  if (run.status !== 0 || !exp) {
    return { label, traceId: '-', spans: 0, problems: [`driver failed: status ${run.status} ${run.signal || ''} ${run.error || ''}`] };
  }
  const expected = otlp.expandExpectation(exp);
  const traceIds = [...new Set(expected.map((s) => s.traceId))];
  const got = [];
  for (const id of traceIds) got.push(...(await v3Trace(a, id)).records.filter((r) => !seen.has(r.spanId)));
  for (const s of expected) seen.add(s.spanId);
  const problems = otlp.compareSpans(expected, got).map((p) => `v3: ${p}`);
  return { label, traceId: traceIds.join(' '), spans: expected.length, problems };
}

function report(r) {
  if (r.problems.length === 0) {
    process.stdout.write(`ok - ${r.label}: trace ${r.traceId}, ${r.spans} spans, every field matched\n`);
    return true;
  }
  for (const p of r.problems) process.stderr.write(`view-interop ${r.label}: ${p}\n`);
  process.stdout.write(`not ok - ${r.label}: trace ${r.traceId}, ${r.problems.length} problem(s)\n`);
  return false;
}

async function main(a) {
  let failed = 0;
  for (const protocol of Object.keys(EXPORTERS)) {
    for (const compression of ['none', 'gzip']) {
      if (!report(await runOne(a, protocol, compression))) failed++;
    }
  }
  const seen = new Set();
  for (const protocol of a.driver ? Object.keys(EXPORTERS) : []) {
    for (const gzip of [false, true]) {
      if (!report(await runDriver(a, protocol, gzip, seen))) failed++;
    }
  }
  process.exit(failed ? 1 : 0);
}

const args = parseArgs(process.argv.slice(2));
// A last guard: a hung exporter or viewer fails the test instead of hanging CTest.
setTimeout(() => {
  process.stderr.write(`view-interop: no verdict within ${args.timeoutMs} ms\n`);
  process.exit(1);
}, args.timeoutMs).unref();
main(args).catch((e) => {
  process.stderr.write(`view-interop: ${e.stack || e}\n`);
  process.exit(1);
});
