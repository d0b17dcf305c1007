'use strict';
/*
 * The driver's expectation of one span, rebuilt as the ReadableSpan the
 * OpenTelemetry JS SDK would hand its exporters, so the official JS
 * transforms can produce reference payloads from what the C program
 * created (and never from what our encoders wrote).
 */

const { SpanKind, SpanStatusCode } = require('@opentelemetry/api');
const { TraceState } = require('@opentelemetry/core');

// OTLP numbers kinds from 1 (INTERNAL); the JS API from 0.
const KINDS = [undefined, SpanKind.INTERNAL, SpanKind.SERVER, SpanKind.CLIENT, SpanKind.PRODUCER, SpanKind.CONSUMER];
const STATUS = [SpanStatusCode.UNSET, SpanStatusCode.OK, SpanStatusCode.ERROR];

/* Unix nanoseconds (decimal string) -> OpenTelemetry HrTime [seconds, nanos]. */
function hrTime(ns) {
  const b = BigInt(ns);
  return [Number(b / 1000000000n), Number(b % 1000000000n)];
}

/*
 * A canonical typed value as a JS attribute value. JS numbers cannot hold
 * every int64, so callers must not rely on this for exact integers. The
 * 1.30 JS API has no attribute form for maps, bytes and the empty value:
 * they become an object, a Uint8Array and null, which the reference
 * transform only stringifies into tags the comparer derives itself.
 */
function jsValue(v) {
  if ('string' in v) return v.string;
  if ('bool' in v) return v.bool;
  if ('int' in v) return Number(v.int);
  if ('double' in v) return Number(v.double);
  if ('array' in v) return v.array.map(jsValue);
  if ('kvlist' in v) return Object.fromEntries(Object.entries(v.kvlist).map(([k, x]) => [k, jsValue(x)]));
  if ('bytes' in v) return Uint8Array.from(Buffer.from(v.bytes, 'hex'));
  if ('empty' in v) return null;
  throw new Error(`no JS attribute form for ${JSON.stringify(v)}`);
}

function jsAttrs(attrs) {
  const out = {};
  for (const [k, v] of Object.entries(attrs)) out[k] = jsValue(v);
  return out;
}

function context(traceId, spanId, traceState) {
  return { traceId, spanId, traceFlags: 1, traceState: traceState ? new TraceState(traceState) : undefined };
}

// The JS serializers group spans by resource object identity, as one SDK
// shares one resource; so do we, per expectation.
const resources = new WeakMap();
function jsResource(exp) {
  if (!resources.has(exp)) resources.set(exp, { attributes: jsAttrs(exp.resource.attributes) });
  return resources.get(exp);
}

/* exp: the whole expectation (resource, scopes); s: one of its spans. */
function readableSpan(exp, s) {
  const scope = exp.scopes[s.scope];
  const dur = BigInt(s.endTimeUnixNano) - BigInt(s.startTimeUnixNano);
  return {
    name: s.name,
    kind: KINDS[s.kind],
    spanContext: () => context(s.traceId, s.spanId, s.traceState),
    parentSpanId: s.parentSpanId || undefined,
    startTime: hrTime(s.startTimeUnixNano),
    endTime: hrTime(s.endTimeUnixNano),
    duration: hrTime(dur.toString()),
    status: { code: STATUS[s.status.code], message: s.status.message || undefined },
    attributes: jsAttrs(s.attributes),
    links: s.links.map((l) => ({
      context: context(l.traceId, l.spanId, l.traceState),
      attributes: jsAttrs(l.attributes),
      droppedAttributesCount: l.droppedAttributesCount,
    })),
    events: s.events.map((e) => ({
      name: e.name,
      time: hrTime(e.timeUnixNano),
      attributes: jsAttrs(e.attributes),
      droppedAttributesCount: e.droppedAttributesCount,
    })),
    resource: jsResource(exp),
    instrumentationLibrary: { name: scope.name, version: scope.version || undefined, schemaUrl: scope.schemaUrl || undefined },
    droppedAttributesCount: s.droppedAttributesCount,
    droppedEventsCount: s.droppedEventsCount,
    droppedLinksCount: s.droppedLinksCount,
    ended: true,
  };
}

module.exports = { readableSpan, jsValue, hrTime };
