// view_send.js - a sender of OTLP/HTTP protobuf requests for the otelc view
// tests (view_durability.sh, view_backpressure.sh): every span has ids of its
// own, so that what the store holds can be counted against what was
// acknowledged.
//
//   node view_send.js batches URL N SPANS
//       N requests of SPANS spans, one after the other; prints the spans
//       acknowledged (200 without a partial success); exits 1 at the first
//       other answer.
//   node view_send.js flood URL SECONDS SPANS [CONCURRENCY]
//       requests of SPANS spans for SECONDS from CONCURRENCY loops (1), each
//       waiting Retry-After after a refusal (a refused request is not
//       resent: the next one carries new spans); prints one JSON line:
//       {"statuses": {"200": n, "429": n, ...}, "retryAfter": {"429": ["1"]},
//        "ackedSpans": n}
'use strict';
const crypto = require('crypto');
const http = require('http');

function varint(n) {
  const out = [];
  let v = BigInt(n);
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v) b |= 0x80;
    out.push(b);
  } while (v);
  return Buffer.from(out);
}

function field(num, bytes) { // a length-delimited field
  return Buffer.concat([varint((num << 3) | 2), varint(bytes.length), bytes]);
}

function fixed64(num, value) {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt(value));
  return Buffer.concat([varint((num << 3) | 1), b]);
}

function str(num, s) { return field(num, Buffer.from(s, 'utf8')); }

// A KeyValue with a string value, as field num of its message.
function keyValue(num, key, value) {
  return field(num, Buffer.concat([str(1, key), field(2, str(1, value))]));
}

// Ids the template holds in place of real ones (see request()).
const TRACE_MARK = Buffer.from('7472616365206d61726b206865726521', 'hex');
const SPAN_MARK = Buffer.from('7370616e6d61726b', 'hex');

// One Span (a SERVER span, field 2 of ScopeSpans) of the marked trace.
function span(name) {
  const now = BigInt(Date.now()) * 1000000n;
  return field(2, Buffer.concat([
    field(1, TRACE_MARK), field(2, SPAN_MARK),
    str(5, name), Buffer.concat([varint(6 << 3), varint(2)]),
    fixed64(7, now), fixed64(8, now + 1500000n),
    keyValue(9, 'test.attr', 'x'.repeat(64)), // Span.attributes
  ]));
}

function offsetsOf(buf, mark) {
  const at = [];
  for (let i = buf.indexOf(mark); i >= 0; i = buf.indexOf(mark, i + mark.length)) at.push(i);
  return at;
}

// An ExportTraceServiceRequest of n spans in one trace, made once with
// marked ids; each request is a copy with fresh random ids in their place.
const templates = new Map();
function request(n) {
  let t = templates.get(n);
  if (!t) {
    const spans = [];
    for (let i = 0; i < n; i++) spans.push(span(`op-${i % 7}`));
    const scopeSpans = field(2, Buffer.concat([field(1, str(1, 'view_send')), ...spans]));
    const resource = field(1, keyValue(1, 'service.name', 'view-send'));
    const bytes = field(1, Buffer.concat([resource, scopeSpans]));
    t = {bytes, traces: offsetsOf(bytes, TRACE_MARK), spans: offsetsOf(bytes, SPAN_MARK)};
    templates.set(n, t);
  }
  const out = Buffer.from(t.bytes);
  const ids = crypto.randomBytes(16 + 8 * t.spans.length);
  for (const at of t.traces) ids.copy(out, at, 0, 16);
  t.spans.forEach((at, i) => ids.copy(out, at, 16 + 8 * i, 24 + 8 * i));
  return out;
}

function post(url, body) {
  return new Promise(resolve => {
    const req = http.request(url, {method: 'POST', agent: false, headers: {
      'Content-Type': 'application/x-protobuf', 'Content-Length': body.length}}, res => {
      const chunks = [];
      res.on('data', c => chunks.push(c));
      res.on('end', () => resolve({status: res.statusCode, body: Buffer.concat(chunks),
                                   retryAfter: res.headers['retry-after']}));
    });
    req.on('error', e => resolve({status: 0, error: e.message}));
    req.setTimeout(120000, () => req.destroy(new Error('timeout')));
    req.end(body);
  });
}

async function batches(url, n, spans) {
  let acked = 0;
  for (let i = 0; i < n; i++) {
    const r = await post(url, request(spans));
    // A 200 with a body is a partial success: spans were rejected, a bug of this sender.
    if (r.status !== 200 || r.body.length) {
      console.log(acked);
      console.error(`view_send: request ${i + 1}: ${r.status} ${r.error || ''}`);
      process.exit(1);
    }
    acked += spans;
  }
  console.log(acked);
}

// CONCURRENCY loops, each sending one request after the other and waiting
// Retry-After seconds after a 429 or 503, as an OTLP exporter does.
async function flood(url, seconds, spans, concurrency) {
  const until = Date.now() + seconds * 1000;
  const statuses = {}, retryAfter = {};
  let acked = 0;
  async function loop() {
    while (Date.now() < until) {
      const r = await post(url, request(spans));
      statuses[r.status] = (statuses[r.status] || 0) + 1;
      if (r.retryAfter !== undefined) {
        const seen = retryAfter[r.status] || (retryAfter[r.status] = []);
        if (!seen.includes(r.retryAfter)) seen.push(r.retryAfter);
      }
      if (r.status === 200 && !r.body.length) acked += spans;
      const wait = Math.min(Number(r.retryAfter) || 0, (until - Date.now()) / 1000);
      if (wait > 0) await new Promise(done => setTimeout(done, wait * 1000));
    }
  }
  await Promise.all(Array.from({length: concurrency}, loop));
  console.log(JSON.stringify({statuses, retryAfter, ackedSpans: acked}));
}

const [mode, url, a, b, c] = process.argv.slice(2);
if (mode === 'batches') batches(url, Number(a), Number(b));
else if (mode === 'flood') flood(url, Number(a), Number(b), Number(c || 1));
else {
  console.error('usage: node view_send.js batches URL N SPANS | flood URL SECONDS SPANS [CONCURRENCY]');
  process.exit(2);
}
