'use strict';
/*
 * Tests of the comparers themselves, without the C library: payloads made
 * by the official JS serializers (OTLP protobuf and JSON) and by the
 * official Zipkin transform from a hand-written expectation must match it,
 * and each deliberate corruption must be reported with its precise field.
 * Without this, a comparer that silently accepted everything would make
 * every interop run pass.
 */

const assert = require('assert');
const { JsonTraceSerializer, ProtobufTraceSerializer } = require('@opentelemetry/otlp-transformer');
const { toZipkinSpan } = require('@opentelemetry/exporter-zipkin/build/src/transform');

const otlp = require('./lib/otlp');
const zipkin = require('./lib/zipkin');
const { readableSpan } = require('./lib/jsspan');

// The JS SDK has no resource schema URL and no exact int64, so the fixture
// keeps to what it can express.
const EXPECTATION = {
  resource: {
    schemaUrl: '',
    attributes: { 'service.name': { string: 'selftest-svc' }, 'deployment.environment': { string: 'ci' } },
    droppedAttributesCount: 0,
  },
  scopes: {
    a: { name: 'scope.a', version: '1.0.0', schemaUrl: 'https://example.com/a', attributes: {}, droppedAttributesCount: 0 },
  },
  spans: [
    {
      scope: 'a',
      traceId: '0af7651916cd43dd8448eb211c80319c',
      spanId: 'b7ad6b7169203331',
      traceState: 'k1=v1,k2=v2',
      parentSpanId: '00f067aa0ba902b7',
      name: 'parent',
      kind: 3,
      startTimeUnixNano: '1700000000000000100',
      endTimeUnixNano: '1700000000250000300',
      attributes: {
        s: { string: 'text' },
        b: { bool: false },
        i: { int: '-42' },
        d: { double: 2.5 },
        sa: { array: [{ string: 'x' }, { string: 'y,z' }] },
        ia: { array: [{ int: '1' }, { int: '-2' }] },
        m: { kvlist: { k: { string: 'v' }, e: { empty: true }, l: { array: [{ int: '1' }, { string: 's' }] } } },
        n: { empty: true },
        'peer.service': { string: 'db' },
      },
      droppedAttributesCount: 2,
      events: [
        { timeUnixNano: '1700000000100000200', name: 'plain', attributes: {}, droppedAttributesCount: 0 },
        { timeUnixNano: '1700000000200000400', name: 'rich', attributes: { n: { int: '7' }, t: { string: 'u' } }, droppedAttributesCount: 1 },
      ],
      droppedEventsCount: 1,
      links: [
        { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '1111111111111111', traceState: 'l=1', attributes: { la: { bool: true } }, droppedAttributesCount: 0 },
      ],
      droppedLinksCount: 0,
      status: { code: 2, message: 'broken' },
    },
    {
      scope: 'a',
      traceId: '0af7651916cd43dd8448eb211c80319c',
      spanId: '2222222222222222',
      traceState: '',
      parentSpanId: '',
      name: 'root',
      kind: 1,
      startTimeUnixNano: '1700000000000000000',
      endTimeUnixNano: '1700000001000000000',
      attributes: {},
      droppedAttributesCount: 0,
      events: [],
      droppedEventsCount: 0,
      links: [],
      droppedLinksCount: 0,
      status: { code: 0, message: '' },
    },
  ],
};

let checks = 0;
function expectClean(problems, what) {
  assert.deepStrictEqual(problems, [], `${what} should match the expectation`);
  checks++;
}
function expectProblem(problems, fragment, what) {
  assert.ok(problems.some((p) => p.includes(fragment)),
    `${what}: expected a problem containing ${JSON.stringify(fragment)}, got ${JSON.stringify(problems)}`);
  checks++;
}
function expectThrow(fn, fragment, what) {
  assert.throws(fn, (e) => e.message.includes(fragment), what);
  checks++;
}

const jsSpans = EXPECTATION.spans.map((s) => readableSpan(EXPECTATION, s));
const expected = otlp.expandExpectation(EXPECTATION);
const clone = (v) => JSON.parse(JSON.stringify(v));

/* ---- OTLP/protobuf ---- */
const pbBody = Buffer.from(ProtobufTraceSerializer.serializeRequest(jsSpans));
const pbPlain = otlp.decodeProtobuf(pbBody);
expectClean(otlp.compareSpans(expected, otlp.canonRequest(pbPlain, 'pb')), 'JS protobuf payload');

function mutated(plain, edit) {
  const p = clone(plain);
  edit(p.resourceSpans[0].scopeSpans[0].spans.find((s) => Buffer.from(s.spanId).toString('hex') === 'b7ad6b7169203331'), p);
  return otlp.compareSpans(expected, otlp.canonRequest(p, 'pb'));
}
expectProblem(mutated(pbPlain, (s) => { s.attributes.find((a) => a.key === 'i').value.intValue = '-43'; }),
  `.attributes.i.int: expected "-42", got "-43"`, 'changed int attribute');
expectProblem(mutated(pbPlain, (s) => { s.events.pop(); }), '.events: expected 2 entries, got 1', 'lost event');
expectProblem(mutated(pbPlain, (s) => { s.links[0].traceState = 'l=2'; }), '.links[0].traceState: expected "l=1", got "l=2"', 'link tracestate');
expectProblem(mutated(pbPlain, (s) => { s.startTimeUnixNano = '1700000000000000101'; }),
  '.startTimeUnixNano: expected "1700000000000000100", got "1700000000000000101"', 'start time');
expectProblem(mutated(pbPlain, (s) => { s.status.message = ''; }), '.status.message: expected "broken", got ""', 'status message');
expectProblem(mutated(pbPlain, (s) => { s.droppedEventsCount = 0; }), '.droppedEventsCount: expected 1, got 0', 'dropped events');
expectProblem(mutated(pbPlain, (s) => { s.attributes.find((a) => a.key === 'd').value.doubleValue = 2.5000000000000004; }),
  '.attributes.d.double: expected 2.5, got 2.5000000000000004', 'double precision');
expectProblem(mutated(pbPlain, (s, p) => { p.resourceSpans[0].scopeSpans[0].scope.version = '1.0.1'; }),
  '.scope.version: expected "1.0.0", got "1.0.1"', 'scope version');
expectProblem(mutated(pbPlain, (s, p) => { p.resourceSpans[0].scopeSpans[0].spans.pop(); }),
  'span "root" (2222222222222222): never received', 'missing span');
const attrOf = (s, key) => s.attributes.find((a) => a.key === key).value;
expectProblem(mutated(pbPlain, (s) => { attrOf(s, 'm').kvlistValue.values[0].value.stringValue = 'w'; }),
  '.attributes.m.kvlist.k.string: expected "v", got "w"', 'value inside a map');
expectProblem(mutated(pbPlain, (s) => { attrOf(s, 'm').kvlistValue.values[2].value.arrayValue.values.pop(); }),
  '.attributes.m.kvlist.l.array: expected 2 entries, got 1', 'array inside a map');
expectProblem(mutated(pbPlain, (s) => { Object.assign(attrOf(s, 'n'), { value: 'stringValue', stringValue: '' }); }),
  '.attributes.n.empty: expected true, got (absent)', 'empty value written as a string');
expectProblem(mutated(pbPlain, (s) => { Object.assign(attrOf(s, 'n'), { value: 'bytesValue', bytesValue: [0, 255] }); }),
  '.attributes.n.bytes: not expected, got "00ff"', 'bytes read as hex');
expectThrow(() => mutated(pbPlain, (s) => { s.attributes.push(clone(s.attributes[0])); }), 'appears twice', 'duplicate key');
expectThrow(() => mutated(pbPlain, (s) => { s.spanId = s.spanId.slice(0, 4); }), 'spanId: 4 bytes', 'short span id');
expectThrow(() => mutated(pbPlain, (s, p) => { p.resourceSpans.push(clone(p.resourceSpans[0])); }),
  'resource repeated', 'ungrouped resources');

/* ---- OTLP/JSON ---- */
const jsonText = Buffer.from(JsonTraceSerializer.serializeRequest(jsSpans)).toString();
const jsonPlain = otlp.decodeJson(Buffer.from(jsonText), { int64Numbers: true });
expectClean(otlp.compareSpans(expected, otlp.canonRequest(jsonPlain, 'json')), 'JS JSON payload');
// The JS serializer writes intValue as a JSON number; the strict mode our exporter is held to refuses it.
expectThrow(() => otlp.decodeJson(Buffer.from(jsonText)), 'expected an int64 as a decimal string', 'int64 as number');
const jsonObj = JSON.parse(jsonText);
const jsonSpan = jsonObj.resourceSpans[0].scopeSpans[0].spans[0];
function jsonWith(edit) {
  const o = clone(jsonObj);
  edit(o.resourceSpans[0].scopeSpans[0].spans[0]);
  return Buffer.from(JSON.stringify(o));
}
expectThrow(() => otlp.decodeJson(jsonWith((s) => { s.trace_id = s.traceId; delete s.traceId; }), { int64Numbers: true }),
  'trace_id: not a field of Span', 'snake_case key');
expectThrow(() => otlp.decodeJson(jsonWith((s) => { s.kind = 'SPAN_KIND_CLIENT'; }), { int64Numbers: true }),
  'expected an enum as an integer', 'enum by name');
expectThrow(() => otlp.decodeJson(jsonWith((s) => { s.spanId = Buffer.from(s.spanId, 'hex').toString('base64'); }), { int64Numbers: true }),
  'expected a hex id', 'base64 id');
expectThrow(() => otlp.decodeJson(jsonWith((s) => { s.startTimeUnixNano = Number(s.startTimeUnixNano); }), { int64Numbers: true }),
  'expected a uint64 as a decimal string', 'time as number');
expectThrow(() => otlp.decodeJson(jsonWith((s) => { s.attributes[0].value.boolValue = true; }), { int64Numbers: true }),
  'oneof value already set', 'two oneof members');
expectThrow(() => otlp.decodeJson(Buffer.from(jsonText.replace('"name":"parent"', '"name":"parent","name":"other"')), { int64Numbers: true }),
  'body repeats keys within an object: "name"', 'repeated key');
expectThrow(() => zipkin.parseBody(Buffer.from('[{"tags":{"a":"1","b":"2","a":"3"}}]')), 'repeats keys within an object: "a"', 'repeated tag');
assert.deepStrictEqual(zipkin.parseBody(Buffer.from('[{"a":{"a":"\\"a\\""},"b":["a","a"]},{"a":1}]')).length, 2, 'same key in different objects is fine');
// Newer fields (flags) are admitted in JSON but type-checked.
otlp.decodeJson(jsonWith((s) => { s.flags = 257; }), { int64Numbers: true });
expectThrow(() => otlp.decodeJson(jsonWith((s) => { s.flags = '257'; }), { int64Numbers: true }), 'expected a uint32', 'flags as string');
assert.ok(jsonSpan.traceId, 'JS JSON serializer wrote hex ids');

/* ---- Zipkin ---- */
// The official transform, then the spec's corrections this checker demands.
function specZipkin() {
  return EXPECTATION.spans.map((s, i) => {
    const z = toZipkinSpan(jsSpans[i], 'selftest-svc', 'otel.status_code', 'error');
    Object.assign(z.tags, { 'otel.scope.name': 'scope.a', 'otel.scope.version': '1.0.0', 'otel.library.name': 'scope.a', 'otel.library.version': '1.0.0' });
    if (s.attributes.sa) {
      z.tags.sa = '["x","y,z"]';
      z.tags.ia = '[1,-2]';
      z.tags.m = '{"k":"v","e":null,"l":[1,"s"]}';
      z.tags.n = '';
      z.remoteEndpoint = { serviceName: 'db' };
      z.annotations[1].value = '"rich": {"n": 7, "t": "u", "otel.dropped_attributes_count": 1}';
    }
    return z;
  });
}
expectClean(zipkin.compare(EXPECTATION, [specZipkin()]), 'spec-conformant Zipkin payload');
function zipkinWith(edit) {
  const z = specZipkin();
  edit(z[0], z);
  return zipkin.compare(EXPECTATION, [JSON.parse(JSON.stringify(z))]);
}
expectProblem(zipkinWith((z) => { z.tags.sa = 'x,y,z'; }), `tags['sa']: expected JSON list`, 'array as comma list');
expectProblem(zipkinWith((z) => { z.tags.m = '{"k":"v","e":"","l":[1,"s"]}'; }), `tags['m']: expected JSON object`, 'empty value in a map as ""');
expectProblem(zipkinWith((z) => { z.tags.m = '{"k":"v","e":null}'; }), `tags['m']: expected JSON object`, 'map entry missing');
expectProblem(zipkinWith((z) => { z.tags.n = 'null'; }), `tags['n']: expected "" (the empty value)`, 'empty value as null');
assert.strictEqual(zipkin.checkTagValue({ bytes: '00ff10' }, 'AP8Q', 'w'), null, 'bytes as base64');
expectProblem([zipkin.checkTagValue({ bytes: '00ff10' }, '00ff10', 'w')], 'w: expected base64 "AP8Q"', 'bytes as hex');
expectProblem([zipkin.checkTagValue({ array: [{ bytes: 'ff' }, { empty: true }] }, '["/w==",""]', 'w')], 'w: expected JSON list', 'empty in a list as ""');
assert.strictEqual(zipkin.checkTagValue({ array: [{ bytes: 'ff' }, { empty: true }, { double: 'NaN' }] }, '["/w==",null,"NaN"]', 'w'), null, 'list items');
expectProblem(zipkinWith((z) => { delete z.tags['otel.scope.name']; }), `tags['otel.scope.name']: missing`, 'scope tag');
expectProblem(zipkinWith((z) => { z.timestamp += 1; }), '.timestamp: expected 1700000000000000, got 1700000000000001', 'timestamp');
expectProblem(zipkinWith((z) => { z.kind = 'SERVER'; }), '.kind: expected "CLIENT", got "SERVER"', 'kind');
expectProblem(zipkinWith((z) => { z.tags.error = 'other'; }), `tags['error']: expected "broken", got "other"`, 'error tag');
expectProblem(zipkinWith((z) => { z.tags.i = -42; }), 'Zipkin v2 tags are strings', 'non-string tag');
expectProblem(zipkinWith((z) => { z.annotations[1].value = 'rich'; }), 'annotations[1].value: expected "rich": {attributes as JSON}', 'event attributes');
expectProblem(zipkinWith((z) => { z.tags['deployment.environment'] = 'prod'; }), `tags['deployment.environment']: expected "ci"`, 'resource tag value');
expectProblem(zipkinWith((z, all) => { all[1].parentId = ''; }), '.parentId: expected (absent), got ""', 'empty parentId');
expectProblem(zipkinWith((z, all) => { all[1].annotations = []; }), '.annotations: expected absent', 'empty annotations');
expectProblem(zipkinWith((z) => { z.tags.b = 'False'; }), `tags['b']: expected "false"`, 'bool spelling');
expectProblem(zipkinWith((z) => { z.remoteEndpoint = { ipv4: '10.0.0.1' }; }), '.remoteEndpoint.serviceName: expected "db"', 'remote endpoint');
expectProblem(zipkinWith((z, all) => { all[1].remoteEndpoint = { serviceName: 'x' }; }), '.remoteEndpoint: expected (absent)', 'remote endpoint on SERVER');
expectProblem(zipkinWith((z) => { z.annotations[1].value = '"rich": {"n": 7, "t": "u"}'; }),
  'attribute otel.dropped_attributes_count missing', 'event dropped count');
{
  // A false "error" attribute on a span that is not in error must not reach Zipkin.
  const exp = clone(EXPECTATION);
  exp.spans[1].attributes.error = { bool: false };
  const z = specZipkin();
  expectClean(zipkin.compare(exp, [z]), 'false error attribute removed');
  z[1].tags.error = 'false';
  expectProblem(zipkin.compare(exp, [z]), `tags['error']: must be removed`, 'false error attribute kept');
}

process.stdout.write(`interop selftest: ${checks} checks passed\n`);
