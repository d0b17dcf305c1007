// table.js - a table whose columns sort when their header is pressed.
// Headers are buttons (keyboard-operable) and carry aria-sort.

import {h, replaceChildren} from './dom.js';

// columns: [{key, label, value(row) -> sortable, cell(row) -> Node|string,
//            numeric, defaultDescending}];
// sort: {key, descending} to start with. Returns {element, setRows(rows)}.
export function sortableTable(columns, sort, {label, rowKey} = {}) {
  let rows = [];
  let current = {...sort};
  const body = h('tbody');
  const headRow = h('tr');
  const table = h('table', {class: 'grid-table', 'aria-label': label}, h('thead', null, headRow), body);

  function drawHead() {
    replaceChildren(headRow, columns.map((col) => {
      const sorted = current.key === col.key;
      const button = h('button', {type: 'button', class: 'sort-button', dataset: {sortKey: col.key}},
        col.label, h('span', {class: 'sort-mark', 'aria-hidden': 'true'}, sorted ? (current.descending ? '▼' : '▲') : ''));
      button.addEventListener('click', () => {
        current = sorted ? {key: col.key, descending: !current.descending} : {key: col.key, descending: Boolean(col.defaultDescending)};
        draw();
      });
      return h('th', {scope: 'col', class: col.numeric ? 'num' : '',
        'aria-sort': sorted ? (current.descending ? 'descending' : 'ascending') : 'none'}, button);
    }));
  }

  function draw() {
    drawHead();
    const col = columns.find((c) => c.key === current.key) || columns[0];
    const sign = current.descending ? -1 : 1;
    const sorted = [...rows].sort((a, b) => {
      const x = col.value(a), y = col.value(b);
      return sign * (typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y)));
    });
    replaceChildren(body, sorted.map((row) => h('tr', {dataset: rowKey ? {key: rowKey(row)} : null},
      columns.map((c) => h('td', {class: c.numeric ? 'num' : ''}, c.cell(row))))));
  }

  return {
    element: table,
    setRows(newRows) {
      rows = newRows;
      draw();
    },
  };
}
