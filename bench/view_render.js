'use strict';
// view_render.js - how long otelc view's UI takes to draw a big trace, in
// headless Chromium against a running viewer (bench/run_view.sh runs it):
//
//   node bench/view_render.js --base http://127.0.0.1:16686 [--otlp URL]
//        [--spans 10000] [--renders 7] [--chromium /usr/bin/chromium]
//
// Sends one trace of --spans spans over OTLP/HTTP JSON (tests/ui/traces.js's
// bigTrace, as tests/ui/ui_test.js sends it), waits until the API returns
// all of them, then opens the trace page --renders times (from the search
// page each time, so each is a fresh render) and reads what the page
// measured itself (viewer/ui/trace.js): data-render-ms, from the parsed
// response to the page laid out and painted (data-model-ms and
// data-dom-ms are parts of it), and data-fetch-ms, the request and JSON
// parsing before it. Prints figures as bench/run.sh does: the median of
// the renders, each render, and the first one apart (a cold page).

const path = require('node:path');
const crypto = require('node:crypto');
const ui = path.join(__dirname, '..', 'tests', 'ui');
const puppeteer = require(path.join(ui, 'node_modules', 'puppeteer-core'));
const {bigTrace} = require(path.join(ui, 'traces.js'));

function parseArgs(argv) {
  const o = {spans: 10000, renders: 7, chromium: '/usr/bin/chromium'};
  for (let i = 0; i < argv.length; i++) {
    const next = () => argv[++i];
    if (argv[i] === '--base') o.base = next().replace(/\/$/, '');
    else if (argv[i] === '--otlp') o.otlp = next().replace(/\/$/, '');
    else if (argv[i] === '--spans') o.spans = Number(next());
    else if (argv[i] === '--renders') o.renders = Number(next());
    else if (argv[i] === '--chromium') o.chromium = next();
    else throw new Error(`unknown argument ${argv[i]}`);
  }
  if (!o.base || !(o.spans > 0) || !(o.renders > 0)) {
    throw new Error('usage: view_render.js --base URL [--otlp URL] [--spans N] [--renders N] [--chromium PATH]');
  }
  return o;
}

async function getJson(url) {
  const res = await fetch(url, {headers: {Accept: 'application/json'}});
  return {status: res.status, body: res.ok ? await res.json() : null};
}

async function send(otlp, builder) {
  for (const request of builder.requests(2000)) {
    const res = await fetch(`${otlp}/v1/traces`, {method: 'POST', body: JSON.stringify(request),
      headers: {'Content-Type': 'application/json'}});
    if (!res.ok) throw new Error(`POST ${otlp}/v1/traces: HTTP ${res.status} ${await res.text()}`);
  }
}

async function waitStored(base, traceId, count) {
  const deadline = Date.now() + 60000;
  for (;;) {
    const {status, body} = await getJson(`${base}/api/v3/traces/${traceId}`);
    let n = 0;
    if (status === 200) {
      for (const rs of body.result.resourceSpans || []) for (const ss of rs.scopeSpans || []) n += (ss.spans || []).length;
    }
    if (n >= count) return;
    if (Date.now() > deadline) throw new Error(`trace ${traceId}: ${n} of ${count} spans stored after 60 s`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

function figure(name, value, unit, note) {
  const v = value >= 100 ? value.toFixed(0) : value.toFixed(1);
  console.log(`${name.padEnd(40)} ${v.padStart(14)} ${unit.padEnd(10)} ${note}`);
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  if (!o.otlp) {
    const {body} = await getJson(`${o.base}/api/status`);
    o.otlp = (body && body.receivers && body.receivers.otlpHttp || '').replace(/\/$/, '');
    if (!o.otlp) throw new Error('/api/status names no OTLP/HTTP receiver: pass --otlp');
  }
  const big = bigTrace(crypto.randomBytes(6).toString('hex'), o.spans);
  const traceId = big.builder.traceId;
  await send(o.otlp, big.builder);
  await waitStored(o.base, traceId, o.spans);

  const profile = require('node:fs').mkdtempSync(path.join(require('node:os').tmpdir(), 'otelc-render-'));
  const browser = await puppeteer.launch({executablePath: o.chromium, headless: true, userDataDir: profile,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run'],
    defaultViewport: {width: 1440, height: 900}});
  const runs = [];
  try {
    const page = await browser.newPage();
    await page.goto(`${o.base}/#/search`, {waitUntil: 'load'});
    for (let i = 0; i < o.renders; i++) {
      await page.evaluate(() => { location.hash = '#/search'; });
      await page.waitForSelector('.search-main');
      const t0 = Date.now();
      await page.evaluate((id) => {
        delete document.body.dataset.renderedTrace; // the last render's, until this one is done
        location.hash = `#/trace/${id}`;
      }, traceId);
      await page.waitForFunction((id) => document.body.dataset.renderedTrace === id, {timeout: 60000}, traceId);
      const wall = Date.now() - t0;
      const d = await page.evaluate(() => ({...document.body.dataset}));
      const rows = await page.$eval('.wf', (el) => Number(el.getAttribute('data-span-count')));
      if (rows !== o.spans) throw new Error(`the waterfall holds ${rows} spans, not ${o.spans}`);
      runs.push({render: Number(d.renderMs), model: Number(d.modelMs), dom: Number(d.domMs),
        fetch: Number(d.fetchMs), wall});
    }
  } finally {
    await browser.close();
    require('node:fs').rmSync(profile, {recursive: true, force: true});
  }
  const col = (k) => runs.map((r) => r[k]);
  const list = (k) => col(k).map((v) => v.toFixed(0)).join(' ');
  const n = o.spans.toLocaleString('en-US');
  figure('view.ui.render_ms', median(col('render')), 'ms',
    `median of ${runs.length}: ${list('render')}; ${n} spans drawn, in the page; target <= 1000`);
  figure('view.ui.render_model_ms', median(col('model')), 'ms', 'of which building the trace model');
  figure('view.ui.render_dom_ms', median(col('dom')), 'ms', 'of which building the page (DOM); the rest layout and paint');
  figure('view.ui.fetch_ms', median(col('fetch')), 'ms', `before it: GET /api/v3/traces/{id} and JSON.parse (${list('fetch')})`);
  figure('view.ui.open_ms', median(col('wall')), 'ms', `from the link to the drawn page, seen from node (${list('wall')})`);
  figure('view.ui.first_render_ms', runs[0].render, 'ms', 'the first render (a cold page), in the median too');
}

main().catch((err) => {
  console.error(`view_render.js: ${err && err.stack || err}`);
  process.exit(1);
});
