// otlp_json_assert.js - check the spans in an OTLP/JSON lines file (what
// OTEL_TRACES_EXPORTER=file writes) against JavaScript expressions.
//
// usage: node otlp_json_assert.js FILE 'EXPR' ['EXPR'...]
//
// Each EXPR must be truthy. It sees:
//   spans          every span: {traceId, spanId, parentSpanId, name, kind,
//                  start, end (BigInt ns), status, message, attrs, events,
//                  resource}; attrs and resource map keys to JS values
//                  (intValue as Number, arrays as arrays); events are
//                  {name, time (BigInt), attrs}
//   one(name)      the only span with that name (throws if not exactly one)
//   named(name)    every span with that name
// On failure the expression and a summary of every span are printed and
// the exit status is 1. As a module it exports value, attrs and load.
'use strict';
const fs = require('fs');

function value(v) {
  if (v === undefined || v === null) return undefined;
  if ('stringValue' in v) return v.stringValue;
  if ('intValue' in v) return Number(v.intValue);
  if ('doubleValue' in v) return v.doubleValue;
  if ('boolValue' in v) return v.boolValue;
  if ('arrayValue' in v) return (v.arrayValue.values || []).map(value);
  return undefined;
}

function attrs(list) {
  const out = {};
  for (const a of list || []) out[a.key] = value(a.value);
  return out;
}

function load(file) {
  const spans = [];
  const text = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const req = JSON.parse(line);
    for (const rs of req.resourceSpans || []) {
      const resource = attrs(rs.resource && rs.resource.attributes);
      for (const ss of rs.scopeSpans || []) {
        for (const s of ss.spans || []) {
          spans.push({
            traceId: s.traceId, spanId: s.spanId, parentSpanId: s.parentSpanId || '',
            name: s.name, kind: s.kind || 0,
            start: BigInt(s.startTimeUnixNano), end: BigInt(s.endTimeUnixNano),
            status: (s.status && s.status.code) || 0, message: (s.status && s.status.message) || '',
            attrs: attrs(s.attributes),
            events: (s.events || []).map(e => ({name: e.name, time: BigInt(e.timeUnixNano), attrs: attrs(e.attributes)})),
            resource, scope: ss.scope && ss.scope.name,
          });
        }
      }
    }
  }
  return spans;
}

function summary(spans) {
  return spans.map(s => `  ${s.name} trace=${s.traceId} span=${s.spanId} parent=${s.parentSpanId || '-'} ` +
    `status=${s.status}${s.message ? ' "' + s.message + '"' : ''} attrs=${JSON.stringify(s.attrs)} ` +
    `events=${JSON.stringify(s.events.map(e => e.name))}`).join('\n');
}

// Also a module: junit_assert.js reads attribute values the same way.
module.exports = {value, attrs, load};

if (require.main === module) {
  const [file, ...exprs] = process.argv.slice(2);
  const spans = load(file);
  const named = name => spans.filter(s => s.name === name);
  const one = name => {
    const found = named(name);
    if (found.length !== 1) throw new Error(`expected one span named "${name}", found ${found.length}`);
    return found[0];
  };
  let failed = 0;
  for (const expr of exprs) {
    let ok;
    try {
      ok = new Function('spans', 'one', 'named', `return (${expr});`)(spans, one, named);
    } catch (e) {
      ok = false;
      console.error(`error in ${expr}: ${e.message}`);
    }
    if (!ok) {
      failed++;
      console.error(`FAILED: ${expr}`);
    }
  }
  if (failed) console.error(`spans in ${file}:\n${summary(spans)}`);
  process.exit(failed ? 1 : 0);
}
