'use strict';
/*
 * Decoding of OTLP trace requests into one canonical form, shared by the
 * protobuf, JSON and gRPC receivers, so all three are compared against the
 * driver's expectation by the same code.
 *
 * Protobuf bytes are decoded by the protobufjs root that
 * @opentelemetry/otlp-transformer generated from opentelemetry-proto: what we
 * check is what the official JS decoder sees, not what our own C encoder
 * believes it wrote. OTLP/JSON has no official JS decoder, so JSON bodies go
 * through a strict walker that applies the proto3 JSON mapping with the OTLP
 * exceptions (hex ids, integer enums); its field tables are verified against
 * the same generated root at load time, so a field the official schema
 * does not know cannot slip through.
 */

const root = require('@opentelemetry/otlp-transformer/build/src/generated/root.js');

const pb = root.opentelemetry.proto;
const ExportTraceServiceRequest = pb.collector.trace.v1.ExportTraceServiceRequest;
const ExportTraceServiceResponse = pb.collector.trace.v1.ExportTraceServiceResponse;

/*
 * Field kinds, per opentelemetry-proto. 'msg:X' is a nested message,
 * 'list:X' a repeated one; 'id' is a bytes field OTLP/JSON spells in hex.
 */
const SCHEMA = {
  ExportTraceServiceRequest: { resourceSpans: 'list:ResourceSpans' },
  ResourceSpans: { resource: 'msg:Resource', scopeSpans: 'list:ScopeSpans', schemaUrl: 'string' },
  Resource: { attributes: 'list:KeyValue', droppedAttributesCount: 'uint32' },
  ScopeSpans: { scope: 'msg:InstrumentationScope', spans: 'list:Span', schemaUrl: 'string' },
  InstrumentationScope: {
    name: 'string', version: 'string', attributes: 'list:KeyValue', droppedAttributesCount: 'uint32',
  },
  Span: {
    traceId: 'id', spanId: 'id', traceState: 'string', parentSpanId: 'id', name: 'string',
    kind: 'enum', startTimeUnixNano: 'fixed64', endTimeUnixNano: 'fixed64',
    attributes: 'list:KeyValue', droppedAttributesCount: 'uint32', events: 'list:Event',
    droppedEventsCount: 'uint32', links: 'list:Link', droppedLinksCount: 'uint32',
    status: 'msg:Status',
  },
  Event: {
    timeUnixNano: 'fixed64', name: 'string', attributes: 'list:KeyValue',
    droppedAttributesCount: 'uint32',
  },
  Link: {
    traceId: 'id', spanId: 'id', traceState: 'string', attributes: 'list:KeyValue',
    droppedAttributesCount: 'uint32',
  },
  Status: { message: 'string', code: 'enum' },
  KeyValue: { key: 'string', value: 'msg:AnyValue' },
  AnyValue: {
    stringValue: 'string', boolValue: 'bool', intValue: 'int64', doubleValue: 'double',
    arrayValue: 'msg:ArrayValue', kvlistValue: 'msg:KeyValueList', bytesValue: 'bytes',
  },
  ArrayValue: { values: 'list:AnyValue' },
  KeyValueList: { values: 'list:KeyValue' },
};
const ONEOF = { AnyValue: true }; // every AnyValue field belongs to the oneof "value"

/*
 * Fields newer than the generated 0.57.x root (Span.flags = 16,
 * Link.flags = 6). Our encoders write them; JSON bodies may carry them and
 * they are type-checked, but their values are verified by the C decoder
 * tests, not here.
 */
const NEWER = { Span: { flags: 'fixed32' }, Link: { flags: 'fixed32' } };

const GENERATED = {
  ExportTraceServiceRequest, ResourceSpans: pb.trace.v1.ResourceSpans,
  Resource: pb.resource.v1.Resource, ScopeSpans: pb.trace.v1.ScopeSpans,
  InstrumentationScope: pb.common.v1.InstrumentationScope, Span: pb.trace.v1.Span,
  Event: pb.trace.v1.Span.Event, Link: pb.trace.v1.Span.Link, Status: pb.trace.v1.Status,
  KeyValue: pb.common.v1.KeyValue, AnyValue: pb.common.v1.AnyValue,
  ArrayValue: pb.common.v1.ArrayValue, KeyValueList: pb.common.v1.KeyValueList,
};

// The tables above must name exactly the fields of the official generated code.
for (const [name, fields] of Object.entries(SCHEMA)) {
  const official = Object.keys(GENERATED[name].prototype).filter((k) => k !== 'toJSON').sort();
  const ours = Object.keys(fields).sort();
  if (official.join(',') !== ours.join(',')) {
    throw new Error(`schema table ${name} [${ours}] differs from generated root.js [${official}]`);
  }
}

function hex(bytes) {
  return Buffer.from(bytes).toString('hex');
}

function defaultFor(kind) {
  if (kind.startsWith('list:')) return [];
  if (kind.startsWith('msg:')) return null;
  switch (kind) {
    case 'string': return '';
    case 'bool': return false;
    case 'int64': case 'fixed64': return '0';
    case 'id': case 'bytes': return [];
    default: return 0; // uint32, fixed32, enum, double
  }
}

/* ---- OTLP/JSON: strict proto3 JSON mapping -> plain object ------------------ */

const DEC_INT = /^-?(0|[1-9][0-9]*)$/;
const DEC_UINT = /^(0|[1-9][0-9]*)$/;

function jsonScalar(kind, v, path, opts) {
  const fail = (what) => { throw new Error(`${path}: ${what}, got ${JSON.stringify(v)}`); };
  switch (kind) {
    case 'string':
      if (typeof v !== 'string') fail('expected a JSON string');
      return v;
    case 'bool':
      if (typeof v !== 'boolean') fail('expected true or false');
      return v;
    case 'int64': {
      // proto3 JSON: 64-bit integers are decimal strings (a number loses
      // precision). opts.int64Numbers admits safe-integer numbers, which the
      // mapping lets parsers accept and the JS serializer writes.
      if (opts.int64Numbers && typeof v === 'number' && Number.isSafeInteger(v)) return String(v);
      if (typeof v !== 'string' || !DEC_INT.test(v)) fail('expected an int64 as a decimal string');
      const b = BigInt(v);
      if (b < -(1n << 63n) || b >= (1n << 63n)) fail('int64 out of range');
      return b.toString();
    }
    case 'fixed64': {
      if (typeof v !== 'string' || !DEC_UINT.test(v)) fail('expected a uint64 as a decimal string');
      if (BigInt(v) >= (1n << 64n)) fail('uint64 out of range');
      return BigInt(v).toString();
    }
    case 'uint32': case 'fixed32':
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 0xffffffff) {
        fail('expected a uint32 JSON number');
      }
      return v;
    case 'enum':
      // OTLP/JSON: enums MUST be integers, not names.
      if (typeof v !== 'number' || !Number.isInteger(v)) fail('expected an enum as an integer');
      return v;
    case 'double':
      if (typeof v === 'number') return v;
      if (v === 'NaN') return NaN;
      if (v === 'Infinity') return Infinity;
      if (v === '-Infinity') return -Infinity;
      return fail('expected a JSON number or "NaN"/"Infinity"/"-Infinity"');
    case 'id':
      // OTLP/JSON: trace and span ids are hex, not the mapping's base64.
      if (typeof v !== 'string' || !/^([0-9a-fA-F]{2})*$/.test(v)) fail('expected a hex id');
      return Array.from(Buffer.from(v, 'hex'));
    case 'bytes':
      if (typeof v !== 'string' || !/^[A-Za-z0-9+/_-]*={0,2}$/.test(v)) fail('expected base64');
      return Array.from(Buffer.from(v, 'base64'));
    default:
      throw new Error(`unknown kind ${kind}`);
  }
}

function fromJson(type, obj, path, opts) {
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) {
    throw new Error(`${path}: expected a JSON object for ${type}, got ${JSON.stringify(obj)}`);
  }
  const fields = SCHEMA[type];
  const newer = NEWER[type] || {};
  const out = {};
  for (const [name, kind] of Object.entries(fields)) {
    if (!ONEOF[type]) out[name] = defaultFor(kind);
  }
  let oneofSet = null;
  for (const [key, v] of Object.entries(obj)) {
    const p = `${path}.${key}`;
    if (newer[key]) {
      jsonScalar(newer[key], v, p, opts);
      continue;
    }
    const kind = fields[key];
    // Unknown keys include snake_case spellings: OTLP/JSON senders must use lowerCamelCase.
    if (!kind) throw new Error(`${p}: not a field of ${type}`);
    if (v === null) throw new Error(`${p}: null (omit the field instead)`);
    if (ONEOF[type]) {
      if (oneofSet) throw new Error(`${p}: oneof value already set by ${oneofSet}`);
      oneofSet = key;
    }
    if (kind.startsWith('list:')) {
      if (!Array.isArray(v)) throw new Error(`${p}: expected an array`);
      out[key] = v.map((item, i) => fromJson(kind.slice(5), item, `${p}[${i}]`, opts));
    } else if (kind.startsWith('msg:')) {
      out[key] = fromJson(kind.slice(4), v, p, opts);
    } else {
      out[key] = jsonScalar(kind, v, p, opts);
    }
  }
  if (ONEOF[type] && oneofSet) out.value = oneofSet;
  return out;
}

/*
 * JSON.parse keeps the last of repeated keys without a word, which would
 * hide an encoder writing a field twice. Scan valid JSON text for keys
 * repeated within one object.
 */
function duplicateKeys(text) {
  const stack = []; // per open container: {keys, expectKey} for objects, null for arrays
  const found = [];
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      let j = i + 1;
      while (text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      const top = stack[stack.length - 1];
      if (top && top.expectKey) {
        const key = JSON.parse(text.slice(i, j + 1));
        if (top.keys.has(key)) found.push(key);
        top.keys.add(key);
        top.expectKey = false;
      }
      i = j;
    } else if (c === '{') {
      stack.push({ keys: new Set(), expectKey: true });
    } else if (c === '[') {
      stack.push(null);
    } else if (c === '}' || c === ']') {
      stack.pop();
    } else if (c === ',' && stack[stack.length - 1]) {
      stack[stack.length - 1].expectKey = true;
    }
  }
  return found;
}

/* JSON.parse, plus the repeated-key check. */
function parseJsonStrict(buf) {
  const text = buf.toString('utf8');
  let obj;
  try {
    obj = JSON.parse(text);
  } catch (e) {
    throw new Error(`body is not JSON: ${e.message}`);
  }
  const dups = duplicateKeys(text);
  if (dups.length) throw new Error(`body repeats keys within an object: ${dups.map((k) => JSON.stringify(k)).join(', ')}`);
  return obj;
}

/* Parse an OTLP/JSON body into the same plain form protobuf decoding gives. */
function decodeJson(buf, opts = {}) {
  return decodeJsonObject(parseJsonStrict(buf), 'request', opts);
}

/*
 * The same for a request already parsed (with parseJsonStrict), such as one
 * nested in a larger body: where names it in error messages.
 */
function decodeJsonObject(obj, where = 'request', opts = {}) {
  return fromJson('ExportTraceServiceRequest', obj, where, opts);
}

/* ---- OTLP/protobuf ------------------------------------------------------------- */

const TO_OBJECT = {
  longs: String, enums: Number, bytes: Array, defaults: true, arrays: true, oneofs: true,
};

/* Decode protobuf bytes with the official generated code into the plain form. */
function decodeProtobuf(buf) {
  const msg = ExportTraceServiceRequest.decode(buf);
  return ExportTraceServiceRequest.toObject(msg, TO_OBJECT);
}

function decodedToPlain(msg) {
  return ExportTraceServiceRequest.toObject(msg, TO_OBJECT);
}

function encodeResponse() {
  return Buffer.from(ExportTraceServiceResponse.encode(ExportTraceServiceResponse.create({})).finish());
}

/* ---- Plain form -> canonical span records ------------------------------------------ */

/*
 * A typed value: {string}, {bool}, {int} (decimal string), {double} (number,
 * or "NaN"/"Infinity"/"-Infinity" so JSON can hold it), {array}, {kvlist},
 * {bytes} (hex), or {empty: true} for an AnyValue with nothing set.
 */
function canonValue(av, path) {
  if (!av || !av.value) return { empty: true };
  switch (av.value) {
    case 'stringValue': return { string: av.stringValue };
    case 'boolValue': return { bool: av.boolValue };
    case 'intValue': return { int: String(av.intValue) };
    case 'doubleValue': {
      const d = av.doubleValue;
      if (Number.isNaN(d)) return { double: 'NaN' };
      if (d === Infinity) return { double: 'Infinity' };
      if (d === -Infinity) return { double: '-Infinity' };
      return { double: d };
    }
    case 'arrayValue':
      return { array: ((av.arrayValue && av.arrayValue.values) || []).map((v, i) => canonValue(v, `${path}[${i}]`)) };
    case 'kvlistValue':
      return { kvlist: canonAttrs((av.kvlistValue && av.kvlistValue.values) || [], path) };
    case 'bytesValue': return { bytes: hex(av.bytesValue) };
    default: throw new Error(`${path}: unknown AnyValue member ${av.value}`);
  }
}

/* Attributes are a map in OpenTelemetry: a repeated key is itself an error. */
function canonAttrs(list, path) {
  const out = {};
  for (const kv of list) {
    if (Object.prototype.hasOwnProperty.call(out, kv.key)) {
      throw new Error(`${path}: attribute key ${JSON.stringify(kv.key)} appears twice`);
    }
    out[kv.key] = canonValue(kv.value, `${path}['${kv.key}']`);
  }
  return out;
}

function checkIdLength(bytes, lengths, path) {
  if (!lengths.includes(bytes.length)) {
    throw new Error(`${path}: ${bytes.length} bytes, expected ${lengths.join(' or ')}`);
  }
  return hex(bytes);
}

/*
 * Flatten one request into span records carrying their resource and scope,
 * and check the grouping our encoders promise: one ResourceSpans per
 * resource and one ScopeSpans per scope inside it.
 */
function canonRequest(plain, where) {
  const records = [];
  const seenResources = new Set();
  (plain.resourceSpans || []).forEach((rs, ri) => {
    const rpath = `${where}.resourceSpans[${ri}]`;
    const res = rs.resource || { attributes: [], droppedAttributesCount: 0 };
    const resource = {
      schemaUrl: rs.schemaUrl,
      attributes: canonAttrs(res.attributes, `${rpath}.resource.attributes`),
      droppedAttributesCount: res.droppedAttributesCount,
    };
    const rkey = stableJson(resource);
    if (seenResources.has(rkey)) throw new Error(`${rpath}: resource repeated in a second ResourceSpans`);
    seenResources.add(rkey);
    const seenScopes = new Set();
    (rs.scopeSpans || []).forEach((ss, si) => {
      const spath = `${rpath}.scopeSpans[${si}]`;
      const sc = ss.scope || { name: '', version: '', attributes: [], droppedAttributesCount: 0 };
      const scope = {
        name: sc.name, version: sc.version, schemaUrl: ss.schemaUrl,
        attributes: canonAttrs(sc.attributes, `${spath}.scope.attributes`),
        droppedAttributesCount: sc.droppedAttributesCount,
      };
      const skey = stableJson(scope);
      if (seenScopes.has(skey)) throw new Error(`${spath}: scope repeated in a second ScopeSpans`);
      seenScopes.add(skey);
      if (!ss.spans || ss.spans.length === 0) throw new Error(`${spath}: ScopeSpans without spans`);
      ss.spans.forEach((s, i) => {
        const p = `${spath}.spans[${i}]`;
        const st = s.status || { code: 0, message: '' };
        records.push({
          resource, scope,
          traceId: checkIdLength(s.traceId, [16], `${p}.traceId`),
          spanId: checkIdLength(s.spanId, [8], `${p}.spanId`),
          traceState: s.traceState,
          parentSpanId: checkIdLength(s.parentSpanId, [0, 8], `${p}.parentSpanId`),
          name: s.name,
          kind: s.kind,
          startTimeUnixNano: String(s.startTimeUnixNano),
          endTimeUnixNano: String(s.endTimeUnixNano),
          attributes: canonAttrs(s.attributes, `${p}.attributes`),
          droppedAttributesCount: s.droppedAttributesCount,
          events: s.events.map((e, ei) => ({
            timeUnixNano: String(e.timeUnixNano),
            name: e.name,
            attributes: canonAttrs(e.attributes, `${p}.events[${ei}].attributes`),
            droppedAttributesCount: e.droppedAttributesCount,
          })),
          droppedEventsCount: s.droppedEventsCount,
          links: s.links.map((l, li) => ({
            traceId: checkIdLength(l.traceId, [16], `${p}.links[${li}].traceId`),
            spanId: checkIdLength(l.spanId, [8], `${p}.links[${li}].spanId`),
            traceState: l.traceState,
            attributes: canonAttrs(l.attributes, `${p}.links[${li}].attributes`),
            droppedAttributesCount: l.droppedAttributesCount,
          })),
          droppedLinksCount: s.droppedLinksCount,
          status: { code: st.code, message: st.message },
        });
      });
    });
  });
  return records;
}

/* ---- Expectation and comparison ------------------------------------------------------ */

/* JSON with sorted object keys, for identity checks independent of key order. */
function stableJson(v) {
  if (Array.isArray(v)) return `[${v.map(stableJson).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${stableJson(v[k])}`).join(',')}}`;
  }
  return JSON.stringify(v);
}

/*
 * The driver writes its resource and scopes once and names the scope on each
 * span; expand that into the record form canonRequest() produces.
 */
function expandExpectation(exp) {
  return exp.spans.map((s) => {
    const scope = exp.scopes[s.scope];
    if (!scope) throw new Error(`expectation: span ${s.name} names unknown scope ${s.scope}`);
    return { ...s, resource: exp.resource, scope };
  });
}

function describe(v) {
  if (v === undefined) return '(absent)';
  if (typeof v === 'number' && Object.is(v, -0)) return '-0';
  return JSON.stringify(v);
}

/* A path step; attribute keys such as "int.neg" are bracketed to stay unambiguous. */
function segment(k) {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(k) ? `.${k}` : `[${JSON.stringify(k)}]`;
}

/* Every difference between expected and got, as "path: expected X, got Y". */
function diff(expected, got, path, out) {
  if (Array.isArray(expected)) {
    if (!Array.isArray(got)) {
      out.push(`${path}: expected a list ${describe(expected)}, got ${describe(got)}`);
      return out;
    }
    if (expected.length !== got.length) {
      out.push(`${path}: expected ${expected.length} entries, got ${got.length} (expected ${describe(expected)}, got ${describe(got)})`);
      return out;
    }
    expected.forEach((e, i) => diff(e, got[i], `${path}[${i}]`, out));
    return out;
  }
  if (expected && typeof expected === 'object') {
    if (!got || typeof got !== 'object' || Array.isArray(got)) {
      out.push(`${path}: expected ${describe(expected)}, got ${describe(got)}`);
      return out;
    }
    for (const k of Object.keys(expected)) diff(expected[k], got[k], `${path}${segment(k)}`, out);
    for (const k of Object.keys(got)) {
      if (!(k in expected)) out.push(`${path}${segment(k)}: not expected, got ${describe(got[k])}`);
    }
    return out;
  }
  // Object.is: 0 and -0 are different doubles and NaN equals NaN.
  if (!Object.is(expected, got)) out.push(`${path}: expected ${describe(expected)}, got ${describe(got)}`);
  return out;
}

/*
 * Compare received span records with the expectation, matching spans by
 * span id. Returns a list of messages; empty means every field matched.
 */
function compareSpans(expectedSpans, gotSpans) {
  const problems = [];
  const byId = new Map();
  for (const g of gotSpans) {
    if (byId.has(g.spanId)) problems.push(`span ${g.spanId} (${g.name}) received twice`);
    byId.set(g.spanId, g);
  }
  for (const e of expectedSpans) {
    const g = byId.get(e.spanId);
    const label = `span "${e.name}" (${e.spanId})`;
    if (!g) {
      problems.push(`${label}: never received`);
      continue;
    }
    byId.delete(e.spanId);
    diff(e, g, label, problems);
  }
  for (const g of byId.values()) problems.push(`span "${g.name}" (${g.spanId}): received but not expected`);
  return problems;
}

module.exports = {
  ExportTraceServiceRequest, ExportTraceServiceResponse, decodeJson, decodeJsonObject, decodeProtobuf, decodedToPlain,
  encodeResponse, canonRequest, expandExpectation, compareSpans, diff, stableJson, parseJsonStrict,
};
