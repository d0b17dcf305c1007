'use strict';
// traces.js - traces as OTLP/JSON export requests (the shape a receiver's
// POST /v1/traces takes), for the UI test to send to the viewer and for the
// fixture server's demo data: a small trace with every kind of attribute
// value, events, links and an error; a trace whose names and values are
// HTML/script injection attempts; a 10,000-span trace; and a stream of
// plausible traces across a handful of services.

const crypto = require('node:crypto');

const KIND = {internal: 1, server: 2, client: 3, producer: 4, consumer: 5};
const XSS_IMG = '<img src=x onerror=window.__pwned=1>';
const XSS_SCRIPT = '</script><script>window.__pwned=1</script>';

const randomHex = (bytes) => crypto.randomBytes(bytes).toString('hex');

// A seeded PRNG (mulberry32): the same shapes every run.
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// A JS value -> OTLP AnyValue: integers become intValue, other numbers
// doubleValue ({double: 2} forces a double), Buffers bytesValue, arrays
// arrayValue, plain objects kvlistValue.
function anyValue(v) {
  if (typeof v === 'string') return {stringValue: v};
  if (typeof v === 'boolean') return {boolValue: v};
  if (typeof v === 'number') return Number.isInteger(v) ? {intValue: String(v)} : {doubleValue: v};
  if (Buffer.isBuffer(v)) return {bytesValue: v.toString('base64')};
  if (Array.isArray(v)) return {arrayValue: {values: v.map(anyValue)}};
  if (v && typeof v === 'object' && 'double' in v) return {doubleValue: v.double};
  if (v && typeof v === 'object') return {kvlistValue: {values: attributes(v)}};
  return {};
}

function attributes(obj) {
  return Object.entries(obj || {}).map(([key, value]) => ({key, value: anyValue(value)}));
}

// Collects the spans of one trace; times are offsets in ms from startNs.
class TraceBuilder {
  constructor(startNs, traceId = randomHex(16)) {
    this.traceId = traceId;
    this.startNs = BigInt(startNs);
    this.spans = []; // {service, resource, span}
  }

  // Returns the span id. opts: service, name, kind, parent (span id),
  // start, duration (ms), attributes, events [{at, name, attributes}],
  // links [{traceId, spanId, attributes, traceState}], error (message).
  span(opts) {
    const spanId = randomHex(8);
    const ns = (ms) => (this.startNs + BigInt(Math.round(ms * 1e6))).toString();
    const span = {
      traceId: this.traceId, spanId, parentSpanId: opts.parent || '', name: opts.name,
      kind: KIND[opts.kind || 'internal'],
      startTimeUnixNano: ns(opts.start), endTimeUnixNano: ns(opts.start + opts.duration),
      attributes: attributes(opts.attributes),
      events: (opts.events || []).map((e) => ({timeUnixNano: ns(e.at), name: e.name, attributes: attributes(e.attributes)})),
      links: (opts.links || []).map((l) => ({traceId: l.traceId, spanId: l.spanId, traceState: l.traceState || '',
        attributes: attributes(l.attributes)})),
      status: opts.error !== undefined ? {code: 2, message: opts.error} : {code: 0},
    };
    if (opts.traceState) span.traceState = opts.traceState;
    this.spans.push({service: opts.service, resource: opts.resource || {}, span});
    return spanId;
  }

  // The spans as export requests of at most maxSpans spans each, one
  // ResourceSpans per service and request.
  requests(maxSpans = 2000) {
    const out = [];
    for (let i = 0; i < this.spans.length; i += maxSpans) {
      const byService = new Map();
      for (const s of this.spans.slice(i, i + maxSpans)) {
        if (!byService.has(s.service)) byService.set(s.service, {resource: s.resource, spans: []});
        byService.get(s.service).spans.push(s.span);
      }
      out.push({resourceSpans: [...byService.entries()].map(([service, g]) => ({
        resource: {attributes: attributes({'service.name': service, 'telemetry.sdk.language': 'c', ...g.resource})},
        scopeSpans: [{scope: {name: 'otelc-ui-test', version: '1.0.0'}, spans: g.spans}],
      }))});
    }
    return out;
  }
}

const nowNs = () => BigInt(Date.now()) * 1000000n;

// A checkout through three services; every AnyValue type, events, a link,
// an error. Returns {builder, ids: {name -> spanId}}.
function smallTrace(runId, startNs = nowNs() - 5000000000n) {
  const t = new TraceBuilder(startNs);
  const ids = {};
  const fe = 'ui-test-frontend', api = 'ui-test-api', db = 'ui-test-db';
  ids.root = t.span({service: fe, name: 'GET /checkout', kind: 'server', start: 0, duration: 120,
    attributes: {'http.request.method': 'GET', 'url.path': '/checkout', 'http.response.status_code': 200, 'ui_test.run': runId}});
  ids.call = t.span({service: fe, name: 'POST /api/orders', kind: 'client', parent: ids.root, start: 5, duration: 105,
    attributes: {'http.request.method': 'POST', 'server.address': 'api', 'server.port': 8080}});
  ids.orders = t.span({service: api, name: 'POST /api/orders', kind: 'server', parent: ids.call, start: 8, duration: 100,
    attributes: {'http.route': '/api/orders', 'order.items': 3, 'order.total': {double: 59.9}, 'order.express': true,
      'order.tags': ['gift', 'fragile'], 'order.customer': {id: 42, tier: 'gold'}, 'order.checksum': Buffer.from([1, 2, 3, 250])},
    events: [{at: 19, name: 'order.validated', attributes: {'order.lines': 3}}],
    links: [{traceId: randomHex(16), spanId: randomHex(8), traceState: 'vendor=1', attributes: {'link.reason': 'retry of'}}]});
  ids.validate = t.span({service: api, name: 'validate order', parent: ids.orders, start: 10, duration: 10});
  ids.select = t.span({service: db, name: 'SELECT orders', kind: 'client', parent: ids.orders, start: 22, duration: 18,
    attributes: {'db.system.name': 'postgresql', 'db.query.text': 'SELECT * FROM orders WHERE id = $1', 'db.namespace': 'shop'}});
  ids.insert = t.span({service: db, name: 'INSERT orders', kind: 'client', parent: ids.orders, start: 42, duration: 18,
    attributes: {'db.system.name': 'postgresql', 'db.query.text': 'INSERT INTO orders VALUES ($1, $2)'}});
  ids.charge = t.span({service: api, name: 'charge card', kind: 'client', parent: ids.orders, start: 62, duration: 43,
    error: 'card declined', attributes: {'payment.provider': 'acme'},
    events: [{at: 104, name: 'exception', attributes: {'exception.type': 'PaymentError', 'exception.message': 'card declined'}}]});
  ids.publish = t.span({service: api, name: 'publish order.created', kind: 'producer', parent: ids.orders, start: 70, duration: 5});
  ids.render = t.span({service: fe, name: 'render checkout', parent: ids.root, start: 111, duration: 7});
  return {builder: t, ids};
}

// Span names, services, attribute keys and values, event names, a status
// message and resource values that are markup: the UI must show them as
// text and run nothing.
function xssTrace(runId, startNs = nowNs() - 4000000000n) {
  const t = new TraceBuilder(startNs);
  const resource = {'host.name': XSS_SCRIPT};
  const root = t.span({service: XSS_SCRIPT, resource, name: XSS_IMG, kind: 'server', start: 0, duration: 30,
    attributes: {'ui_test.run': runId, 'xss.img': XSS_IMG, 'xss.script': XSS_SCRIPT, [XSS_IMG]: XSS_SCRIPT},
    events: [{at: 5, name: XSS_IMG, attributes: {[XSS_SCRIPT]: XSS_IMG}}]});
  const child = t.span({service: XSS_IMG, name: XSS_SCRIPT, kind: 'client', parent: root, start: 3, duration: 20,
    error: XSS_IMG, attributes: {'xss.script': XSS_SCRIPT}});
  return {builder: t, ids: {root, child}};
}

// n spans over five services, a broad tree (each span's parent drawn from
// the earlier spans, biased to the first ones) a few levels deep.
function bigTrace(runId, n = 10000, startNs = nowNs() - 3000000000n) {
  const t = new TraceBuilder(startNs);
  const rand = prng(12345);
  const services = ['ui-test-big-gateway', 'ui-test-big-search', 'ui-test-big-index', 'ui-test-big-cache', 'ui-test-big-store'];
  const placed = [{id: null, start: 0, duration: 2000, depth: -1}];
  for (let i = 0; i < n; i++) {
    const parent = i === 0 ? placed[0] : placed[1 + Math.floor(rand() * rand() * (placed.length - 1))];
    const start = parent.start + rand() * parent.duration * 0.7;
    const duration = Math.max(0.01, rand() * (parent.start + parent.duration - start));
    const depth = parent.depth + 1;
    const id = t.span({service: services[Math.min(depth, services.length - 1)], name: `op-${depth}-${i % 37}`,
      kind: depth === 0 ? 'server' : 'internal', parent: parent.id || undefined, start, duration,
      attributes: i === 0 ? {'ui_test.run': runId, 'ui_test.big': true} : {'ui_test.index': i}});
    placed.push({id, start, duration, depth});
  }
  return {builder: t, ids: {root: placed[1].id}};
}

// Plausible traffic for the demo: count traces over the last `spanMinutes`.
function demoTraces(count = 60, spanMinutes = 50, seed = 7) {
  const rand = prng(seed);
  const builders = [];
  const routes = ['GET /', 'GET /products', 'GET /products/{id}', 'POST /cart', 'POST /checkout', 'GET /account'];
  for (let k = 0; k < count; k++) {
    const start = nowNs() - BigInt(Math.floor(rand() * spanMinutes * 60e9));
    const t = new TraceBuilder(start);
    const route = routes[Math.floor(rand() * routes.length)];
    const slow = rand() < 0.1 ? 4 : 1;
    const total = (20 + rand() * 180) * slow;
    const root = t.span({service: 'web-frontend', name: route, kind: 'server', start: 0, duration: total,
      attributes: {'http.request.method': route.split(' ')[0], 'http.route': route.split(' ')[1], 'http.response.status_code': 200}});
    const gw = t.span({service: 'api-gateway', name: `proxy ${route}`, kind: 'server', parent: root, start: 2, duration: total - 6});
    t.span({service: 'user-service', name: 'GET /users/{id}', kind: 'server', parent: gw, start: 4, duration: 6 + rand() * 10,
      attributes: {'user.tier': rand() < 0.2 ? 'gold' : 'basic'}});
    t.span({service: 'user-service', name: 'SELECT users', kind: 'client', parent: gw, start: 5, duration: 2 + rand() * 3,
      attributes: {'db.system.name': 'postgresql', 'db.query.text': 'SELECT * FROM users WHERE id = $1'}});
    if (route.startsWith('POST') || route.includes('products')) {
      const orders = t.span({service: 'order-service', name: route.includes('products') ? 'list products' : 'place order',
        kind: 'server', parent: gw, start: 20, duration: total * 0.6});
      t.span({service: 'inventory-service', name: 'reserve stock', kind: 'server', parent: orders, start: 24,
        duration: total * 0.2, error: rand() < 0.02 ? 'out of stock' : undefined});
      if (route === 'POST /checkout') {
        const failed = rand() < 0.15;
        t.span({service: 'payment-service', name: 'charge', kind: 'server', parent: orders, start: 24 + total * 0.2,
          duration: total * 0.3, error: failed ? 'card declined' : undefined, attributes: {'payment.provider': 'acme'}});
        t.span({service: 'notification-worker', name: 'order.created process', kind: 'consumer', parent: orders,
          start: total * 0.7, duration: total * 0.4});
      }
    }
    t.span({service: 'web-frontend', name: 'render', parent: root, start: total - 4, duration: 3});
    builders.push(t);
  }
  return builders;
}

module.exports = {TraceBuilder, smallTrace, xssTrace, bigTrace, demoTraces, XSS_IMG, XSS_SCRIPT, KIND};
