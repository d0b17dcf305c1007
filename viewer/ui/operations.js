// operations.js - every operation's request count, errors and latency
// percentiles (#/operations?service=&lookback=), from
// /api/operations-table, in a sortable table; an operation links to a
// search for its traces.

import {h, replaceChildren} from './dom.js';
import {apiGet, loadServices} from './api.js';
import {formatDurationUs, formatCount, formatPercent, LOOKBACKS, lookbackRange} from './format.js';
import {serviceColorClass} from './colors.js';
import {sortableTable} from './table.js';

const num = (v) => (Number.isFinite(Number(v)) ? Number(v) : 0);
const errorClass = (rate) => (rate >= 0.05 ? 'err-high' : rate > 0 ? 'err-some' : 'err-none');

function normalize(row) {
  const count = num(row.count);
  const errorCount = num(row.errorCount);
  return {
    service: String(row.service ?? ''), operation: String(row.operation ?? ''), spanKind: String(row.spanKind ?? ''),
    count, errorCount,
    errorRate: row.errorRate !== undefined ? num(row.errorRate) : count ? errorCount / count : 0,
    p50Us: num(row.p50Us), p95Us: num(row.p95Us), p99Us: num(row.p99Us),
  };
}

function rateCell(rate) {
  const bar = h('span', {class: 'rate-bar'}, h('span', {class: `rate-fill ${errorClass(rate)}`}));
  bar.firstChild.style.width = `${Math.min(100, rate * 100)}%`;
  return h('span', {class: 'rate'}, bar, h('span', {class: errorClass(rate)}, formatPercent(rate)));
}

function searchLink(r) {
  const q = new URLSearchParams({service: r.service, operation: r.operation});
  return h('a', {href: `#/search?${q}`, class: 'op-link'}, r.operation || '(no name)');
}

export function mountOperations(root, route) {
  const controller = new AbortController();
  const params = route.params;
  const service = h('select', {class: 'input', 'aria-label': 'Service'}, h('option', {value: ''}, 'All services'));
  const range = h('select', {class: 'input', 'aria-label': 'Time range'}, LOOKBACKS.map(([v, label]) => h('option', {value: v}, label)));
  range.value = LOOKBACKS.some(([v]) => v === params.get('lookback')) ? params.get('lookback') : '1h';
  const filter = h('input', {type: 'search', class: 'input', placeholder: 'Filter operations', 'aria-label': 'Filter operations'});
  const status = h('p', {class: 'muted', role: 'status'});
  const navigate = () => {
    const q = new URLSearchParams();
    if (service.value) q.set('service', service.value);
    if (range.value !== '1h') q.set('lookback', range.value);
    location.hash = `#/operations${q.toString() ? `?${q}` : ''}`;
  };
  service.addEventListener('change', navigate);
  range.addEventListener('change', navigate);

  const table = sortableTable([
    {key: 'service', label: 'Service', value: (r) => r.service,
      cell: (r) => h('span', {class: `svc-chip small ${serviceColorClass(r.service)}`}, r.service)},
    {key: 'operation', label: 'Operation', value: (r) => r.operation, cell: searchLink},
    {key: 'kind', label: 'Kind', value: (r) => r.spanKind, cell: (r) => r.spanKind},
    {key: 'count', label: 'Count', numeric: true, defaultDescending: true, value: (r) => r.count, cell: (r) => formatCount(r.count)},
    {key: 'errors', label: 'Errors', numeric: true, defaultDescending: true, value: (r) => r.errorCount, cell: (r) => formatCount(r.errorCount)},
    {key: 'rate', label: 'Error rate', numeric: true, defaultDescending: true, value: (r) => r.errorRate, cell: (r) => rateCell(r.errorRate)},
    {key: 'p50', label: 'p50', numeric: true, defaultDescending: true, value: (r) => r.p50Us, cell: (r) => formatDurationUs(r.p50Us)},
    {key: 'p95', label: 'p95', numeric: true, defaultDescending: true, value: (r) => r.p95Us, cell: (r) => formatDurationUs(r.p95Us)},
    {key: 'p99', label: 'p99', numeric: true, defaultDescending: true, value: (r) => r.p99Us, cell: (r) => formatDurationUs(r.p99Us)},
  ], {key: 'count', descending: true}, {label: 'Operations', rowKey: (r) => `${r.service}\u0000${r.operation}\u0000${r.spanKind}`});

  replaceChildren(root, h('section', {class: 'page page-operations'},
    h('div', {class: 'page-head'}, h('h1', null, 'Operations'),
      h('div', {class: 'toolbar'}, h('label', {class: 'inline-label'}, 'Service ', service),
        h('label', {class: 'inline-label'}, 'Time range ', range), filter)),
    status, table.element));

  let rows = [];
  const applyFilter = () => {
    const needle = filter.value.trim().toLowerCase();
    const shown = needle ? rows.filter((r) => r.operation.toLowerCase().includes(needle) || r.service.toLowerCase().includes(needle)) : rows;
    table.setRows(shown);
    status.textContent = `${formatCount(shown.length)} operation${shown.length === 1 ? '' : 's'}`;
  };
  filter.addEventListener('input', applyFilter);

  (async () => {
    const selected = params.get('service') || '';
    try {
      const services = await loadServices();
      replaceChildren(service, h('option', {value: ''}, 'All services'),
        [...new Set([...services, ...(selected ? [selected] : [])])].map((s) => h('option', {value: s}, s)));
      service.value = selected;
      const {startMs, endMs} = lookbackRange(range.value);
      const body = await apiGet('/api/operations-table', {service: selected, start: startMs * 1000, end: endMs * 1000}, controller.signal);
      rows = (Array.isArray(body.data) ? body.data : []).filter((r) => r && typeof r === 'object').map(normalize);
      applyFilter();
    } catch (err) {
      if (err.name === 'AbortError') return;
      status.textContent = '';
      status.after(h('div', {class: 'notice notice-error', role: 'alert'}, err.message));
    }
  })();
  return {unmount: () => controller.abort()};
}
