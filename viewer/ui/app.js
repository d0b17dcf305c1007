// app.js - starts the UI: takes the token from the URL, routes the hash
// (#/search, #/trace/{id}, #/map, #/operations) to the page modules and
// keeps the status line in the header current.
//
// A page module's mount(root, route) draws into <main> and returns an
// object with unmount() (abort requests, close streams) and, when the page
// can follow a change of its own URL without being rebuilt, update(route).

import {h, replaceChildren} from './dom.js';
import {captureToken, loadServices, loadStatus} from './api.js';
import {formatCount, formatBytes} from './format.js';
import {registerServices} from './colors.js';
import {mountSearch} from './search.js';
import {mountTrace} from './trace.js';
import {mountMap} from './map.js';
import {mountOperations} from './operations.js';

const PAGES = {search: mountSearch, trace: mountTrace, map: mountMap, operations: mountOperations};
const STATUS_EVERY_MS = 15000;

let current = null; // {name, key, page}

// "#/trace/abc?span=1" -> {name: 'trace', path: ['trace', 'abc'], params}
function parseRoute(hash) {
  const text = hash.replace(/^#\/?/, '');
  const q = text.indexOf('?');
  const path = (q < 0 ? text : text.slice(0, q)).split('/').filter(Boolean).map(decodeURIComponent);
  const params = new URLSearchParams(q < 0 ? '' : text.slice(q + 1));
  const name = PAGES[path[0]] ? path[0] : 'search';
  return {name, path: path.length ? path : ['search'], params};
}

function route() {
  const r = parseRoute(location.hash);
  const key = `${r.name}/${r.path.slice(1).join('/')}`;
  markNav(r.name);
  if (current && current.key === key && current.page.update) {
    current.page.update(r);
    return;
  }
  if (current && current.page.unmount) current.page.unmount();
  const main = document.getElementById('main');
  const hadFocus = main.contains(document.activeElement);
  current = {key, page: PAGES[r.name](main, r) || {}};
  document.title = `${{search: 'Search', trace: 'Trace', map: 'Service map', operations: 'Operations'}[r.name]} · otelc view`;
  if (hadFocus || document.activeElement === document.body) main.focus({preventScroll: true});
}

function markNav(name) {
  const page = name === 'trace' ? 'search' : name;
  for (const a of document.querySelectorAll('.nav a')) {
    if (a.dataset.page === page) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
}

async function refreshStatus() {
  const box = document.getElementById('status');
  const banner = document.getElementById('banner');
  try {
    const st = await loadStatus();
    const receivers = st.receivers || {};
    const spans = Number(st.spans), traces = Number(st.traces);
    replaceChildren(box,
      h('span', null, `${formatCount(spans)} span${spans === 1 ? '' : 's'}`),
      h('span', null, `${formatCount(traces)} trace${traces === 1 ? '' : 's'}`),
      st.dbBytes !== undefined ? h('span', null, formatBytes(Number(st.dbBytes))) : null,
      h('span', {class: 'version'}, `v${String(st.version || '?')}`));
    box.title = `OTLP/HTTP ${receivers.otlpHttp || '–'}\nOTLP/gRPC ${receivers.otlpGrpc || '–'}`;
    banner.hidden = true;
  } catch (err) {
    replaceChildren(box, h('span', {class: 'text-error'}, err.status === 401 ? 'token needed' : 'viewer unreachable'));
    if (err.status === 401 || err.status === 0) {
      banner.textContent = err.message;
      banner.hidden = false;
    }
  }
}

async function start() {
  captureToken();
  // Colour slots in the order of the sorted service list, so a service
  // keeps its colour across pages and visits.
  try { registerServices(await loadServices()); } catch { /* pages report errors */ }
  window.addEventListener('hashchange', route);
  if (!location.hash || location.hash === '#') history.replaceState(null, '', '#/search');
  route();
  refreshStatus();
  setInterval(() => { if (!document.hidden) refreshStatus(); }, STATUS_EVERY_MS);
}

start();
