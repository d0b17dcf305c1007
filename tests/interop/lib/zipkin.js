'use strict';
/*
 * Zipkin v2 JSON: the reference for each span is computed by the official
 * @opentelemetry/exporter-zipkin transform (toZipkinSpan) applied to a JS
 * ReadableSpan built from the driver's expectation — never from our own
 * payload — and then corrected where that 1.30.x transform departs from the
 * OpenTelemetry specification's Zipkin section (trace/sdk_exporters/zipkin.md
 * and common/mapping-to-non-otlp.md), because the spec is what our exporter
 * implements:
 *
 *   - timestamp: the JS transform leaves the fraction of a microsecond
 *     (only duration is rounded); Zipkin and the spec want whole
 *     microseconds, so the reference is rounded;
 *   - attribute tags: the JS transform uses String(value), which writes
 *     arrays as "a,b" and cannot hold int64 beyond 2^53; the spec wants
 *     arrays as JSON lists and integers exact. Tags of span attributes are
 *     therefore derived from the expectation by the spec's rules;
 *   - otel.scope.name / otel.scope.version (and the deprecated
 *     otel.library.* aliases, which "MUST also be reported"): missing in
 *     the JS transform, required by the generic mapping;
 *   - status ERROR without a description: the spec requires an "error" tag
 *     holding "", the JS transform omits it;
 *   - events with attributes: the spec folds the attributes into the
 *     annotation value ("name": {"k": "v"}), the JS transform drops them;
 *   - resource attributes other than service.name: the spec leaves them
 *     TBD and the JS transform copies them all into tags, so they are
 *     optional here, but when present they must carry the right value.
 *
 * Fields that come straight from the JS transform: traceId, id, parentId,
 * name, kind, timestamp, duration (whole microseconds; the driver's times
 * have sub-microsecond parts below 500 ns so truncating and rounding
 * exporters agree), localEndpoint, otel.status_code, the error description,
 * the otel.dropped_* counts, annotation timestamps and the values of events
 * without attributes.
 */

const { toZipkinSpan, defaultStatusCodeTagName, defaultStatusErrorTagName } =
  require('@opentelemetry/exporter-zipkin/build/src/transform');
const net = require('net');
const { diff, parseJsonStrict } = require('./otlp');
const { readableSpan, jsValue } = require('./jsspan');

const ZIPKIN_FIELDS = new Set([
  'traceId', 'name', 'parentId', 'id', 'kind', 'timestamp', 'duration', 'debug', 'shared',
  'localEndpoint', 'remoteEndpoint', 'annotations', 'tags',
]);

function parseBody(buf) {
  const v = parseJsonStrict(buf);
  if (!Array.isArray(v)) throw new Error('Zipkin v2 body must be a JSON list of spans');
  return v;
}

/* ---- Spec rules for attribute values as tag strings ----------------------------- */

/*
 * A JSON value (parsed) against a typed value, by common/README.md's rules
 * for array elements and map values: strings, booleans and numbers in
 * their JSON types (NaN and the infinities as the strings "NaN",
 * "Infinity", "-Infinity"), bytes as base64 strings, the empty value as
 * null, arrays as lists and maps as objects. Integers must be safe JS
 * integers to be compared here (JSON.parse rounds beyond 2^53).
 */
function jsonMatches(e, g) {
  if ('string' in e) return g === e.string;
  if ('bool' in e) return g === e.bool;
  if ('int' in e) return Number.isSafeInteger(Number(e.int)) && g === Number(e.int);
  if ('double' in e) {
    if (typeof e.double === 'string') return g === e.double;
    return typeof g === 'number' && Object.is(g, e.double);
  }
  if ('bytes' in e) return g === Buffer.from(e.bytes, 'hex').toString('base64');
  if ('empty' in e) return g === null;
  if ('array' in e) return Array.isArray(g) && g.length === e.array.length && e.array.every((x, i) => jsonMatches(x, g[i]));
  if ('kvlist' in e) {
    if (!g || typeof g !== 'object' || Array.isArray(g)) return false;
    const keys = Object.keys(e.kvlist);
    return keys.length === Object.keys(g).length && keys.every((k) => k in g && jsonMatches(e.kvlist[k], g[k]));
  }
  return false;
}

/*
 * Check one tag value against a typed attribute value. Scalars: strings
 * as-is, booleans "true"/"false", integers exact in decimal, doubles any
 * spelling that reads back as the same double (the spec fixes no digit
 * count). Bytes: their base64 text; the empty value: "". Arrays: a JSON
 * list of the items in their JSON types (integer arrays are compared
 * textually because JSON.parse would round int64); maps: a JSON object.
 */
function checkTagValue(expected, got, where) {
  const bad = (what) => `${where}: expected ${what}, got ${JSON.stringify(got)}`;
  if (typeof got !== 'string') return bad('a string (Zipkin v2 tags are strings)');
  if ('string' in expected) return got === expected.string ? null : bad(JSON.stringify(expected.string));
  if ('bool' in expected) return got === String(expected.bool) ? null : bad(`"${expected.bool}"`);
  if ('int' in expected) return got === expected.int ? null : bad(`"${expected.int}"`);
  if ('double' in expected) {
    const d = Number(expected.double);
    return got.trim() !== '' && Object.is(Number(got), d) ? null : bad(`a number equal to ${expected.double}`);
  }
  if ('bytes' in expected) {
    const b64 = Buffer.from(expected.bytes, 'hex').toString('base64');
    return got === b64 ? null : bad(`base64 ${JSON.stringify(b64)}`);
  }
  if ('empty' in expected) return got === '' ? null : bad('"" (the empty value)');
  if ('array' in expected || 'kvlist' in expected) {
    const items = expected.array;
    if (items && items.length && items.every((i) => 'int' in i)) {
      return got.replace(/\s+/g, '') === `[${items.map((i) => i.int).join(',')}]` ? null : bad(`JSON list [${items.map((i) => i.int).join(',')}]`);
    }
    const want = `JSON ${items ? 'list' : 'object'} for ${JSON.stringify(expected)}`;
    let parsed;
    try {
      parsed = JSON.parse(got);
    } catch (e) {
      return bad(want);
    }
    return jsonMatches(expected, parsed) ? null : bad(want);
  }
  return bad(`a value for ${JSON.stringify(expected)}`);
}

/*
 * An annotation value: the bare event name when the event has neither
 * attributes nor dropped attributes, else the spec's form
 * "name": {"key": "value", ...} (the whole value as one braced JSON object
 * {"name": {...}} is accepted too), where a non-zero dropped count must
 * appear as otel.dropped_attributes_count, as the generic mapping requires
 * for every entity with attributes. Attribute values may be JSON-typed or
 * tag strings.
 */
function checkEventValue(e, got, where) {
  const problems = [];
  if (Object.keys(e.attributes).length === 0 && !e.droppedAttributesCount) {
    if (got !== e.name) problems.push(`${where}.value: expected ${JSON.stringify(e.name)}, got ${JSON.stringify(got)}`);
    return problems;
  }
  let obj;
  for (const text of [`{${got}}`, got]) {
    try {
      obj = JSON.parse(text);
      break;
    } catch (err) {
      obj = undefined;
    }
  }
  const keys = obj && typeof obj === 'object' ? Object.keys(obj) : [];
  if (keys.length !== 1 || keys[0] !== e.name || !obj[e.name] || typeof obj[e.name] !== 'object') {
    problems.push(`${where}.value: expected ${JSON.stringify(e.name)}: {attributes as JSON}, got ${JSON.stringify(got)}`);
    return problems;
  }
  const attrs = obj[e.name];
  const want = { ...e.attributes };
  if (e.droppedAttributesCount) want['otel.dropped_attributes_count'] = { int: String(e.droppedAttributesCount) };
  for (const [k, v] of Object.entries(want)) {
    if (!(k in attrs)) {
      problems.push(`${where}.value: attribute ${k} missing in ${JSON.stringify(got)}`);
      continue;
    }
    const a = attrs[k];
    // Inside the annotation's object the empty value is null, as in a JSON map.
    if ('empty' in v) {
      if (a !== null) problems.push(`${where}.value.${k}: expected null (the empty value), got ${JSON.stringify(a)}`);
      continue;
    }
    // A JSON-typed value is turned back into the tag spelling for one comparison path.
    const asTag = typeof a === 'string' ? a : JSON.stringify(a);
    const p = checkTagValue(v, asTag, `${where}.value.${k}`);
    if (p) problems.push(p);
  }
  for (const k of Object.keys(attrs)) {
    if (!(k in want)) problems.push(`${where}.value: attribute ${k} not expected in ${JSON.stringify(got)}`);
  }
  return problems;
}

/*
 * The remoteEndpoint the spec's rank table calls for on CLIENT and PRODUCER
 * spans, or undefined. The first listed attribute present wins; peer.service
 * is a service name, the address attributes go to ipv4/ipv6 when they are IP
 * literals (Zipkin's Endpoint fields for them) and to serviceName otherwise,
 * with the paired port attribute when there is one.
 */
const REMOTE_RANK = [
  ['peer.service'], ['server.address'], ['net.peer.name'], ['network.peer.address', 'network.peer.port'],
  ['server.socket.domain'], ['server.socket.address', 'server.socket.port'], ['net.sock.peer.name'],
  ['net.sock.peer.addr', 'net.sock.peer.port'], ['peer.hostname'], ['peer.address'], ['db.name'],
];
function remoteEndpoint(s) {
  for (const [key, portKey] of REMOTE_RANK) {
    const v = s.attributes[key];
    if (!v || !('string' in v)) continue;
    const ep = {};
    if (key === 'peer.service') ep.serviceName = v.string;
    else if (net.isIPv4(v.string)) ep.ipv4 = v.string;
    else if (net.isIPv6(v.string)) ep.ipv6 = v.string;
    else ep.serviceName = v.string;
    const port = portKey && s.attributes[portKey];
    if (port && 'int' in port) ep.port = Number(port.int);
    return ep;
  }
  return undefined;
}

/* ---- Comparison ----------------------------------------------------------------------- */

function checkSpan(exp, s, got) {
  const label = `span "${s.name}" (${s.spanId})`;
  const problems = [];
  for (const k of Object.keys(got)) {
    if (!ZIPKIN_FIELDS.has(k)) problems.push(`${label}.${k}: not a Zipkin v2 span field`);
  }
  const scope = exp.scopes[s.scope];
  const serviceName = exp.resource.attributes['service.name'].string;
  const ref = toZipkinSpan(readableSpan(exp, s), serviceName, defaultStatusCodeTagName, defaultStatusErrorTagName);
  ref.timestamp = Math.round(ref.timestamp);
  (ref.annotations || []).forEach((a) => { a.timestamp = Math.round(a.timestamp); });

  // Identity, naming and timing straight from the official transform.
  for (const f of ['traceId', 'id', 'parentId', 'name', 'kind', 'timestamp', 'duration', 'localEndpoint']) {
    diff(ref[f], got[f], `${label}.${f}`, problems);
  }
  for (const f of ['timestamp', 'duration']) {
    if (!Number.isInteger(got[f])) problems.push(`${label}.${f}: Zipkin times are whole microseconds, got ${JSON.stringify(got[f])}`);
  }
  for (const f of ['debug', 'shared']) {
    if (f in got && typeof got[f] !== 'boolean') problems.push(`${label}.${f}: expected a boolean, got ${JSON.stringify(got[f])}`);
  }

  // remoteEndpoint: SHOULD for CLIENT and PRODUCER.
  const remote = s.kind === 3 || s.kind === 4 ? remoteEndpoint(s) : undefined;
  diff(remote, got.remoteEndpoint, `${label}.remoteEndpoint`, problems);

  // Tags.
  const tags = got.tags || {};
  if (typeof tags !== 'object' || Array.isArray(tags)) {
    problems.push(`${label}.tags: expected an object, got ${JSON.stringify(got.tags)}`);
    return problems;
  }
  const required = new Map(); // key -> checker returning a problem or null
  const exact = (v) => (g, w) => (g === v ? null : `${w}: expected ${JSON.stringify(v)}, got ${JSON.stringify(g)}`);
  const forbidden = new Set();
  for (const [k, v] of Object.entries(s.attributes)) {
    // A false "error" would make Zipkin flag the span failed: the spec says to remove it.
    if (k === 'error' && (v.bool === false || v.string === 'false')) forbidden.add(k);
    else required.set(k, (g, w) => checkTagValue(v, g, w));
  }
  // The JS transform writes attributes into the same tags object, so status
  // and count tags are taken from it only where it derived them itself.
  const derived = ['otel.dropped_attributes_count', 'otel.dropped_events_count', 'otel.dropped_links_count'];
  if (s.status.code !== 0) derived.push(defaultStatusCodeTagName);
  for (const k of derived) {
    if (k in ref.tags) required.set(k, exact(ref.tags[k]));
  }
  // For ERROR the description is the error tag, whatever an attribute said.
  if (s.status.code === 2) required.set(defaultStatusErrorTagName, exact(s.status.message));
  // service.namespace must not become part of the service name but a tag.
  const ns = exp.resource.attributes['service.namespace'];
  if (ns && !(s.attributes['service.namespace'])) required.set('service.namespace', (g, w) => checkTagValue(ns, g, w));
  for (const prefix of ['otel.scope', 'otel.library']) {
    required.set(`${prefix}.name`, exact(scope.name));
    if (scope.version) required.set(`${prefix}.version`, exact(scope.version));
  }
  const optional = new Map();
  for (const [k, v] of Object.entries(exp.resource.attributes)) {
    if (!required.has(k)) optional.set(k, (g, w) => checkTagValue(v, g, w));
  }
  for (const [k, check] of required) {
    const w = `${label}.tags['${k}']`;
    if (!(k in tags)) problems.push(`${w}: missing`);
    else {
      const p = check(tags[k], w);
      if (p) problems.push(p);
    }
  }
  for (const [k, g] of Object.entries(tags)) {
    if (required.has(k)) continue;
    const w = `${label}.tags['${k}']`;
    if (forbidden.has(k)) {
      problems.push(`${w}: must be removed (a false error attribute), got ${JSON.stringify(g)}`);
    } else if (optional.has(k)) {
      const p = optional.get(k)(g, w);
      if (p) problems.push(p);
    } else {
      problems.push(`${w}: not expected, got ${JSON.stringify(g)}`);
    }
  }

  // Annotations: absent without events (the spec's "omit empty fields").
  if (s.events.length === 0) {
    if (got.annotations !== undefined) problems.push(`${label}.annotations: expected absent, got ${JSON.stringify(got.annotations)}`);
  } else if (!Array.isArray(got.annotations) || got.annotations.length !== s.events.length) {
    problems.push(`${label}.annotations: expected ${s.events.length} annotations, got ${JSON.stringify(got.annotations)}`);
  } else {
    s.events.forEach((e, i) => {
      const w = `${label}.annotations[${i}]`;
      const a = got.annotations[i];
      diff(ref.annotations[i].timestamp, a.timestamp, `${w}.timestamp`, problems);
      problems.push(...checkEventValue(e, a.value, w));
      for (const k of Object.keys(a)) {
        if (k !== 'timestamp' && k !== 'value') problems.push(`${w}.${k}: not a Zipkin annotation field`);
      }
    });
  }
  return problems;
}

/* Compare every received Zipkin span with the expectation; [] when all match. */
function compare(exp, bodies) {
  const problems = [];
  const byId = new Map();
  for (const list of bodies) {
    for (const z of list) {
      if (!z || typeof z !== 'object') {
        problems.push(`received a non-object span ${JSON.stringify(z)}`);
        continue;
      }
      if (typeof z.id !== 'string' || !/^[0-9a-f]{16}$/.test(z.id)) problems.push(`span id ${JSON.stringify(z.id)} is not 16 lowercase hex digits`);
      if (typeof z.traceId !== 'string' || !/^([0-9a-f]{16}|[0-9a-f]{32})$/.test(z.traceId)) {
        problems.push(`span ${z.id}: traceId ${JSON.stringify(z.traceId)} is not 16 or 32 lowercase hex digits`);
      }
      if (byId.has(z.id)) problems.push(`span ${z.id} received twice`);
      byId.set(z.id, z);
    }
  }
  for (const s of exp.spans) {
    const got = byId.get(s.spanId);
    if (!got) {
      problems.push(`span "${s.name}" (${s.spanId}): never received`);
      continue;
    }
    byId.delete(s.spanId);
    problems.push(...checkSpan(exp, s, got));
  }
  for (const z of byId.values()) problems.push(`span "${z.name}" (${z.id}): received but not expected`);
  return problems;
}

module.exports = { parseBody, compare, checkTagValue };
