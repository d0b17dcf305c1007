// search.js - the search page (#/search?...): a form on the left, a
// duration-over-time scatter plot and the list of matching traces on the
// right, re-run on every event of /api/live while "live" is on.
//
// Every search goes through /api/search (TraceQL, Tempo's result shape):
// the form's fields become one spanset - a span of that service, with that
// name, in that duration range, in error - joined with && to what the user
// typed in the TraceQL box. The query actually sent is shown under the box.

import {h, replaceChildren} from './dom.js';
import {apiGet, liveUrl, loadServices, loadOperations, loadStatus} from './api.js';
import {formatDurationNs, formatTime, formatAgo, formatCount, parseDuration, LOOKBACKS, lookbackRange} from './format.js';
import {serviceColorClass} from './colors.js';
import {renderScatter} from './scatter.js';

const DEFAULTS = {service: '', operation: '', q: '', minDuration: '', maxDuration: '', errors: '',
  lookback: '1h', limit: '20', live: '', sort: 'recent'};
const MAX_LIMIT = 1500;
const SORTS = [['recent', 'Most recent'], ['longest', 'Longest first'], ['shortest', 'Shortest first'],
  ['spans', 'Most spans'], ['errors', 'Most errors']];

// A TraceQL string literal.
const quote = (text) => `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
// A duration as TraceQL writes it ("µs" is Go's, "us" TraceQL's).
const traceqlDuration = (text) => text.trim().replace('µs', 'us');

// The query the form's state asks for.
export function buildQuery(p) {
  const conditions = [];
  if (p.service) conditions.push(`resource.service.name = ${quote(p.service)}`);
  if (p.operation) conditions.push(`name = ${quote(p.operation)}`);
  if (p.minDuration) conditions.push(`duration >= ${traceqlDuration(p.minDuration)}`);
  if (p.maxDuration) conditions.push(`duration <= ${traceqlDuration(p.maxDuration)}`);
  if (p.errors) conditions.push('status = error');
  const form = conditions.length ? `{ ${conditions.join(' && ')} }` : '';
  const typed = p.q.trim();
  if (form && typed) return `${form} && (${typed})`;
  return form || typed || '{}';
}

// One trace of /api/search's answer, as the list and the plot use it.
function summarize(t) {
  const stats = t.serviceStats && typeof t.serviceStats === 'object' ? Object.entries(t.serviceStats) : [];
  const start = String(t.startTimeUnixNano || '0');
  const durationNs = t.durationNanos !== undefined ? Number(t.durationNanos) : Number(t.durationMs || 0) * 1e6;
  const spanSets = Array.isArray(t.spanSets) ? t.spanSets : t.spanSet ? [t.spanSet] : [];
  return {
    traceID: String(t.traceID || ''),
    rootService: String(t.rootServiceName || ''),
    rootName: String(t.rootTraceName || ''),
    startMs: start.length > 6 ? Number(start.slice(0, -6)) : 0,
    durationNs: Number.isFinite(durationNs) ? durationNs : 0,
    services: stats.map(([name, s]) => [name, Number(s && s.spanCount) || 0, Number(s && s.errorCount) || 0])
      .sort((a, b) => b[1] - a[1]),
    spanCount: stats.reduce((n, [, s]) => n + (Number(s && s.spanCount) || 0), 0),
    errorCount: stats.reduce((n, [, s]) => n + (Number(s && s.errorCount) || 0), 0),
    matched: spanSets.reduce((n, set) => n + (Number(set && set.matched) || 0), 0),
    get title() { return `${this.rootService || '?'}: ${this.rootName || '(root span not received)'}`; },
  };
}

const SORTERS = {
  recent: (a, b) => b.startMs - a.startMs,
  longest: (a, b) => b.durationNs - a.durationNs,
  shortest: (a, b) => a.durationNs - b.durationNs,
  spans: (a, b) => b.spanCount - a.spanCount,
  errors: (a, b) => b.errorCount - a.errorCount,
};

export function mountSearch(root, route) {
  const page = new SearchPage(root);
  page.update(route);
  return page;
}

class SearchPage {
  constructor(root) {
    this.root = root;
    this.controller = null;
    this.live = null;
    this.results = [];
    this.fresh = new Set();
    this.buildForm();
    this.scatterBox = h('div', {class: 'scatter-box'});
    this.summary = h('div', {class: 'results-summary', role: 'status', 'aria-live': 'polite'});
    this.sortSelect = select('sort', SORTS, 'Sort results');
    this.sortSelect.addEventListener('change', () => this.submit());
    this.list = h('ol', {class: 'results', 'aria-label': 'Traces'});
    this.message = h('div', {class: 'notice notice-error', role: 'alert', hidden: true});
    replaceChildren(root, h('section', {class: 'page page-search'},
      h('aside', {class: 'search-side'}, this.form),
      this.main = h('div', {class: 'search-main'},
        this.message, this.scatterBox,
        h('div', {class: 'results-head'}, this.summary, h('label', {class: 'inline-label'}, 'Sort ', this.sortSelect)),
        this.list)));
    this.resize = new ResizeObserver(() => this.drawScatter());
    this.resize.observe(this.scatterBox);
  }

  unmount() {
    if (this.controller) this.controller.abort();
    this.stopLive();
    this.resize.disconnect();
  }

  buildForm() {
    const f = this.fields = {
      service: select('service', [['', 'All services']], 'Service'),
      operation: select('operation', [['', 'All operations']], 'Operation'),
      q: h('textarea', {id: 'f-q', name: 'q', rows: 3, class: 'input mono', spellcheck: 'false',
        placeholder: '{ span.http.response.status_code >= 500 }'}),
      minDuration: h('input', {id: 'f-minDuration', name: 'minDuration', class: 'input', placeholder: 'e.g. 100ms', 'aria-label': 'Minimum duration'}),
      maxDuration: h('input', {id: 'f-maxDuration', name: 'maxDuration', class: 'input', placeholder: 'e.g. 1.5s', 'aria-label': 'Maximum duration'}),
      errors: h('input', {id: 'f-errors', name: 'errors', type: 'checkbox'}),
      lookback: select('lookback', LOOKBACKS.map(([v, label]) => [v, label]), 'Time range'),
      limit: h('input', {id: 'f-limit', name: 'limit', type: 'number', min: 1, max: MAX_LIMIT, class: 'input'}),
      live: h('input', {id: 'f-live', name: 'live', type: 'checkbox'}),
    };
    this.queryShown = h('code', {class: 'query-shown mono'});
    this.liveState = h('span', {class: 'live-state', 'aria-live': 'polite'});
    f.service.addEventListener('change', () => this.loadOperations(f.service.value, ''));
    f.live.addEventListener('change', () => this.submit());
    f.q.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) { e.preventDefault(); this.submit(); }
    });
    this.form = h('form', {class: 'search-form', 'aria-label': 'Find traces'},
      h('h1', {class: 'side-title'}, 'Find traces'),
      field('Service', f.service),
      field('Operation', f.operation),
      field('TraceQL', f.q, h('div', {class: 'hint'}, 'Joined to the fields above with &&; Ctrl+Enter runs it. Sent: ', this.queryShown)),
      h('div', {class: 'field'}, h('span', {class: 'field-label', id: 'duration-label'}, 'Duration'),
        h('div', {class: 'pair', role: 'group', 'aria-labelledby': 'duration-label'}, f.minDuration, h('span', {class: 'muted'}, 'to'), f.maxDuration)),
      h('label', {class: 'check', for: 'f-errors'}, f.errors, 'Errors only'),
      field('Time range', f.lookback),
      field('Limit', f.limit),
      h('label', {class: 'check', for: 'f-live'}, f.live, 'Live ', this.liveState),
      h('button', {type: 'submit', class: 'btn btn-primary'}, 'Find traces'));
    this.form.addEventListener('submit', (e) => { e.preventDefault(); this.submit(); });
  }

  // The form -> the URL; the router then calls update() with it.
  submit() {
    const query = new URLSearchParams();
    for (const [key, el] of Object.entries(this.fields)) {
      const value = el.type === 'checkbox' ? (el.checked ? '1' : '') : el.value.trim();
      if (value !== DEFAULTS[key]) query.set(key, value);
    }
    if (this.sortSelect.value !== DEFAULTS.sort) query.set('sort', this.sortSelect.value);
    const hash = `#/search${query.toString() ? `?${query}` : ''}`;
    if (location.hash === hash) this.update({params: query});
    else location.hash = hash;
  }

  // The URL -> the form, then a search.
  async update(route) {
    const p = {...DEFAULTS};
    for (const key of Object.keys(DEFAULTS)) if (route.params.has(key)) p[key] = route.params.get(key);
    this.params = p;
    this.fields.q.value = p.q;
    this.fields.minDuration.value = p.minDuration;
    this.fields.maxDuration.value = p.maxDuration;
    this.fields.errors.checked = Boolean(p.errors);
    this.fields.lookback.value = LOOKBACKS.some(([v]) => v === p.lookback) ? p.lookback : '1h';
    this.fields.limit.value = p.limit;
    this.fields.live.checked = Boolean(p.live);
    this.sortSelect.value = SORTERS[p.sort] ? p.sort : 'recent';
    await this.loadServices(p.service);
    await this.loadOperations(p.service, p.operation);
    this.run();
  }

  async loadServices(selected) {
    let services = [];
    try { services = await loadServices(); } catch (err) { this.showError(err.message); }
    if (selected && !services.includes(selected)) services = [selected, ...services];
    fillSelect(this.fields.service, [['', 'All services'], ...services.map((s) => [s, s])], selected);
    this.knownServices = services;
  }

  async loadOperations(service, selected) {
    const el = this.fields.operation;
    let operations = [];
    if (service) {
      try { operations = await loadOperations(service); } catch (err) { this.showError(err.message); }
    }
    if (selected && !operations.includes(selected)) operations = [selected, ...operations];
    fillSelect(el, [['', 'All operations'], ...operations.map((o) => [o, o])], selected);
    el.disabled = !service;
  }

  validDurations() {
    for (const key of ['minDuration', 'maxDuration']) {
      const el = this.fields[key];
      const bad = el.value.trim() !== '' && parseDuration(el.value) === null;
      el.setAttribute('aria-invalid', String(bad));
      if (bad) {
        this.showError(`"${el.value}" is not a duration: write it like 250us, 100ms, 1.5s or 2m.`);
        return false;
      }
    }
    return true;
  }

  async run() {
    const p = this.params;
    this.showError('');
    if (!this.validDurations()) return;
    const query = buildQuery(p);
    this.queryShown.textContent = query;
    this.lastQuery = query;
    const limit = Math.max(1, Math.min(MAX_LIMIT, Number(p.limit) || 20));
    const {startMs, endMs} = lookbackRange(p.lookback);
    if (this.controller) this.controller.abort();
    this.controller = new AbortController();
    this.summary.textContent = 'Searching…';
    this.searching = true;
    // data-state and data-query tell a test (or a stylesheet) which search the list shows.
    this.main.dataset.state = 'searching';
    this.main.dataset.query = query;
    try {
      const body = await apiGet('/api/search', {q: query, start: Math.floor(startMs / 1000),
        end: Math.ceil(endMs / 1000), limit}, this.controller.signal);
      this.results = (Array.isArray(body.traces) ? body.traces : []).map(summarize);
      this.render(body.metrics);
      this.main.dataset.state = 'done';
    } catch (err) {
      if (err.name === 'AbortError') return;
      this.results = [];
      this.render(null, false);
      this.showError(err.message);
      this.main.dataset.state = 'error';
    }
    this.searching = false;
    if (this.liveMissed) {
      this.liveMissed = false;
      this.run();
      return;
    }
    this.syncLive(query);
  }

  showError(text) {
    this.message.hidden = !text;
    this.message.textContent = text;
  }

  // Draws the results; an empty list says why unless it came from an error.
  render(metrics, explainEmpty = true) {
    const sorted = [...this.results].sort(SORTERS[this.sortSelect.value] || SORTERS.recent);
    const inspected = metrics && metrics.inspectedTraces !== undefined ? ` (${formatCount(Number(metrics.inspectedTraces))} inspected)` : '';
    this.summary.textContent = `${formatCount(sorted.length)} trace${sorted.length === 1 ? '' : 's'}${inspected}`;
    const longest = Math.max(1, ...sorted.map((t) => t.durationNs));
    replaceChildren(this.list, sorted.map((t) => this.resultItem(t, longest)));
    this.drawScatter();
    if (!sorted.length && explainEmpty) this.renderEmpty();
  }

  async renderEmpty() {
    const item = h('li', {class: 'empty'}, 'No traces match in this time range.');
    this.list.appendChild(item);
    if (this.knownServices && this.knownServices.length) return;
    try {
      const status = await loadStatus();
      const receivers = status && status.receivers ? status.receivers : {};
      item.appendChild(h('p', {class: 'muted'}, 'Nothing received yet. Send OTLP to ',
        h('code', null, String(receivers.otlpHttp || 'http://127.0.0.1:4318')), ' (HTTP) or ',
        h('code', null, String(receivers.otlpGrpc || '127.0.0.1:4317')), ' (gRPC).'));
    } catch { /* the status line shows the error */ }
  }

  resultItem(t, longest) {
    const start = new Date(t.startMs);
    const bar = h('div', {class: 'result-bar'}, h('div', {class: `result-bar-fill ${t.errorCount ? 'has-error' : ''}`}));
    bar.firstChild.style.width = `${Math.max(0.5, (t.durationNs / longest) * 100)}%`;
    return h('li', {class: `result${this.fresh.has(t.traceID) ? ' fresh' : ''}`, dataset: {traceId: t.traceID}},
      h('a', {class: 'result-link', href: `#/trace/${encodeURIComponent(t.traceID)}`},
        h('span', {class: 'result-title'},
          h('span', {class: `svc-chip ${serviceColorClass(t.rootService)}`}, t.rootService || '?'),
          h('span', {class: 'result-name'}, t.rootName || '(root span not received)')),
        h('span', {class: 'result-duration'}, formatDurationNs(t.durationNs))),
      bar,
      h('div', {class: 'result-meta'},
        h('span', {class: 'badge'}, `${formatCount(t.spanCount)} spans`),
        t.errorCount ? h('span', {class: 'badge badge-error'}, `${formatCount(t.errorCount)} errors`) : null,
        t.matched && this.lastQuery !== '{}' ? h('span', {class: 'badge badge-soft'}, `${formatCount(t.matched)} matched`) : null,
        h('ul', {class: 'result-services', 'aria-label': 'Services'}, t.services.map(([name, count]) =>
          h('li', {class: `svc-chip small ${serviceColorClass(name)}`}, name, h('span', {class: 'count'}, formatCount(count))))),
        h('span', {class: 'result-id mono'}, t.traceID.slice(0, 12)),
        h('time', {class: 'result-time', datetime: start.toISOString(), title: start.toString()},
          `${formatTime(start, false)} · ${formatAgo(start)}`)));
  }

  drawScatter() {
    const width = this.scatterBox.clientWidth;
    if (!width) return;
    if (!this.results.length) {
      replaceChildren(this.scatterBox, h('div', {class: 'scatter-empty muted'}, 'No traces to plot.'));
      return;
    }
    replaceChildren(this.scatterBox, renderScatter(this.results.map((t) => ({...t, title: t.title})), width, 180));
  }

  // Opens or closes the /api/live stream to match the live checkbox.
  syncLive(query) {
    const want = Boolean(this.params.live);
    if (!want) { this.stopLive(); return; }
    if (this.live && this.liveQuery === query) return;
    this.stopLive();
    this.liveQuery = query;
    this.live = new EventSource(liveUrl(query));
    this.liveState.textContent = '● connecting';
    this.live.addEventListener('open', () => { this.liveState.textContent = '● on'; });
    this.live.addEventListener('error', () => { this.liveState.textContent = '● reconnecting'; });
    this.live.addEventListener('traces', (e) => this.onLive(e));
  }

  stopLive() {
    if (this.live) this.live.close();
    this.live = null;
    this.liveState.textContent = '';
  }

  // New spans matched: search again (the server sends at most one event a
  // second), marking the traces the event named. An event during a search
  // runs one more search once it is done, rather than abort it.
  onLive(event) {
    let ids = [];
    try { ids = JSON.parse(event.data).traceIDs || []; } catch { /* still re-run */ }
    this.fresh = new Set(Array.isArray(ids) ? ids.map(String) : []);
    this.liveState.textContent = `● updated ${formatTime(new Date(), false)}`;
    if (this.searching) this.liveMissed = true;
    else this.run();
  }
}

function select(name, options, label) {
  const el = h('select', {id: `f-${name}`, name, class: 'input', 'aria-label': label});
  fillSelect(el, options, options.length ? options[0][0] : '');
  return el;
}

function fillSelect(el, options, selected) {
  replaceChildren(el, options.map(([value, label]) => h('option', {value}, label)));
  el.value = selected;
}

function field(label, control, ...extra) {
  return h('div', {class: 'field'}, h('label', {class: 'field-label', for: control.id}, label), control, ...extra);
}
