// trace_model.js - a trace from /api/v3/traces/{id} (OTLP JSON) as the
// waterfall draws it: spans in tree order with depths, subtree extents,
// service names, times relative to the trace's start, and the critical path.
//
// Why OTLP JSON and not the Jaeger shape of /api/traces/{id}: it keeps what
// the Jaeger mapping flattens or drops - the type of every attribute value
// (arrays and maps stay structured, ints stay distinct from strings, bytes
// are bytes), event names, links with their own attributes and trace state,
// the scope, dropped counts, and nanosecond times (Jaeger rounds to µs).
//
// The input is untrusted: any field may be missing or of the wrong type, a
// parent may be absent, ids may repeat, parents may form a cycle. Nothing
// here recurses over the span tree, so a 10,000-deep chain is fine.

export const KIND_NAMES = ['unspecified', 'internal', 'server', 'client', 'producer', 'consumer'];
export const STATUS_NAMES = ['unset', 'ok', 'error'];

// OTLP/JSON enums are integers; proto-JSON writers may send the names.
function enumValue(value, prefix, names) {
  if (Number.isInteger(value)) return value >= 0 && value < names.length ? value : 0;
  if (typeof value === 'string') {
    const index = names.indexOf(value.replace(prefix, '').toLowerCase());
    return index >= 0 ? index : 0;
  }
  return 0;
}

// A uint64 nanosecond time (decimal string or number) is read into
// (nanoSec, nanoRest), exactly: 1.7e18 ns is beyond a double's 2^53, its
// seconds and nanoseconds are not. Module variables rather than a returned
// pair, because a 10,000-span trace has 20,000 of them to read.
let nanoSec = 0, nanoRest = 0;

function readNanos(value) {
  if (typeof value === 'string' && value.length <= 20 && /^\d+$/.test(value)) {
    nanoSec = value.length > 9 ? Number(value.slice(0, -9)) : 0;
    nanoRest = Number(value.slice(-9));
    return true;
  }
  if (typeof value === 'number' && Number.isFinite(value) && value >= 0) {
    nanoSec = Math.floor(value / 1e9);
    nanoRest = value - nanoSec * 1e9;
    return true;
  }
  return false;
}

// value as ns after base ([sec, nanos]), or `fallback` when unreadable.
function nanosAfter(value, base, fallback) {
  return readNanos(value) ? (nanoSec - base[0]) * 1e9 + (nanoRest - base[1]) : fallback;
}

// The earliest start among the records, as [sec, nanos] ([0, 0] if none).
function earliestStart(records) {
  let sec = Infinity, rest = 0;
  for (const {raw} of records) {
    if (readNanos(raw.startTimeUnixNano) && (nanoSec < sec || (nanoSec === sec && nanoRest < rest))) {
      sec = nanoSec;
      rest = nanoRest;
    }
  }
  return sec === Infinity ? [0, 0] : [sec, rest];
}

const NONE_DROPPED = Object.freeze({attributes: 0, events: 0, links: 0});
const NO_CHILDREN = Object.freeze([]);

const asArray = (value) => (Array.isArray(value) ? value : []);
const asString = (value) => (typeof value === 'string' ? value : '');
const asCount = (value) => (Number.isInteger(value) && value > 0 ? value : Number(value) > 0 ? Number(value) : 0);

// The string value of attribute key in an OTLP KeyValue list, or ''.
export function stringAttribute(attributes, key) {
  for (const kv of asArray(attributes)) {
    if (kv && kv.key === key && kv.value && typeof kv.value.stringValue === 'string') return kv.value.stringValue;
  }
  return '';
}

// Flattens resourceSpans/scopeSpans/spans into raw span records.
function collectSpans(resourceSpans) {
  const records = [];
  for (const rs of asArray(resourceSpans)) {
    const resource = {
      attributes: asArray(rs && rs.resource && rs.resource.attributes),
      dropped: asCount(rs && rs.resource && rs.resource.droppedAttributesCount),
    };
    const service = stringAttribute(resource.attributes, 'service.name') || 'unknown_service';
    for (const ss of asArray(rs && rs.scopeSpans)) {
      const scope = (ss && typeof ss.scope === 'object' && ss.scope) || {};
      for (const raw of asArray(ss && ss.spans)) {
        if (raw && typeof raw === 'object') records.push({raw, resource, scope, service});
      }
    }
  }
  return records;
}

function convertSpan(record, base) {
  const {raw} = record;
  const status = (raw.status && typeof raw.status === 'object') ? raw.status : {};
  const start = nanosAfter(raw.startTimeUnixNano, base, 0);
  const end = Math.max(start, nanosAfter(raw.endTimeUnixNano, base, start));
  const droppedAttributes = asCount(raw.droppedAttributesCount), droppedEvents = asCount(raw.droppedEventsCount),
    droppedLinks = asCount(raw.droppedLinksCount);
  return {
    spanId: asString(raw.spanId),
    traceId: asString(raw.traceId),
    parentId: asString(raw.parentSpanId),
    name: asString(raw.name),
    kind: enumValue(raw.kind, /^SPAN_KIND_/, KIND_NAMES),
    start, end, duration: end - start,
    attributes: asArray(raw.attributes),
    events: asArray(raw.events),
    links: asArray(raw.links),
    statusCode: enumValue(status.code, /^STATUS_CODE_/, STATUS_NAMES),
    statusMessage: asString(status.message),
    traceState: asString(raw.traceState),
    flags: Number.isInteger(raw.flags) ? raw.flags : null,
    dropped: droppedAttributes || droppedEvents || droppedLinks
      ? {attributes: droppedAttributes, events: droppedEvents, links: droppedLinks} : NONE_DROPPED,
    resource: record.resource,
    scope: record.scope,
    service: record.service,
    // Filled in by the tree: index of the parent span (-1 for a root), the
    // children (NO_CHILDREN, shared, until the first arrives).
    parent: -1, children: NO_CHILDREN, depth: 0, row: 0, subtreeEnd: 0, critical: false,
    missingParent: false, duplicate: false,
  };
}

// Links each span to its parent; a span whose parent is absent (or itself)
// is a root with missingParent set; a repeated span id keeps the first
// span as the one its children hang from.
function linkParents(spans) {
  const byId = new Map();
  spans.forEach((span, i) => {
    if (byId.has(span.spanId)) span.duplicate = true;
    else byId.set(span.spanId, i);
  });
  spans.forEach((span, i) => {
    if (!span.parentId) return;
    const parent = byId.get(span.parentId);
    if (parent === undefined || parent === i) span.missingParent = true;
    else span.parent = parent;
  });
  return byId;
}

const byStart = (spans) => (a, b) => spans[a].start - spans[b].start || a - b;

// Orders spans depth-first (children by start time) into rows; a cycle of
// parents is broken at one of its spans, which becomes a root.
function orderRows(spans) {
  spans.forEach((span, i) => {
    if (span.parent < 0) return;
    const parent = spans[span.parent];
    if (parent.children === NO_CHILDREN) parent.children = [i];
    else parent.children.push(i);
  });
  const compare = byStart(spans);
  for (const span of spans) if (span.children.length > 1) span.children.sort(compare);
  const roots = [];
  spans.forEach((span, i) => { if (span.parent < 0) roots.push(i); });
  roots.sort(compare);

  const order = [];
  const visited = new Uint8Array(spans.length);
  // The depth-first walk keeps its stack in two typed arrays (span, next
  // child to visit): a 10,000-deep chain needs no recursion and no
  // allocation per step.
  const stackSpan = new Int32Array(spans.length), stackNext = new Int32Array(spans.length);
  const enter = (i, depth) => {
    visited[i] = 1;
    spans[i].depth = depth;
    spans[i].row = order.length;
    order.push(i);
    stackSpan[depth] = i;
    stackNext[depth] = 0;
  };
  const walk = (root) => {
    enter(root, 0);
    for (let top = 0; top >= 0;) {
      const span = spans[stackSpan[top]];
      if (stackNext[top] === span.children.length) {
        span.subtreeEnd = order.length;
        top--;
        continue;
      }
      const child = span.children[stackNext[top]++];
      if (!visited[child]) enter(child, ++top);
    }
  };
  for (const root of roots) walk(root);
  // What is left hangs from a cycle of parents: climb from the earliest
  // such span until a span repeats (one on the cycle) and make it a root.
  const unvisited = [];
  spans.forEach((_, i) => { if (!visited[i]) unvisited.push(i); });
  unvisited.sort(compare);
  for (const first of unvisited) {
    if (visited[first]) continue;
    const seen = new Set();
    let i = first;
    while (!seen.has(i)) { seen.add(i); i = spans[i].parent; }
    const parent = spans[i].parent;
    spans[parent].children = spans[parent].children.filter((c) => c !== i);
    spans[i].parent = -1;
    spans[i].missingParent = true;
    roots.push(i);
    walk(i);
  }
  return {order, roots};
}

// The latest end time in each span's subtree (the span and everything
// below it), computed bottom-up over the rows: in tree order a span's
// descendants follow it, so walking the rows backwards sees every child
// before its parent.
function subtreeEnds(spans, order) {
  const ends = new Float64Array(spans.length);
  for (let r = order.length - 1; r >= 0; r--) {
    const i = order[r];
    let end = spans[i].end;
    for (const c of spans[i].children) end = Math.max(end, ends[c]);
    ends[i] = end;
  }
  return ends;
}

// Among candidates (span indices), the one whose subtree ends last; ties
// go to the first in row order.
function lastToEnd(spans, ends, candidates) {
  let best = -1;
  for (const i of candidates) {
    if (best < 0 || ends[i] > ends[best] || (ends[i] === ends[best] && spans[i].row < spans[best].row)) best = i;
  }
  return best;
}

// The critical path, as this viewer defines it: the chain of spans that
// determines when the trace ends. It starts at the root whose subtree ends
// last, and from each span goes into the child whose subtree ends last,
// until a span with no children; ties go to the span first in row order
// (the earlier start). When children finish within their parents this is
// simply "the child that ends last", recursively. Comparing subtrees rather
// than the children's own ends matters for asynchronous work: a consumer
// span that outlives its parent, two levels down, is what the trace's end
// waited on, and the chain leads to it. It is a chain, one span per level,
// not Jaeger's segment-wise path: a parent's own work after its last child
// ended shows as the parent being on the path, not split out.
// Returns the span indices from root to leaf.
export function criticalPath(spans, roots, order) {
  const ends = subtreeEnds(spans, order);
  const path = [];
  let current = lastToEnd(spans, ends, roots);
  while (current >= 0) {
    path.push(current);
    current = lastToEnd(spans, ends, spans[current].children);
  }
  return path;
}

// The response of /api/v3/traces/{id} -> the model the pages draw.
export function buildTrace(body) {
  const resourceSpans = body && body.result ? body.result.resourceSpans : body && body.resourceSpans;
  const records = collectSpans(resourceSpans);
  const base = earliestStart(records);
  const spans = records.map((record) => convertSpan(record, base));
  linkParents(spans);
  const {order, roots} = orderRows(spans);
  const path = criticalPath(spans, roots, order);
  for (const i of path) spans[i].critical = true;
  return summarize(spans, order, roots, path, base);
}

function summarize(spans, order, roots, path, base) {
  let end = 0, maxDepth = 0, errors = 0;
  const services = new Map();
  for (const span of spans) {
    end = Math.max(end, span.end);
    maxDepth = Math.max(maxDepth, span.depth);
    if (span.statusCode === 2) errors++;
    services.set(span.service, (services.get(span.service) || 0) + 1);
  }
  const root = roots.length ? spans[roots[0]] : null;
  return {
    traceId: root ? root.traceId : '',
    spans, order, roots, criticalPath: path,
    duration: end,
    startDate: new Date(base[0] * 1000 + base[1] / 1e6),
    startParts: base,
    maxDepth, errors,
    services: [...services.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)),
    rootName: root ? root.name : '',
    rootService: root ? root.service : '',
  };
}

// A span's own time: its duration less the parts its children cover.
export function selfTime(model, index) {
  const span = model.spans[index];
  const intervals = span.children
    .map((c) => [Math.max(span.start, model.spans[c].start), Math.min(span.end, model.spans[c].end)])
    .filter(([a, b]) => b > a)
    .sort((x, y) => x[0] - y[0]);
  let covered = 0, reach = span.start;
  for (const [a, b] of intervals) {
    if (b <= reach) continue;
    covered += b - Math.max(a, reach);
    reach = b;
  }
  return span.duration - covered;
}

// An OTLP AnyValue -> {type, text} for display; arrays and maps as JSON.
export function anyValueText(value) {
  if (!value || typeof value !== 'object') return {type: 'empty', text: ''};
  if ('stringValue' in value) return {type: 'string', text: String(value.stringValue)};
  if ('boolValue' in value) return {type: 'bool', text: String(value.boolValue)};
  if ('intValue' in value) return {type: 'int', text: String(value.intValue)};
  if ('doubleValue' in value) return {type: 'double', text: String(value.doubleValue)};
  if ('bytesValue' in value) return {type: 'bytes', text: String(value.bytesValue)};
  if ('arrayValue' in value) return {type: 'array', text: JSON.stringify(plainValue(value, 0))};
  if ('kvlistValue' in value) return {type: 'map', text: JSON.stringify(plainValue(value, 0))};
  return {type: 'empty', text: ''};
}

const MAX_DEPTH = 64;

// An AnyValue as a plain JS value (bytes stay base64 text).
function plainValue(value, depth) {
  if (!value || typeof value !== 'object' || depth > MAX_DEPTH) return null;
  if ('arrayValue' in value) return asArray(value.arrayValue && value.arrayValue.values).map((v) => plainValue(v, depth + 1));
  if ('kvlistValue' in value) {
    const out = {};
    for (const kv of asArray(value.kvlistValue && value.kvlistValue.values)) {
      if (kv && typeof kv.key === 'string') out[kv.key] = plainValue(kv.value, depth + 1);
    }
    return out;
  }
  if ('intValue' in value) return Number.isSafeInteger(Number(value.intValue)) ? Number(value.intValue) : String(value.intValue);
  for (const key of ['stringValue', 'boolValue', 'doubleValue', 'bytesValue']) if (key in value) return value[key];
  return null;
}

// An event's time relative to the trace start (ns), or null.
export function eventOffset(model, event) {
  return nanosAfter(event && event.timeUnixNano, model.startParts, null);
}
