// waterfall.js - the spans of a trace as rows of bars on a time axis.
//
// Rows are virtualised: however many spans the trace has, only the rows in
// view (plus a margin) exist in the DOM, absolutely placed in a spacer as
// tall as all rows; scrolling swaps rows in and out. So a 10,000-span trace
// costs the same to draw as a 50-span one. What tests need to see is on the
// elements: the treegrid has data-span-count (spans in the trace) and
// aria-rowcount / data-row-count (rows not hidden by a collapsed parent,
// plus the header row for aria-rowcount); each row has data-span-id and
// aria-rowindex.
//
// It is an ARIA treegrid: one row is in the tab order; arrow keys move
// between rows, Left/Right collapse/expand (or go to the parent / first
// child), Enter or Space open the span's details, Home/End jump.

import {h, clear} from './dom.js';
import {formatDurationNs} from './format.js';
import {serviceColorClass} from './colors.js';

const ROW_HEIGHT = 24; // px; app.css .wf-row uses the same
const OVERSCAN = 12; // rows drawn beyond each edge of the view
const INDENT = 14; // px per level
const MAX_INDENT_LEVELS = 30; // deeper rows stop moving right
const TICKS = 5;

export class Waterfall {
  // model: from buildTrace(). onSelect(spanIndex): a row was opened.
  constructor(model, {onSelect}) {
    this.model = model;
    this.onSelect = onSelect;
    this.collapsed = new Uint8Array(model.order.length); // by row
    this.matches = null; // Uint8Array by span index while a search is on
    this.selected = -1; // span index
    this.active = 0; // position in visibleRows that is in the tab order
    this.view = [0, Math.max(model.duration, 1)]; // zoomed time range, ns
    this.showCritical = true;
    this.drawn = new Map(); // position -> row element
    this.frame = 0;
    this.build();
    this.computeVisible();
    this.redrawAll();
  }

  build() {
    const count = this.model.spans.length;
    this.axis = h('div', {class: 'wf-axis', role: 'columnheader'});
    this.spacer = h('div', {class: 'wf-spacer', role: 'rowgroup'});
    this.scroller = h('div', {class: 'wf-scroll'}, this.spacer);
    this.element = h('div', {
      class: 'wf', role: 'treegrid', 'aria-label': 'Spans of the trace',
      dataset: {spanCount: count},
    },
    h('div', {class: 'wf-head', role: 'row', 'aria-rowindex': 1},
      h('div', {class: 'wf-name-head', role: 'columnheader'}, 'Service and operation', this.buildResizer()), this.axis),
    this.scroller);
    this.scroller.addEventListener('scroll', () => this.schedule());
    this.spacer.addEventListener('click', (e) => this.onClick(e));
    this.spacer.addEventListener('keydown', (e) => this.onKey(e));
    this.spacer.addEventListener('focusin', (e) => this.onFocus(e));
    this.resizeObserver = new ResizeObserver(() => this.schedule());
    this.resizeObserver.observe(this.scroller);
  }

  // A handle on the name column's edge: dragging it (or arrow keys on it)
  // sets the column's width for the header and every row (--wf-name).
  buildResizer() {
    const handle = h('div', {class: 'wf-resizer', role: 'separator', tabindex: 0,
      'aria-orientation': 'vertical', 'aria-label': 'Resize the name column'});
    const setWidth = (px) => {
      const max = this.element.clientWidth - 200;
      this.nameWidth = Math.max(160, Math.min(max, px));
      this.element.style.setProperty('--wf-name', `${this.nameWidth}px`);
    };
    const current = () => this.nameWidth || handle.parentElement.getBoundingClientRect().width;
    handle.addEventListener('pointerdown', (e) => {
      handle.setPointerCapture(e.pointerId);
      const startX = e.clientX, startWidth = current();
      const move = (ev) => setWidth(startWidth + ev.clientX - startX);
      const up = () => { handle.removeEventListener('pointermove', move); handle.removeEventListener('pointerup', up); };
      handle.addEventListener('pointermove', move);
      handle.addEventListener('pointerup', up);
    });
    handle.addEventListener('keydown', (e) => {
      if (e.key === 'ArrowLeft' || e.key === 'ArrowRight') {
        setWidth(current() + (e.key === 'ArrowLeft' ? -20 : 20));
        e.preventDefault();
      }
    });
    return handle;
  }

  destroy() {
    this.resizeObserver.disconnect();
    cancelAnimationFrame(this.frame);
  }

  // Rows not hidden under a collapsed span, in order: a collapsed row skips
  // its subtree, which is contiguous in tree order (row .. subtreeEnd).
  computeVisible() {
    const {spans, order} = this.model;
    const rows = [];
    for (let pos = 0; pos < order.length;) {
      rows.push(pos);
      pos = this.collapsed[pos] ? spans[order[pos]].subtreeEnd : pos + 1;
    }
    this.visibleRows = rows;
    this.positionOfRow = new Int32Array(order.length).fill(-1);
    rows.forEach((row, i) => { this.positionOfRow[row] = i; });
    this.active = Math.min(this.active, rows.length - 1);
    this.spacer.style.height = `${rows.length * ROW_HEIGHT}px`;
    this.element.setAttribute('aria-rowcount', String(rows.length + 1));
    this.element.dataset.rowCount = String(rows.length);
  }

  // Where row (an index in tree order) is among the visible rows, or undefined when hidden.
  positionOf(row) {
    const position = this.positionOfRow[row];
    return position >= 0 ? position : undefined;
  }

  redrawAll() {
    clear(this.spacer);
    this.drawn.clear();
    this.drawAxis();
    this.draw();
  }

  schedule() {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.draw();
    });
  }

  // Draws the rows in view, drops those that left it.
  draw() {
    const top = this.scroller.scrollTop;
    const height = this.scroller.clientHeight || 600;
    const first = Math.max(0, Math.floor(top / ROW_HEIGHT) - OVERSCAN);
    const last = Math.min(this.visibleRows.length, Math.ceil((top + height) / ROW_HEIGHT) + OVERSCAN);
    for (const [position, el] of this.drawn) {
      if (position < first || position >= last) {
        el.remove();
        this.drawn.delete(position);
      }
    }
    for (let position = first; position < last; position++) {
      if (this.drawn.has(position)) continue;
      const el = this.buildRow(position);
      this.drawn.set(position, el);
      this.spacer.appendChild(el);
    }
  }

  drawAxis() {
    for (const tick of [...this.axis.querySelectorAll('.wf-tick')]) tick.remove();
    const [v0, v1] = this.view;
    for (let i = 0; i <= TICKS; i++) {
      const tick = h('span', {class: 'wf-tick'}, formatDurationNs(v0 + ((v1 - v0) * i) / TICKS));
      tick.style.left = `${(100 * i) / TICKS}%`;
      if (i === TICKS) tick.classList.add('wf-tick-last');
      this.axis.appendChild(tick);
    }
  }

  buildRow(position) {
    const rowIndex = this.visibleRows[position];
    const spanIndex = this.model.order[rowIndex];
    const span = this.model.spans[spanIndex];
    const hasChildren = span.children.length > 0;
    const color = serviceColorClass(span.service);
    const row = h('div', {
      class: 'wf-row', role: 'row', tabindex: position === this.active ? 0 : -1,
      'aria-level': span.depth + 1, 'aria-rowindex': position + 2,
      'aria-selected': spanIndex === this.selected ? 'true' : 'false',
      'aria-expanded': hasChildren ? String(!this.collapsed[rowIndex]) : null,
      dataset: {spanId: span.spanId, position},
    }, this.buildNameCell(span, rowIndex, hasChildren, color), this.buildBarCell(span, color));
    row.style.top = `${position * ROW_HEIGHT}px`;
    if (spanIndex === this.selected) row.classList.add('selected');
    if (span.critical && this.showCritical) row.classList.add('critical');
    if (this.matches) row.classList.add(this.matches[spanIndex] ? 'match' : 'no-match');
    return row;
  }

  buildNameCell(span, rowIndex, hasChildren, color) {
    const cell = h('div', {class: 'wf-name', role: 'gridcell'});
    cell.style.paddingLeft = `${4 + Math.min(span.depth, MAX_INDENT_LEVELS) * INDENT}px`;
    if (hasChildren) {
      const open = !this.collapsed[rowIndex];
      cell.appendChild(h('button', {
        type: 'button', class: 'wf-toggle', tabindex: -1,
        'aria-label': `${open ? 'Collapse' : 'Expand'} (${span.subtreeEnd - span.row - 1} spans below)`,
        dataset: {toggle: rowIndex},
      }, open ? '▾' : '▸'));
    } else {
      cell.appendChild(h('span', {class: 'wf-leaf', 'aria-hidden': 'true'}));
    }
    if (span.depth > MAX_INDENT_LEVELS) cell.appendChild(h('span', {class: 'wf-depth'}, `${span.depth}`));
    cell.appendChild(h('span', {class: `wf-svc ${color}`}, span.service));
    cell.appendChild(h('span', {class: 'wf-op'}, span.name));
    if (span.statusCode === 2) cell.appendChild(h('span', {class: 'wf-err', title: 'Error status'}, '!'));
    cell.title = `${span.service}: ${span.name}`;
    return cell;
  }

  buildBarCell(span, color) {
    const [v0, v1] = this.view;
    const width = v1 - v0;
    const left = ((span.start - v0) / width) * 100;
    const right = ((span.end - v0) / width) * 100;
    const cell = h('div', {class: 'wf-timeline', role: 'gridcell'});
    const bar = h('div', {class: `wf-bar ${color}${span.statusCode === 2 ? ' error' : ''}`});
    bar.style.left = `${Math.max(0, Math.min(100, left))}%`;
    bar.style.width = `${Math.max(0, Math.min(100, right) - Math.max(0, left))}%`;
    cell.appendChild(bar);
    // The duration goes after the bar, else before it, else inside its end.
    const label = h('span', {class: 'wf-label'}, formatDurationNs(span.duration));
    const barLeft = Math.max(0, Math.min(100, left)), barRight = Math.max(0, Math.min(100, right));
    if (barRight < 85) {
      label.style.left = `${barRight}%`;
    } else if (barLeft > 15) {
      label.classList.add('wf-label-before');
      label.style.right = `${100 - barLeft}%`;
    } else {
      label.classList.add('wf-label-inside');
      label.style.right = `${100 - barRight}%`;
    }
    cell.appendChild(label);
    return cell;
  }

  // ---- interaction ----

  onClick(event) {
    const toggle = event.target.closest('.wf-toggle');
    const row = event.target.closest('.wf-row');
    if (!row) return;
    const position = Number(row.dataset.position);
    const rowIndex = this.visibleRows[position];
    if (toggle) this.toggle(rowIndex);
    else this.open(position);
    this.focusPosition(this.positionOf(rowIndex) ?? 0);
  }

  // A row focused by mouse or script becomes the one in the tab order.
  onFocus(event) {
    const row = event.target.closest('.wf-row');
    if (!row) return;
    const position = Number(row.dataset.position);
    if (position === this.active) return;
    const previous = this.drawn.get(this.active);
    if (previous) previous.tabIndex = -1;
    this.active = position;
    row.tabIndex = 0;
  }

  // Collapses or expands the subtree under rowIndex.
  toggle(rowIndex, open) {
    const wantCollapsed = open === undefined ? !this.collapsed[rowIndex] : !open;
    if (Boolean(this.collapsed[rowIndex]) === wantCollapsed) return;
    const keepRow = this.visibleRows[this.active];
    this.collapsed[rowIndex] = wantCollapsed ? 1 : 0;
    this.computeVisible();
    this.active = this.positionOf(keepRow) ?? this.positionOf(rowIndex) ?? 0;
    this.redrawAll();
  }

  // Collapses every span deeper than depth (0 = only roots), or none (depth Infinity).
  collapseBelow(depth) {
    const {spans, order} = this.model;
    for (let row = 0; row < order.length; row++) {
      const span = spans[order[row]];
      this.collapsed[row] = span.depth >= depth && span.children.length ? 1 : 0;
    }
    this.active = 0;
    this.computeVisible();
    this.redrawAll();
  }

  open(position) {
    const spanIndex = this.model.order[this.visibleRows[position]];
    this.select(spanIndex);
    this.onSelect(spanIndex);
  }

  // Marks spanIndex as the selected span, expanding its ancestors and
  // scrolling it into view.
  select(spanIndex, reveal = false) {
    this.selected = spanIndex;
    if (reveal) this.reveal(spanIndex);
    for (const [position, el] of this.drawn) {
      const isSelected = this.model.order[this.visibleRows[position]] === spanIndex;
      el.classList.toggle('selected', isSelected);
      el.setAttribute('aria-selected', String(isSelected));
    }
  }

  reveal(spanIndex) {
    const {spans} = this.model;
    let changed = false;
    for (let p = spans[spanIndex].parent; p >= 0; p = spans[p].parent) {
      if (this.collapsed[spans[p].row]) { this.collapsed[spans[p].row] = 0; changed = true; }
    }
    if (changed) this.computeVisible();
    const position = this.positionOf(spans[spanIndex].row);
    if (position !== undefined) this.active = position;
    if (changed) this.redrawAll();
    if (position !== undefined) this.scrollToPosition(position, true);
  }

  scrollToPosition(position, center = false) {
    const top = position * ROW_HEIGHT;
    const height = this.scroller.clientHeight || 600;
    if (center) this.scroller.scrollTop = Math.max(0, top - height / 2);
    else if (top < this.scroller.scrollTop) this.scroller.scrollTop = top;
    else if (top + ROW_HEIGHT > this.scroller.scrollTop + height) this.scroller.scrollTop = top + ROW_HEIGHT - height;
    this.draw();
  }

  focusPosition(position) {
    const previous = this.drawn.get(this.active);
    if (previous) previous.tabIndex = -1;
    this.active = Math.max(0, Math.min(this.visibleRows.length - 1, position));
    this.scrollToPosition(this.active);
    const el = this.drawn.get(this.active);
    if (el) {
      el.tabIndex = 0;
      el.focus({preventScroll: true});
    }
  }

  onKey(event) {
    const {spans, order} = this.model;
    const rowIndex = this.visibleRows[this.active];
    const span = spans[order[rowIndex]];
    const open = span.children.length && !this.collapsed[rowIndex];
    const pageRows = Math.max(1, Math.floor((this.scroller.clientHeight || 600) / ROW_HEIGHT) - 1);
    switch (event.key) {
    case 'ArrowDown': this.focusPosition(this.active + 1); break;
    case 'ArrowUp': this.focusPosition(this.active - 1); break;
    case 'PageDown': this.focusPosition(this.active + pageRows); break;
    case 'PageUp': this.focusPosition(this.active - pageRows); break;
    case 'Home': this.focusPosition(0); break;
    case 'End': this.focusPosition(this.visibleRows.length - 1); break;
    case 'ArrowRight':
      if (span.children.length && !open) this.toggle(rowIndex, true);
      this.focusPosition(open ? this.active + 1 : this.active);
      break;
    case 'ArrowLeft':
      if (open) this.toggle(rowIndex, false);
      else if (span.parent >= 0) this.active = this.positionOf(spans[span.parent].row) ?? this.active;
      this.focusPosition(this.active);
      break;
    case 'Enter': case ' ': this.open(this.active); break;
    default: return;
    }
    event.preventDefault();
  }

  // ---- view options ----

  // Dragging across the time axis zooms into the range dragged over;
  // onZoom(zoomed) tells the page whether a zoom is on.
  enableAxisZoom(onZoom) {
    let from = null;
    const band = h('div', {class: 'wf-zoom-band', hidden: true});
    this.axis.appendChild(band);
    const fraction = (e) => {
      const box = this.axis.getBoundingClientRect();
      return Math.max(0, Math.min(1, (e.clientX - box.left) / Math.max(1, box.width)));
    };
    const paint = (a, b) => {
      band.hidden = false;
      band.style.left = `${Math.min(a, b) * 100}%`;
      band.style.width = `${Math.abs(b - a) * 100}%`;
    };
    this.axis.addEventListener('pointerdown', (e) => {
      from = fraction(e);
      this.axis.setPointerCapture(e.pointerId);
      paint(from, from);
    });
    this.axis.addEventListener('pointermove', (e) => { if (from !== null) paint(from, fraction(e)); });
    this.axis.addEventListener('pointerup', (e) => {
      if (from === null) return;
      const to = fraction(e);
      const [a, b] = [Math.min(from, to), Math.max(from, to)];
      from = null;
      band.hidden = true;
      if (b - a < 0.005) return;
      const [v0, v1] = this.view;
      this.setZoom(v0 + a * (v1 - v0), v0 + b * (v1 - v0));
      onZoom(true);
    });
  }

  setZoom(start, end) {
    const full = Math.max(this.model.duration, 1);
    this.view = end > start ? [Math.max(0, start), Math.min(full, end)] : [0, full];
    this.redrawAll();
  }

  setCriticalVisible(on) {
    this.showCritical = on;
    this.redrawAll();
  }

  // Highlights the spans with matches[i] set (a Uint8Array) or clears (null).
  setMatches(matches) {
    this.matches = matches;
    this.redrawAll();
  }
}
