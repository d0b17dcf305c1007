// map.js - the service map (#/map?lookback=): services as boxes, calls
// between them as arrows with their count and error rate, from
// /api/service-map; the same figures in a sortable table below (the
// accessible and exact form of the picture). A service's box links to
// its operations.

import {h, s, replaceChildren} from './dom.js';
import {apiGet} from './api.js';
import {formatDurationUs, formatCount, formatPercent, LOOKBACKS, lookbackRange} from './format.js';
import {serviceColorClass} from './colors.js';
import {layoutLayers} from './map_layout.js';
import {sortableTable} from './table.js';

const NODE_W = 184, NODE_H = 64, GAP_X = 84, GAP_Y = 26, PAD = 20;
const MAX_NAME = 22; // characters of a service name drawn in its box

const num = (v) => (Number.isFinite(Number(v)) ? Number(v) : 0);
const errorClass = (rate) => (rate >= 0.05 ? 'err-high' : rate > 0 ? 'err-some' : 'err-none');
const calls = (n) => `${formatCount(n)} call${n === 1 ? '' : 's'}`;
const latency = (n) => (n.calls ? `p50 ${formatDurationUs(n.p50Us)} · p99 ${formatDurationUs(n.p99Us)}` : 'no calls received');
const truncate = (text, n) => (text.length > n ? `${text.slice(0, n - 1)}…` : text);

export function mountMap(root, route) {
  const controller = new AbortController();
  const lookback = route.params.get('lookback') || '1h';
  const range = h('select', {class: 'input', 'aria-label': 'Time range'},
    LOOKBACKS.map(([v, label]) => h('option', {value: v}, label)));
  range.value = LOOKBACKS.some(([v]) => v === lookback) ? lookback : '1h';
  range.addEventListener('change', () => { location.hash = `#/map?lookback=${range.value}`; });
  const canvas = h('div', {class: 'map-canvas'}, h('p', {class: 'loading'}, 'Loading the service map…'));
  const tableBox = h('div', {class: 'map-table'});
  replaceChildren(root, h('section', {class: 'page page-map'},
    h('div', {class: 'page-head'}, h('h1', null, 'Service map'),
      h('div', {class: 'toolbar'}, h('label', {class: 'inline-label'}, 'Time range ', range),
        h('button', {type: 'button', class: 'btn', on: {click: () => load()}}, 'Refresh'))),
    canvas, h('h2', {class: 'section-title'}, 'Calls between services'), tableBox));

  async function load() {
    const {startMs, endMs} = lookbackRange(range.value);
    try {
      const body = await apiGet('/api/service-map', {start: startMs * 1000, end: endMs * 1000}, controller.signal);
      draw(canvas, tableBox, body);
    } catch (err) {
      if (err.name === 'AbortError') return;
      replaceChildren(canvas, h('div', {class: 'notice notice-error', role: 'alert'}, err.message));
    }
  }
  load();
  return {unmount: () => controller.abort()};
}

// The API's nodes and edges, with every service an edge names present.
function normalize(body) {
  const nodes = new Map();
  for (const n of Array.isArray(body.nodes) ? body.nodes : []) {
    if (n && typeof n.service === 'string') nodes.set(n.service, {service: n.service, calls: num(n.calls),
      errors: num(n.errors), p50Us: num(n.p50Us), p99Us: num(n.p99Us)});
  }
  const edges = [];
  for (const e of Array.isArray(body.edges) ? body.edges : []) {
    if (!e || typeof e.parent !== 'string' || typeof e.child !== 'string') continue;
    edges.push({parent: e.parent, child: e.child, callCount: num(e.callCount), errorCount: num(e.errorCount),
      p50Us: num(e.p50Us), p99Us: num(e.p99Us)});
    for (const name of [e.parent, e.child]) {
      if (!nodes.has(name)) nodes.set(name, {service: name, calls: 0, errors: 0, p50Us: 0, p99Us: 0});
    }
  }
  return {nodes, edges};
}

function draw(canvas, tableBox, body) {
  const {nodes, edges} = normalize(body || {});
  if (!nodes.size) {
    replaceChildren(canvas, h('p', {class: 'empty muted'}, 'No services in this time range.'));
    replaceChildren(tableBox);
    return;
  }
  const names = [...nodes.keys()].sort();
  const {layers, back} = layoutLayers(names, edges);
  const place = new Map();
  const tallest = Math.max(...layers.map((l) => l.length));
  layers.forEach((layer, l) => {
    const offset = ((tallest - layer.length) * (NODE_H + GAP_Y)) / 2;
    layer.forEach((name, i) => place.set(name, {x: PAD + l * (NODE_W + GAP_X), y: PAD + offset + i * (NODE_H + GAP_Y)}));
  });
  const width = PAD * 2 + layers.length * NODE_W + (layers.length - 1) * GAP_X;
  const height = PAD * 2 + tallest * NODE_H + (tallest - 1) * GAP_Y + (back.size ? 40 : 0);
  const maxCalls = Math.max(1, ...edges.map((e) => e.callCount));

  const svg = s('svg', {class: 'service-map', width, height, viewBox: `0 0 ${width} ${height}`,
    role: 'group', 'aria-label': `Service map: ${nodes.size} services, ${edges.length} connections`},
  s('defs', null, arrowMarker('arrow', 'arrow-none'), arrowMarker('arrow-some', 'arrow-some'), arrowMarker('arrow-high', 'arrow-high')));
  const edgeLayer = s('g', {class: 'edges'});
  const labelLayer = s('g', {class: 'edge-labels'});
  for (const e of edges) {
    if (e.parent === e.child) continue;
    drawEdge(edgeLayer, labelLayer, e, place.get(e.parent), place.get(e.child), back.has(e), maxCalls, height);
  }
  const selfCalls = new Map(edges.filter((e) => e.parent === e.child).map((e) => [e.parent, e]));
  const nodeLayer = s('g', {class: 'nodes'});
  for (const name of names) nodeLayer.appendChild(drawNode(nodes.get(name), place.get(name), selfCalls.get(name)));
  svg.append(edgeLayer, nodeLayer, labelLayer);
  replaceChildren(canvas, svg);
  replaceChildren(tableBox, edgeTable(edges));
}

function arrowMarker(id, cls) {
  // userSpaceOnUse: the same arrowhead on a thin edge and a thick one.
  return s('marker', {id, viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 9, markerHeight: 9,
    markerUnits: 'userSpaceOnUse', orient: 'auto-start-reverse'},
    s('path', {d: 'M0,0 L10,5 L0,10 z', class: cls}));
}

// A call edge from the right side of the caller to the left side of the
// callee; an edge that closes a cycle runs back below the boxes.
function drawEdge(edgeLayer, labelLayer, e, from, to, isBack, maxCalls, height) {
  const rate = e.callCount ? e.errorCount / e.callCount : 0;
  const cls = errorClass(rate);
  let d, lx, ly;
  if (!isBack) {
    const x1 = from.x + NODE_W, y1 = from.y + NODE_H / 2, x2 = to.x, y2 = to.y + NODE_H / 2;
    const dx = (x2 - x1) / 2;
    d = `M${x1},${y1} C${x1 + dx},${y1} ${x2 - dx},${y2} ${x2},${y2}`;
    [lx, ly] = [(x1 + x2) / 2, (y1 + y2) / 2];
  } else {
    const x1 = from.x + NODE_W / 2, y1 = from.y + NODE_H, x2 = to.x + NODE_W / 2, y2 = to.y + NODE_H;
    const low = height - 12;
    d = `M${x1},${y1} C${x1},${low} ${x2},${low} ${x2},${y2}`;
    [lx, ly] = [(x1 + x2) / 2, low - 6];
  }
  const strokeWidth = 1.2 + 3 * Math.sqrt(e.callCount / maxCalls);
  const marker = cls === 'err-none' ? 'arrow' : cls === 'err-some' ? 'arrow-some' : 'arrow-high';
  const path = s('path', {d, class: `edge ${cls}`, 'marker-end': `url(#${marker})`,
    dataset: {parent: e.parent, child: e.child, calls: e.callCount}},
  s('title', null, `${e.parent} → ${e.child}\n${calls(e.callCount)}, ${formatPercent(rate)} errors\n` +
    `p50 ${formatDurationUs(e.p50Us)}, p99 ${formatDurationUs(e.p99Us)}`));
  path.style.strokeWidth = `${strokeWidth}px`;
  edgeLayer.appendChild(path);
  const label = `${formatCount(e.callCount)}${e.errorCount ? ` · ${formatPercent(rate)} err` : ''}`;
  labelLayer.appendChild(s('text', {x: lx, y: ly - 4, class: `edge-label ${cls}`, 'text-anchor': 'middle'}, label));
}

function drawNode(node, at, selfCall) {
  const rate = node.calls ? node.errors / node.calls : 0;
  const link = s('a', {href: `#/operations?service=${encodeURIComponent(node.service)}`, class: 'node',
    dataset: {service: node.service}, 'aria-label': `${node.service}: ${calls(node.calls)}, ${formatPercent(rate)} errors`});
  link.appendChild(s('title', null, `${node.service}\n${calls(node.calls)}, ${formatCount(node.errors)} errors\n${latency(node)}\nOpen its operations`));
  link.appendChild(s('rect', {x: at.x, y: at.y, width: NODE_W, height: NODE_H, rx: 6, class: `node-box ${errorClass(rate)}`}));
  link.appendChild(s('rect', {x: at.x, y: at.y, width: 5, height: NODE_H, rx: 2, class: `node-stripe ${serviceColorClass(node.service)}`}));
  link.appendChild(s('text', {x: at.x + 14, y: at.y + 20, class: 'node-name'}, truncate(node.service, MAX_NAME)));
  const stats = `${calls(node.calls)} · ${formatPercent(rate)} err${selfCall ? ` · ↻ ${formatCount(selfCall.callCount)}` : ''}`;
  link.appendChild(s('text', {x: at.x + 14, y: at.y + 38, class: `node-stat ${rate > 0 ? errorClass(rate) : ''}`}, stats));
  link.appendChild(s('text', {x: at.x + 14, y: at.y + 54, class: 'node-stat muted-fill'}, latency(node)));
  return link;
}

function edgeTable(edges) {
  const rate = (e) => (e.callCount ? e.errorCount / e.callCount : 0);
  const serviceCell = (name) => h('a', {href: `#/operations?service=${encodeURIComponent(name)}`, class: `svc-chip small ${serviceColorClass(name)}`}, name);
  const table = sortableTable([
    {key: 'parent', label: 'Caller', value: (e) => e.parent, cell: (e) => serviceCell(e.parent)},
    {key: 'child', label: 'Callee', value: (e) => e.child, cell: (e) => serviceCell(e.child)},
    {key: 'calls', label: 'Calls', numeric: true, defaultDescending: true, value: (e) => e.callCount, cell: (e) => formatCount(e.callCount)},
    {key: 'errors', label: 'Errors', numeric: true, defaultDescending: true, value: (e) => e.errorCount, cell: (e) => formatCount(e.errorCount)},
    {key: 'rate', label: 'Error rate', numeric: true, defaultDescending: true, value: rate,
      cell: (e) => h('span', {class: errorClass(rate(e))}, formatPercent(rate(e)))},
    {key: 'p50', label: 'p50', numeric: true, defaultDescending: true, value: (e) => e.p50Us, cell: (e) => formatDurationUs(e.p50Us)},
    {key: 'p99', label: 'p99', numeric: true, defaultDescending: true, value: (e) => e.p99Us, cell: (e) => formatDurationUs(e.p99Us)},
  ], {key: 'calls', descending: true}, {label: 'Calls between services', rowKey: (e) => `${e.parent}→${e.child}`});
  table.setRows(edges);
  return edges.length ? table.element : h('p', {class: 'muted'}, 'No calls between services in this time range.');
}
