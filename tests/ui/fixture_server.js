'use strict';
// fixture_server.js - a stand-in for `otelc view` while the UI is built and
// tested without it: serves viewer/ui/ with the viewer's Content-Security-
// Policy, takes OTLP/JSON on POST /v1/traces into memory and answers the
// API of /work/wt/API.md (docs: API.md) from it, with a tiny TraceQL
// subset for /api/search and /api/live. It is not the viewer: the browser
// test (ui_test.js) runs against either.
//
//   node tests/ui/fixture_server.js [--port N] [--token T] [--no-demo]
//
// prints "listening http://127.0.0.1:PORT" once ready.

const http = require('node:http');
const fs = require('node:fs');
const path = require('node:path');
const crypto = require('node:crypto');
const {demoTraces} = require('./traces.js');

const UI_DIR = path.join(__dirname, '..', '..', 'viewer', 'ui');
const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
  "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";
const TYPES = {'.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8', '.svg': 'image/svg+xml'};
const KINDS = ['unspecified', 'internal', 'server', 'client', 'producer', 'consumer'];

// ---- the store ----

const traces = new Map(); // traceId -> [{resource, scope, span, service}]
const ingest = {accepted: 0, rejected: 0, refused: 0};
let storedBytes = 0;

function serviceOf(resource) {
  for (const kv of (resource && resource.attributes) || []) {
    if (kv.key === 'service.name' && kv.value && typeof kv.value.stringValue === 'string') return kv.value.stringValue;
  }
  return 'unknown_service';
}

function store(request) {
  const touched = new Set();
  for (const rs of request.resourceSpans || []) {
    const resource = rs.resource || {};
    for (const ss of rs.scopeSpans || []) {
      for (const span of ss.spans || []) {
        if (!/^[0-9a-f]{32}$/.test(span.traceId || '') || !/^[0-9a-f]{16}$/.test(span.spanId || '')) {
          ingest.rejected++;
          continue;
        }
        if (!traces.has(span.traceId)) traces.set(span.traceId, []);
        traces.get(span.traceId).push({resource, scope: ss.scope || {}, span, service: serviceOf(resource)});
        touched.add(span.traceId);
        ingest.accepted++;
      }
    }
  }
  return touched;
}

const startNs = (e) => BigInt(e.span.startTimeUnixNano || 0);
const durNs = (e) => Number(BigInt(e.span.endTimeUnixNano || 0) - startNs(e));
const isError = (e) => e.span.status && (e.span.status.code === 2 || e.span.status.code === 'STATUS_CODE_ERROR');

// ---- a TraceQL subset: {cond && cond ...} joined by &&, parentheses ignored ----

function tokenizeCondition(text) {
  const m = /^\s*([A-Za-z_.][\w.]*)\s*(=~|!=|>=|<=|=|>|<)\s*("(?:[^"\\]|\\.)*"|[\w.]+)\s*$/.exec(text);
  if (!m) throw new Error(`fixture TraceQL: cannot read condition "${text.trim()}"`);
  let value = m[3];
  if (value.startsWith('"')) value = JSON.parse(value);
  else if (/^\d+(\.\d+)?(ns|us|µs|ms|s|m|h)$/.test(value)) value = durationNs(value);
  else if (/^-?\d+(\.\d+)?$/.test(value)) value = Number(value);
  else if (value === 'true' || value === 'false') value = value === 'true';
  return {field: m[1], op: m[2], value};
}

function durationNs(text) {
  const m = /^(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)$/.exec(text);
  return Number(m[1]) * {ns: 1, us: 1e3, 'µs': 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9}[m[2]];
}

function splitTopLevel(text, sep) {
  const parts = [];
  let depth = 0, quoted = false, last = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) { if (c === '\\') i++; else if (c === '"') quoted = false; continue; }
    if (c === '"') quoted = true;
    else if (c === '{' || c === '(') depth++;
    else if (c === '}' || c === ')') depth--;
    else if (depth === 0 && text.startsWith(sep, i)) { parts.push(text.slice(last, i)); last = i + sep.length; i += sep.length - 1; }
  }
  parts.push(text.slice(last));
  return parts;
}

function parseQuery(q) {
  let text = (q || '{}').trim();
  while (text.startsWith('(') && text.endsWith(')')) text = text.slice(1, -1).trim();
  return splitTopLevel(text, '&&').map((part) => {
    let p = part.trim();
    while (p.startsWith('(') && p.endsWith(')')) p = p.slice(1, -1).trim();
    if (!p.startsWith('{') || !p.endsWith('}')) throw new Error(`fixture TraceQL: expected a spanset, found "${p}"`);
    const inner = p.slice(1, -1).trim();
    return inner ? splitTopLevel(inner, '&&').map(tokenizeCondition) : [];
  });
}

function attrValue(list, key) {
  for (const kv of list || []) {
    if (kv.key !== key || !kv.value) continue;
    const v = kv.value;
    if ('stringValue' in v) return v.stringValue;
    if ('intValue' in v) return Number(v.intValue);
    if ('doubleValue' in v) return v.doubleValue;
    if ('boolValue' in v) return v.boolValue;
  }
  return undefined;
}

function fieldValue(e, field) {
  if (field === 'name') return e.span.name;
  if (field === 'duration') return durNs(e);
  if (field === 'status') return isError(e) ? 'error' : (e.span.status && e.span.status.code === 1 ? 'ok' : 'unset');
  if (field === 'kind') return KINDS[e.span.kind] || 'unspecified';
  if (field === 'resource.service.name') return e.service;
  if (field.startsWith('resource.')) return attrValue(e.resource.attributes, field.slice(9));
  if (field.startsWith('span.')) return attrValue(e.span.attributes, field.slice(5));
  if (field.startsWith('.')) {
    const v = attrValue(e.span.attributes, field.slice(1));
    return v !== undefined ? v : attrValue(e.resource.attributes, field.slice(1));
  }
  throw new Error(`fixture TraceQL: unknown field ${field}`);
}

function conditionHolds(e, c) {
  const v = fieldValue(e, c.field);
  if (v === undefined) return false;
  switch (c.op) {
  case '=': return v === c.value;
  case '!=': return v !== c.value;
  case '>': return v > c.value;
  case '>=': return v >= c.value;
  case '<': return v < c.value;
  case '<=': return v <= c.value;
  case '=~': return new RegExp(`^(?:${c.value})$`).test(String(v));
  default: return false;
  }
}

// The spans of each spanset the trace matches, or null when one matches none.
function matchTrace(entries, spansets) {
  const matched = [];
  for (const conditions of spansets) {
    const spans = entries.filter((e) => conditions.every((c) => conditionHolds(e, c)));
    if (!spans.length) return null;
    matched.push(spans);
  }
  return matched;
}

// ---- API answers ----

function traceSummary(traceId, entries, matched, spss) {
  const ids = new Set(entries.map((e) => e.span.spanId));
  const root = entries.find((e) => !e.span.parentSpanId || !ids.has(e.span.parentSpanId));
  const start = entries.reduce((m, e) => (startNs(e) < m ? startNs(e) : m), startNs(entries[0]));
  const end = entries.reduce((m, e) => (BigInt(e.span.endTimeUnixNano) > m ? BigInt(e.span.endTimeUnixNano) : m), 0n);
  const serviceStats = {};
  for (const e of entries) {
    const s = serviceStats[e.service] || (serviceStats[e.service] = {spanCount: 0, errorCount: 0});
    s.spanCount++;
    if (isError(e)) s.errorCount++;
  }
  const durationMs = Math.round(Number(end - start) / 1e6);
  return {
    traceID: traceId, rootServiceName: root ? root.service : '<root span not yet received>',
    rootTraceName: root ? root.span.name : '', startTimeUnixNano: start.toString(),
    ...(durationMs ? {durationMs} : {}),
    spanSets: matched.map((spans) => ({matched: spans.length, spans: spans.slice(0, spss).map((e) => ({
      spanID: e.span.spanId, name: e.span.name, startTimeUnixNano: e.span.startTimeUnixNano,
      durationNanos: String(durNs(e)), attributes: [{key: 'service.name', value: {stringValue: e.service}}]}))})),
    serviceStats,
  };
}

function search(params) {
  const spansets = parseQuery(params.get('q'));
  const end = BigInt(params.get('end') || Math.ceil(Date.now() / 1000)) * 1000000000n;
  const start = BigInt(params.get('start') || Math.floor(Date.now() / 1000) - 3600) * 1000000000n;
  const limit = Math.min(Number(params.get('limit')) || 20, 1500);
  const spss = Number(params.get('spss')) || 3;
  const found = [];
  let inspectedSpans = 0;
  for (const [traceId, entries] of traces) {
    const first = entries.reduce((m, e) => (startNs(e) < m ? startNs(e) : m), startNs(entries[0]));
    if (first < start || first > end) continue;
    inspectedSpans += entries.length;
    const matched = matchTrace(entries, spansets);
    if (matched) found.push([first, traceSummary(traceId, entries, matched, spss)]);
  }
  found.sort((a, b) => (b[0] > a[0] ? 1 : b[0] < a[0] ? -1 : 0));
  return {traces: found.slice(0, limit).map((f) => f[1]), metrics: {inspectedTraces: found.length, inspectedSpans}};
}

// The OTLP/JSON of one trace, spans regrouped by resource and scope.
function otlpTrace(entries) {
  const groups = new Map();
  for (const e of entries) {
    const key = JSON.stringify(e.resource);
    if (!groups.has(key)) groups.set(key, {resource: e.resource, scopes: new Map()});
    const scopes = groups.get(key).scopes;
    const skey = JSON.stringify(e.scope);
    if (!scopes.has(skey)) scopes.set(skey, {scope: e.scope, spans: []});
    scopes.get(skey).spans.push(e.span);
  }
  return {result: {resourceSpans: [...groups.values()].map((g) => ({resource: g.resource, scopeSpans: [...g.scopes.values()]}))}};
}

function percentile(sorted, p) {
  if (!sorted.length) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

function spansInRange(params) {
  const startUs = BigInt(params.get('start') || (Date.now() - 3600e3) * 1000);
  const endUs = BigInt(params.get('end') || Date.now() * 1000);
  const out = [];
  for (const entries of traces.values()) {
    const byId = new Map(entries.map((e) => [e.span.spanId, e]));
    for (const e of entries) {
      const us = startNs(e) / 1000n;
      if (us >= startUs && us <= endUs) out.push({e, parent: byId.get(e.span.parentSpanId)});
    }
  }
  return out;
}

function stats(list) {
  const us = list.map((x) => Math.round(durNs(x) / 1000)).sort((a, b) => a - b);
  return {p50Us: percentile(us, 50), p95Us: percentile(us, 95), p99Us: percentile(us, 99)};
}

function serviceMap(params) {
  const nodes = new Map(), edges = new Map();
  for (const {e, parent} of spansInRange(params)) {
    if (!nodes.has(e.service)) nodes.set(e.service, []);
    if (!parent || [2, 5].includes(e.span.kind)) nodes.get(e.service).push(e);
    if (parent && parent.service !== e.service) {
      const key = `${parent.service}\u0000${e.service}`;
      if (!edges.has(key)) edges.set(key, {parent: parent.service, child: e.service, list: []});
      edges.get(key).list.push(e);
    }
  }
  return {
    nodes: [...nodes].map(([service, list]) => ({service, calls: list.length, errors: list.filter(isError).length,
      p50Us: stats(list).p50Us, p99Us: stats(list).p99Us})),
    edges: [...edges.values()].map((x) => ({parent: x.parent, child: x.child, callCount: x.list.length,
      errorCount: x.list.filter(isError).length, p50Us: stats(x.list).p50Us, p99Us: stats(x.list).p99Us})),
  };
}

function operationsTable(params) {
  const service = params.get('service');
  const groups = new Map();
  for (const {e} of spansInRange(params)) {
    if (service && e.service !== service) continue;
    const key = `${e.service}\u0000${e.span.name}\u0000${e.span.kind}`;
    if (!groups.has(key)) groups.set(key, {service: e.service, operation: e.span.name, spanKind: KINDS[e.span.kind] || 'unspecified', list: []});
    groups.get(key).list.push(e);
  }
  return {data: [...groups.values()].map((g) => {
    const errorCount = g.list.filter(isError).length;
    return {service: g.service, operation: g.operation, spanKind: g.spanKind, count: g.list.length, errorCount,
      errorRate: errorCount / g.list.length, ...stats(g.list)};
  }).sort((a, b) => b.count - a.count)};
}

// ---- live updates ----

const liveClients = new Set(); // {res, spansets, pending: Set, spans}

function notifyLive(touched) {
  for (const client of liveClients) {
    for (const id of touched) {
      if (matchTrace(traces.get(id), client.spansets)) client.pending.add(id);
    }
  }
}

setInterval(() => {
  for (const client of liveClients) {
    if (!client.pending.size) continue;
    const ids = [...client.pending];
    client.pending.clear();
    const spans = ids.reduce((n, id) => n + traces.get(id).length, 0);
    client.res.write(`event: traces\ndata: ${JSON.stringify({traceIDs: ids, spans})}\n\n`);
  }
}, 1000).unref();

// ---- HTTP ----

const jaeger = (data) => ({data, total: Array.isArray(data) ? data.length : 0, limit: 0, offset: 0, errors: null});
const jaegerError = (code, msg) => ({data: null, total: 0, limit: 0, offset: 0, errors: [{code, msg}]});

function send(res, status, body, headers = {}) {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, {'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store', ...headers});
  res.end(text);
}

function serveStatic(req, res, pathname) {
  const rel = pathname === '/' ? 'index.html' : pathname.slice(1);
  if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(rel) || !TYPES[path.extname(rel)]) return send(res, 404, {error: 'not found'});
  let data;
  try { data = fs.readFileSync(path.join(UI_DIR, rel)); } catch { return send(res, 404, {error: 'not found'}); }
  const etag = `"${crypto.createHash('sha256').update(data).digest('hex')}"`;
  const headers = {'Content-Type': TYPES[path.extname(rel)], ETag: etag, 'Cache-Control': 'no-cache',
    'Content-Security-Policy': CSP, 'X-Content-Type-Options': 'nosniff', 'Referrer-Policy': 'no-referrer'};
  if (req.headers['if-none-match'] === etag) { res.writeHead(304, headers); return res.end(); }
  res.writeHead(200, headers);
  res.end(data);
}

function authorized(req, url, token) {
  if (!token) return true;
  if (req.headers.authorization === `Bearer ${token}`) return true;
  return url.pathname === '/api/live' && url.searchParams.get('access_token') === token;
}

function handleApi(req, res, url, base) {
  const p = url.pathname, q = url.searchParams;
  let m;
  if (p === '/api/services') {
    return send(res, 200, jaeger([...new Set([...traces.values()].flat().map((e) => e.service))].sort()));
  }
  if ((m = /^\/api\/services\/([^/]+)\/operations$/.exec(p))) {
    const service = decodeURIComponent(m[1]);
    const names = [...traces.values()].flat().filter((e) => e.service === service).map((e) => e.span.name);
    return send(res, 200, jaeger([...new Set(names)].sort()));
  }
  if ((m = /^\/api\/v3\/traces\/([0-9a-f]{32})$/.exec(p))) {
    const entries = traces.get(m[1]);
    return entries ? send(res, 200, otlpTrace(entries)) : send(res, 404, {error: {code: 5, message: 'trace not found'}});
  }
  if (p === '/api/search') {
    try { return send(res, 200, search(q)); } catch (err) { return send(res, 400, {error: err.message}); }
  }
  if (p === '/api/service-map') return send(res, 200, serviceMap(q));
  if (p === '/api/operations-table') return send(res, 200, operationsTable(q));
  if (p === '/api/status') {
    return send(res, 200, {version: '0.1.0-fixture', spans: ingest.accepted, traces: traces.size, dbBytes: storedBytes,
      receivers: {otlpHttp: base, otlpGrpc: '(none: fixture)'}, ingest});
  }
  if (p === '/api/live') {
    let spansets;
    try { spansets = parseQuery(q.get('q')); } catch (err) { return send(res, 400, {error: err.message}); }
    res.writeHead(200, {'Content-Type': 'text/event-stream', 'Cache-Control': 'no-store'});
    res.write(': live\n\n');
    const client = {res, spansets, pending: new Set()};
    liveClients.add(client);
    const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), 15000);
    req.on('close', () => { clearInterval(keepAlive); liveClients.delete(client); });
    return undefined;
  }
  return send(res, 404, jaegerError(404, 'no such endpoint'));
}

function receive(req, res) {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    let request;
    try { request = JSON.parse(body.toString('utf8')); } catch {
      ingest.refused++;
      return send(res, 400, {code: 3, message: 'body is not OTLP/JSON'});
    }
    storedBytes += body.length;
    notifyLive(store(request));
    return send(res, 200, {});
  });
}

function main() {
  const args = process.argv.slice(2);
  const opt = (name) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : undefined; };
  const port = Number(opt('--port') || 0);
  const token = opt('--token');
  if (!args.includes('--no-demo')) {
    for (const t of demoTraces()) {
      for (const r of t.requests()) {
        storedBytes += JSON.stringify(r).length;
        store(r);
      }
    }
  }
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://fixture');
    const base = `http://${req.headers.host}`;
    if (req.method === 'POST' && url.pathname === '/v1/traces') return receive(req, res);
    if (req.method !== 'GET') return send(res, 405, jaegerError(405, 'GET only'));
    if (url.pathname === '/' && url.searchParams.has('token')) {
      res.writeHead(302, {Location: `/#token=${encodeURIComponent(url.searchParams.get('token'))}`});
      return res.end();
    }
    if (!url.pathname.startsWith('/api/')) return serveStatic(req, res, url.pathname);
    if (!authorized(req, url, token)) return send(res, 401, jaegerError(401, 'missing or wrong token'));
    return handleApi(req, res, url, base);
  });
  server.listen(port, '127.0.0.1', () => {
    console.log(`listening http://127.0.0.1:${server.address().port}`);
  });
}

main();
