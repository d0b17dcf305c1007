// scatter.js - search results as dots: start time across, duration up.
// Each dot is a link to its trace (so it is reachable by keyboard too) with
// a <title> the browser shows as a tooltip; errors are red, and a dot's
// size grows with the trace's span count.

import {s} from './dom.js';
import {formatDurationNs, formatTime, formatCount} from './format.js';

const MARGIN = {top: 12, right: 16, bottom: 24, left: 56};
const TIME_STEPS_MS = [1e3, 2e3, 5e3, 10e3, 15e3, 30e3, 60e3, 120e3, 300e3, 600e3, 900e3, 1800e3,
  3600e3, 7200e3, 10800e3, 21600e3, 43200e3, 86400e3];

// A 1-2-5 step giving at most `count` intervals over [0, max].
function niceStep(max, count) {
  const raw = max / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 5, 10]) if (m * power >= raw) return m * power;
  return 10 * power;
}

function timeStep(rangeMs) {
  return TIME_STEPS_MS.find((step) => rangeMs / step <= 6) || 86400e3 * Math.ceil(rangeMs / 86400e3 / 6);
}

// traces: [{traceID, startMs, durationNs, spanCount, errorCount, title}].
export function renderScatter(traces, width, height) {
  const plotW = Math.max(100, width - MARGIN.left - MARGIN.right);
  const plotH = Math.max(40, height - MARGIN.top - MARGIN.bottom);
  const svg = s('svg', {class: 'scatter', width, height, viewBox: `0 0 ${width} ${height}`,
    role: 'group', 'aria-label': `Duration over time of ${traces.length} traces`});

  let t0 = Math.min(...traces.map((t) => t.startMs));
  let t1 = Math.max(...traces.map((t) => t.startMs));
  if (!(t1 > t0)) { t0 -= 30e3; t1 += 30e3; }
  const pad = (t1 - t0) * 0.03;
  t0 -= pad; t1 += pad;
  const maxDur = Math.max(1, ...traces.map((t) => t.durationNs)) * 1.1;
  const x = (ms) => MARGIN.left + ((ms - t0) / (t1 - t0)) * plotW;
  const y = (ns) => MARGIN.top + plotH - (ns / maxDur) * plotH;

  const grid = s('g', {class: 'scatter-grid'});
  const yStep = niceStep(maxDur, 4);
  for (let v = 0; v <= maxDur; v += yStep) {
    grid.appendChild(s('line', {x1: MARGIN.left, x2: MARGIN.left + plotW, y1: y(v), y2: y(v)}));
    grid.appendChild(s('text', {x: MARGIN.left - 6, y: y(v) + 4, class: 'axis-label', 'text-anchor': 'end'},
      formatDurationNs(v)));
  }
  const xStep = timeStep(t1 - t0);
  for (let ms = Math.ceil(t0 / xStep) * xStep; ms <= t1; ms += xStep) {
    grid.appendChild(s('line', {x1: x(ms), x2: x(ms), y1: MARGIN.top, y2: MARGIN.top + plotH, class: 'vertical'}));
    grid.appendChild(s('text', {x: x(ms), y: height - 6, class: 'axis-label', 'text-anchor': 'middle'},
      formatTime(new Date(ms), false).replace(/:00$/, xStep >= 60e3 ? '' : ':00')));
  }
  svg.appendChild(grid);

  const dots = s('g', {class: 'scatter-dots'});
  // Big dots first, so small ones are drawn over (and clickable on) them.
  for (const t of [...traces].sort((a, b) => b.spanCount - a.spanCount)) {
    const r = 3 + Math.min(5, Math.log2(1 + t.spanCount) / 2);
    dots.appendChild(s('a', {href: `#/trace/${encodeURIComponent(t.traceID)}`, class: 'dot-link', dataset: {traceId: t.traceID}},
      s('title', null, `${t.title}\n${formatDurationNs(t.durationNs)} · ${formatCount(t.spanCount)} spans` +
        `${t.errorCount ? ` · ${formatCount(t.errorCount)} errors` : ''}\n${formatTime(new Date(t.startMs))}`),
      s('circle', {cx: x(t.startMs), cy: y(t.durationNs), r, class: t.errorCount ? 'dot dot-error' : 'dot'})));
  }
  svg.appendChild(dots);
  return svg;
}
