// span_details.js - everything about one span: ids, timing, status,
// attributes, events, links, resource and scope, as text.

import {h, copyButton} from './dom.js';
import {formatDurationNs, formatTime} from './format.js';
import {serviceColorClass} from './colors.js';
import {KIND_NAMES, STATUS_NAMES, anyValueText, eventOffset, selfTime} from './trace_model.js';

// A table of OTLP KeyValues; each row carries data-key so tests and users
// can find an attribute.
function attributeTable(attributes, label) {
  if (!attributes.length) return h('p', {class: 'muted'}, `No ${label}.`);
  const rows = attributes.map((kv) => {
    const key = kv && typeof kv.key === 'string' ? kv.key : '';
    const {type, text} = anyValueText(kv && kv.value);
    return h('tr', {dataset: {key}},
      h('th', {scope: 'row', class: 'kv-key'}, key),
      h('td', {class: 'kv-value'}, h('span', {class: 'kv-text'}, text),
        type !== 'string' ? h('span', {class: 'kv-type'}, type) : null));
  });
  return h('table', {class: 'kv', 'aria-label': label}, h('tbody', null, rows));
}

function section(title, count, ...content) {
  return h('details', {class: 'section', open: true},
    h('summary', null, title, count !== null ? h('span', {class: 'count'}, String(count)) : null),
    ...content);
}

function fact(term, ...value) {
  return [h('dt', null, term), h('dd', null, ...value)];
}

function statusBadge(span) {
  const name = STATUS_NAMES[span.statusCode];
  return h('span', {class: `badge status-${name}`}, name.toUpperCase());
}

function idValue(id, label) {
  return [h('code', {class: 'mono'}, id || '–'), id ? copyButton('Copy', () => id, 'btn-small') : null,
    h('span', {class: 'sr-only'}, label)];
}

function eventsSection(model, span) {
  const items = span.events.map((event) => {
    const offset = eventOffset(model, event);
    const name = event && typeof event.name === 'string' ? event.name : '';
    const attrs = Array.isArray(event && event.attributes) ? event.attributes : [];
    return h('li', {class: 'event'},
      h('div', {class: 'event-head'},
        h('span', {class: 'event-time'}, offset === null ? '–' : `+${formatDurationNs(offset - span.start)}`),
        h('span', {class: 'event-name'}, name)),
      attrs.length ? attributeTable(attrs, 'event attributes') : null);
  });
  const dropped = span.dropped.events ? h('p', {class: 'muted'}, `${span.dropped.events} events dropped by the sender.`) : null;
  return section('Events', span.events.length,
    items.length ? h('ol', {class: 'events'}, items) : h('p', {class: 'muted'}, 'No events.'), dropped);
}

// A link to a span of this trace selects it; one to another trace opens it.
function linksSection(model, span, onSelectSpan) {
  const items = span.links.map((link) => {
    const traceId = link && typeof link.traceId === 'string' ? link.traceId : '';
    const spanId = link && typeof link.spanId === 'string' ? link.spanId : '';
    const sameTrace = traceId === model.traceId;
    const target = sameTrace ? model.spans.findIndex((s) => s.spanId === spanId) : -1;
    const go = sameTrace
      ? (target >= 0 ? h('button', {type: 'button', class: 'btn btn-small', on: {click: () => onSelectSpan(target)}}, 'Show span') : null)
      : h('a', {href: `#/trace/${encodeURIComponent(traceId)}?span=${encodeURIComponent(spanId)}`}, 'Open trace');
    const attrs = Array.isArray(link && link.attributes) ? link.attributes : [];
    return h('li', {class: 'link'},
      h('dl', {class: 'facts'},
        fact('Trace ID', h('code', {class: 'mono'}, traceId), sameTrace ? ' (this trace)' : null),
        fact('Span ID', h('code', {class: 'mono'}, spanId), ' ', go),
        link && link.traceState ? fact('Trace state', h('code', {class: 'mono'}, String(link.traceState))) : null),
      attrs.length ? attributeTable(attrs, 'link attributes') : null);
  });
  return section('Links', span.links.length,
    items.length ? h('ul', {class: 'links'}, items) : h('p', {class: 'muted'}, 'No links.'));
}

function scopeSection(span) {
  const scope = span.scope;
  const attrs = Array.isArray(scope.attributes) ? scope.attributes : [];
  return section('Instrumentation scope', null,
    h('dl', {class: 'facts'},
      fact('Name', typeof scope.name === 'string' && scope.name ? scope.name : '–'),
      fact('Version', typeof scope.version === 'string' && scope.version ? scope.version : '–')),
    attrs.length ? attributeTable(attrs, 'scope attributes') : null);
}

// The details of span index; onSelectSpan(index) shows another span,
// onClose() hides the panel.
export function renderSpanDetails(model, index, {onSelectSpan, onClose, spanLink}) {
  const span = model.spans[index];
  const parent = span.parent >= 0 ? model.spans[span.parent] : null;
  const dropped = span.dropped.attributes ? h('p', {class: 'muted'}, `${span.dropped.attributes} attributes dropped by the sender.`) : null;
  return h('aside', {class: 'details', 'aria-label': 'Span details', dataset: {spanId: span.spanId}},
    h('div', {class: 'details-head'},
      h('h2', {class: 'details-title'}, span.name || '(no name)'),
      h('button', {type: 'button', class: 'btn btn-icon', 'aria-label': 'Close details', on: {click: onClose}}, '✕')),
    h('div', {class: 'details-sub'},
      h('span', {class: `svc-chip ${serviceColorClass(span.service)}`}, span.service),
      h('span', {class: 'badge'}, KIND_NAMES[span.kind]), statusBadge(span),
      span.critical ? h('span', {class: 'badge badge-critical'}, 'critical path') : null,
      copyButton('Copy link to span', spanLink, 'btn-small')),
    h('dl', {class: 'facts'},
      fact('Duration', formatDurationNs(span.duration)),
      fact('Self time', formatDurationNs(selfTime(model, index))),
      fact('Start', `+${formatDurationNs(span.start)} `,
        h('span', {class: 'muted'}, formatTime(new Date(model.startDate.getTime() + span.start / 1e6)))),
      fact('Span ID', ...idValue(span.spanId, 'span id')),
      fact('Parent ID', parent
        ? h('button', {type: 'button', class: 'linkish mono', on: {click: () => onSelectSpan(span.parent)}}, span.parentId)
        : h('span', null, span.parentId ? h('code', {class: 'mono'}, span.parentId) : '–',
          span.missingParent ? h('span', {class: 'muted'}, ' (not in this trace)') : null)),
      span.traceState ? fact('Trace state', h('code', {class: 'mono'}, span.traceState)) : null,
      span.flags !== null ? fact('Flags', `0x${span.flags.toString(16).padStart(2, '0')}`) : null,
      span.statusMessage ? fact('Status message', h('span', {class: 'status-message'}, span.statusMessage)) : null),
    section('Attributes', span.attributes.length, attributeTable(span.attributes, 'span attributes'), dropped),
    eventsSection(model, span),
    linksSection(model, span, onSelectSpan),
    section('Resource', span.resource.attributes.length, attributeTable(span.resource.attributes, 'resource attributes')),
    scopeSection(span));
}
