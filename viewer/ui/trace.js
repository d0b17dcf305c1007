// trace.js - the trace page (#/trace/{id}[?span={spanId}]): a summary, the
// waterfall and the details of the selected span.
//
// The time from the parsed response to the drawn page is measured and left
// on <body>: data-render-ms (and data-rendered-trace, the trace id), so a
// test can hold the UI to its 10,000-spans-in-a-second budget; its parts
// too: data-model-ms (buildTrace), data-dom-ms (building the page), and
// data-fetch-ms (request and JSON parsing, before the render starts).

import {h, replaceChildren, copyButton} from './dom.js';
import {apiGet} from './api.js';
import {formatDurationNs, formatTime, formatCount} from './format.js';
import {serviceColorClass} from './colors.js';
import {buildTrace, anyValueText} from './trace_model.js';
import {Waterfall} from './waterfall.js';
import {renderSpanDetails} from './span_details.js';

const baseUrl = () => `${location.origin}${location.pathname}`;

export function mountTrace(root, route) {
  const traceId = route.path[1] || '';
  const controller = new AbortController();
  let page = null;
  delete document.body.dataset.renderMs;
  delete document.body.dataset.renderedTrace;
  replaceChildren(root, h('section', {class: 'page'}, h('p', {class: 'loading'}, 'Loading trace…')));
  load(root, traceId, route.params.get('span'), controller.signal).then((p) => { page = p; }).catch(() => {});
  return {
    unmount() {
      controller.abort();
      if (page) page.destroy();
    },
  };
}

async function load(root, traceId, initialSpanId, signal) {
  const fetchStart = performance.now();
  let body;
  try {
    body = await apiGet(`/api/v3/traces/${encodeURIComponent(traceId)}`, {}, signal);
  } catch (err) {
    if (err.name === 'AbortError') throw err;
    const message = err.status === 404 ? `Trace ${traceId} was not found.` : err.message;
    replaceChildren(root, h('section', {class: 'page'},
      h('div', {class: 'notice notice-error', role: 'alert'}, message),
      h('p', null, h('a', {href: '#/search'}, 'Back to search'))));
    throw err;
  }
  const t0 = performance.now();
  const model = buildTrace(body);
  const modelMs = performance.now() - t0;
  if (!model.spans.length) {
    replaceChildren(root, h('section', {class: 'page'},
      h('div', {class: 'notice', role: 'status'}, `Trace ${traceId} has no spans.`)));
    return null;
  }
  const page = new TracePage(root, model, traceId, body);
  const domMs = performance.now() - t0 - modelMs;
  const initial = initialSpanId ? model.spans.findIndex((s) => s.spanId === initialSpanId) : -1;
  if (initial >= 0) page.selectSpan(initial);
  // Measured once the browser has laid out and painted the page: the
  // timeout after an animation frame runs after that frame's paint.
  requestAnimationFrame(() => setTimeout(() => {
    document.body.dataset.fetchMs = (t0 - fetchStart).toFixed(1);
    document.body.dataset.modelMs = modelMs.toFixed(1);
    document.body.dataset.domMs = domMs.toFixed(1);
    document.body.dataset.renderMs = (performance.now() - t0).toFixed(1);
    document.body.dataset.renderedTrace = traceId;
  }, 0));
  return page;
}

class TracePage {
  constructor(root, model, traceId, body) {
    this.model = model;
    this.traceId = traceId;
    this.body = body;
    this.detailsBox = h('div', {class: 'trace-details', hidden: true});
    this.waterfall = new Waterfall(model, {onSelect: (i) => this.selectSpan(i, false)});
    this.waterfall.enableAxisZoom(() => { this.resetZoom.hidden = false; });
    replaceChildren(root, h('section', {class: 'page page-trace', dataset: {traceId}},
      this.buildHeader(), this.buildToolbar(),
      h('div', {class: 'trace-body'}, this.waterfall.element, this.detailsBox)));
  }

  destroy() {
    this.waterfall.destroy();
  }

  traceLink() {
    return `${baseUrl()}#/trace/${this.traceId}`;
  }

  buildHeader() {
    const m = this.model;
    const legend = m.services.map(([service, count]) =>
      h('li', {class: `svc-chip ${serviceColorClass(service)}`}, service, h('span', {class: 'count'}, formatCount(count))));
    return h('header', {class: 'trace-head'},
      h('div', {class: 'trace-title-row'},
        h('h1', {class: 'trace-title'},
          h('span', {class: `svc-chip ${serviceColorClass(m.rootService)}`}, m.rootService),
          h('span', null, m.rootName || '(no root span)')),
        h('div', {class: 'actions'},
          copyButton('Copy link', () => this.traceLink()),
          h('button', {type: 'button', class: 'btn', on: {click: () => this.download()}}, 'Download JSON'))),
      h('dl', {class: 'trace-meta'},
        meta('Trace ID', h('code', {class: 'mono'}, this.traceId)),
        meta('Started', formatTime(m.startDate)),
        meta('Duration', formatDurationNs(m.duration)),
        meta('Services', formatCount(m.services.length)),
        meta('Depth', formatCount(m.maxDepth + 1)),
        meta('Spans', formatCount(m.spans.length)),
        meta('Errors', h('span', {class: m.errors ? 'text-error' : ''}, formatCount(m.errors)))),
      h('ul', {class: 'legend', 'aria-label': 'Services in this trace'}, legend));
  }

  buildToolbar() {
    this.findInput = h('input', {type: 'search', class: 'input find', placeholder: 'Find spans (name, service, id, attribute)',
      'aria-label': 'Find spans'});
    this.findCount = h('span', {class: 'find-count muted', 'aria-live': 'polite'});
    let timer = 0;
    this.findInput.addEventListener('input', () => {
      clearTimeout(timer);
      timer = setTimeout(() => this.find(this.findInput.value), 150);
    });
    this.findInput.addEventListener('keydown', (e) => {
      if (e.key === 'Enter') { e.preventDefault(); this.nextMatch(e.shiftKey ? -1 : 1); }
    });
    const critical = h('input', {type: 'checkbox', checked: true, id: 'show-critical'});
    critical.addEventListener('change', () => this.waterfall.setCriticalVisible(critical.checked));
    this.resetZoom = h('button', {type: 'button', class: 'btn', hidden: true}, 'Reset zoom');
    this.resetZoom.addEventListener('click', () => { this.waterfall.setZoom(0, 0); this.resetZoom.hidden = true; });
    return h('div', {class: 'toolbar trace-toolbar'},
      this.findInput, this.findCount,
      h('label', {class: 'check', for: 'show-critical'}, critical, h('span', {class: 'critical-swatch', 'aria-hidden': 'true'}), 'Critical path'),
      h('span', {class: 'toolbar-gap'}),
      h('span', {class: 'muted hint'}, 'Drag across the time axis to zoom'),
      this.resetZoom,
      h('button', {type: 'button', class: 'btn', on: {click: () => this.waterfall.collapseBelow(Infinity)}}, 'Expand all'),
      h('button', {type: 'button', class: 'btn', on: {click: () => this.waterfall.collapseBelow(1)}}, 'Collapse all'));
  }

  // Marks the spans whose name, service, id or an attribute contains text.
  find(text) {
    const needle = text.trim().toLowerCase();
    this.matchList = [];
    if (!needle) {
      this.findCount.textContent = '';
      this.waterfall.setMatches(null);
      return;
    }
    const matches = new Uint8Array(this.model.spans.length);
    for (const i of this.model.order) {
      if (spanMatches(this.model.spans[i], needle)) {
        matches[i] = 1;
        this.matchList.push(i);
      }
    }
    this.matchCursor = -1;
    this.findCount.textContent = `${formatCount(this.matchList.length)} matching`;
    this.waterfall.setMatches(matches);
  }

  nextMatch(step) {
    if (!this.matchList || !this.matchList.length) return;
    const n = this.matchList.length;
    this.matchCursor = (this.matchCursor + step + n) % n;
    this.selectSpan(this.matchList[this.matchCursor], true);
    this.findCount.textContent = `${this.matchCursor + 1} of ${formatCount(n)} matching`;
  }

  selectSpan(index, reveal = true) {
    this.waterfall.select(index, reveal);
    const span = this.model.spans[index];
    history.replaceState(null, '', `#/trace/${this.traceId}?span=${encodeURIComponent(span.spanId)}`);
    this.detailsBox.hidden = false;
    replaceChildren(this.detailsBox, renderSpanDetails(this.model, index, {
      onSelectSpan: (i) => this.selectSpan(i),
      onClose: () => this.closeDetails(),
      spanLink: () => `${this.traceLink()}?span=${encodeURIComponent(span.spanId)}`,
    }));
  }

  closeDetails() {
    this.detailsBox.hidden = true;
    this.waterfall.select(-1);
    history.replaceState(null, '', `#/trace/${this.traceId}`);
  }

  // Saves the trace as the API returned it (OTLP JSON).
  download() {
    const blob = new Blob([JSON.stringify(this.body, null, 2)], {type: 'application/json'});
    const url = URL.createObjectURL(blob);
    const a = h('a', {href: url, download: `trace-${this.traceId}.json`});
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  }
}

function meta(term, value) {
  return h('div', {class: 'meta-item'}, h('dt', null, term), h('dd', null, value));
}

function spanMatches(span, needle) {
  if (span.name.toLowerCase().includes(needle) || span.service.toLowerCase().includes(needle) ||
      span.spanId.includes(needle)) return true;
  for (const kv of span.attributes) {
    if (kv && typeof kv.key === 'string' && kv.key.toLowerCase().includes(needle)) return true;
    if (anyValueText(kv && kv.value).text.toLowerCase().includes(needle)) return true;
  }
  return false;
}
