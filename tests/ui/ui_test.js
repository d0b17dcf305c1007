'use strict';
// ui_test.js - the otelc view web UI in headless Chromium, against a running
// viewer (or, with --fixture, against tests/ui/fixture_server.js):
//
//   node tests/ui/ui_test.js --base http://127.0.0.1:16686 --shots DIR
//        [--token T] [--otlp http://127.0.0.1:4318] [--max-render-ms 1000]
//        [--chromium /usr/bin/chromium]
//   node tests/ui/ui_test.js --fixture --shots DIR
//
// It sends its own traces over OTLP/HTTP JSON (to --otlp, or the receiver
// /api/status names): a small trace with every value type, a trace made of
// HTML/script injection attempts, and a 10,000-span trace. Then it searches,
// opens traces, counts waterfall rows against the spans the API returns,
// opens a span and reads attributes, collapses and expands with the
// keyboard, checks the critical path, the service map and the operations
// table, that no injected markup ran, that no page logged an error or broke
// the Content-Security-Policy, and that 10,000 spans render within the
// budget. A screenshot of each page goes to --shots. Ends with
// "N passed, N failed"; exits 1 on a failure.

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const {spawn} = require('node:child_process');
const crypto = require('node:crypto');
const puppeteer = require('puppeteer-core');
const {smallTrace, xssTrace, bigTrace, XSS_IMG, XSS_SCRIPT} = require('./traces.js');

// ---- arguments ----

function parseArgs(argv) {
  const opts = {chromium: '/usr/bin/chromium', maxRenderMs: 1000, bigSpans: 10000};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => argv[++i];
    if (a === '--base') opts.base = next().replace(/\/$/, '');
    else if (a === '--shots') opts.shots = next();
    else if (a === '--token') opts.token = next();
    else if (a === '--otlp') opts.otlp = next().replace(/\/$/, '');
    else if (a === '--chromium') opts.chromium = next();
    else if (a === '--max-render-ms') opts.maxRenderMs = Number(next());
    else if (a === '--fixture') opts.fixture = true;
    else throw new Error(`unknown argument ${a}`);
  }
  if (!opts.shots || (!opts.base && !opts.fixture)) {
    throw new Error('usage: ui_test.js (--base URL | --fixture) --shots DIR [--token T] [--otlp URL] [--max-render-ms N]');
  }
  return opts;
}

// ---- a tiny test runner ----

const results = [];
async function check(name, fn) {
  const t0 = Date.now();
  try {
    await fn();
    results.push({name, ok: true});
    console.log(`ok - ${name} (${Date.now() - t0} ms)`);
  } catch (err) {
    results.push({name, ok: false});
    console.log(`not ok - ${name}\n  ${String(err && err.stack || err).split('\n').slice(0, 4).join('\n  ')}`);
  }
}

function assert(cond, message) {
  if (!cond) throw new Error(message);
}

function assertEqual(actual, expected, what) {
  const a = JSON.stringify(actual), e = JSON.stringify(expected);
  if (a !== e) throw new Error(`${what}: expected ${e}, got ${a}`);
}

// ---- talking to the viewer from node ----

function authHeaders(opts) {
  return opts.token ? {Authorization: `Bearer ${opts.token}`} : {};
}

async function getJson(opts, urlPath) {
  const res = await fetch(`${opts.base}${urlPath}`, {headers: {Accept: 'application/json', ...authHeaders(opts)}});
  const body = await res.json().catch(() => null);
  return {status: res.status, body};
}

async function send(opts, builder) {
  const url = /\/v1\/traces$/.test(opts.otlp) ? opts.otlp : `${opts.otlp}/v1/traces`;
  for (const request of builder.requests(2000)) {
    const res = await fetch(url, {method: 'POST', body: JSON.stringify(request),
      headers: {'Content-Type': 'application/json', ...authHeaders(opts)}});
    assert(res.ok, `POST ${url}: HTTP ${res.status} ${await res.text()}`);
  }
}

// The trace as /api/v3/traces/{id} returns it, once it holds `count` spans.
async function waitForTrace(opts, traceId, count, timeoutMs = 30000) {
  const deadline = Date.now() + timeoutMs;
  let last = 0;
  for (;;) {
    const {status, body} = await getJson(opts, `/api/v3/traces/${traceId}`);
    if (status === 200) {
      const ids = [];
      for (const rs of body.result.resourceSpans || []) {
        for (const ss of rs.scopeSpans || []) for (const s of ss.spans || []) ids.push(s.spanId);
      }
      last = ids.length;
      if (ids.length >= count) return ids;
    }
    if (Date.now() > deadline) throw new Error(`trace ${traceId}: ${last} of ${count} spans stored after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

function startFixture(token) {
  const args = [path.join(__dirname, 'fixture_server.js'), '--port', '0', ...(token ? ['--token', token] : [])];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, {stdio: ['ignore', 'pipe', 'inherit']});
    child.stdout.on('data', (chunk) => {
      const m = /listening (http:\/\/\S+)/.exec(String(chunk));
      if (m) resolve({child, base: m[1]});
    });
    child.on('exit', (code) => reject(new Error(`fixture server exited with ${code}`)));
  });
}

// ---- the browser ----

async function launch(opts) {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'otelc-ui-test-'));
  const browser = await puppeteer.launch({
    executablePath: opts.chromium, headless: true, userDataDir: profile,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--no-first-run', `--user-data-dir=${profile}`],
    defaultViewport: {width: 1440, height: 900},
  });
  return {browser, profile};
}

// Everything a page does wrong is collected: script errors, console
// errors, CSP violations, alert()s.
async function watchedPage(browser, problems) {
  const page = await browser.newPage();
  await page.evaluateOnNewDocument(() => {
    window.__problems = [];
    document.addEventListener('securitypolicyviolation', (e) => {
      window.__problems.push(`CSP violation: ${e.violatedDirective} ${e.blockedURI}`);
    });
  });
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('console', (msg) => { if (msg.type() === 'error') problems.push(`console error: ${msg.text()}`); });
  page.on('dialog', async (dialog) => { problems.push(`dialog opened: ${dialog.message()}`); await dialog.dismiss(); });
  return page;
}

async function go(page, opts, hash) {
  await page.evaluate((h) => { location.hash = h; }, hash);
}

async function waitRendered(page, traceId, timeout = 30000) {
  await page.waitForFunction((id) => document.body.dataset.renderedTrace === id, {timeout}, traceId);
}

async function assertNothingRan(page) {
  const state = await page.evaluate(() => ({pwned: typeof window.__pwned, images: document.images.length,
    problems: window.__problems}));
  assertEqual(state.pwned, 'undefined', 'window.__pwned');
  assertEqual(state.images, 0, 'img elements in the page');
  assertEqual(state.problems, [], 'CSP violations');
}

const rowCount = (page) => page.$$eval('.wf-row[data-span-id]', (rows) => rows.length);
const attr = (page, selector, name) => page.$eval(selector, (el, n) => el.getAttribute(n), name);

async function shot(page, opts, name) {
  await new Promise((r) => setTimeout(r, 150));
  await page.screenshot({path: path.join(opts.shots, `${name}.png`)});
}

// ---- the checks ----

async function run(opts) {
  const runId = crypto.randomBytes(6).toString('hex');
  const small = smallTrace(runId), xss = xssTrace(runId), big = bigTrace(runId, 10000);
  let apiSpans = {};

  await check('traces are sent over OTLP/HTTP and stored', async () => {
    if (!opts.otlp) {
      const {body} = await getJson(opts, '/api/status');
      opts.otlp = (body && body.receivers && body.receivers.otlpHttp || '').replace(/\/$/, '');
      assert(opts.otlp, '/api/status names no OTLP/HTTP receiver: pass --otlp');
    }
    for (const t of [small, xss, big]) await send(opts, t.builder);
    apiSpans = {
      small: await waitForTrace(opts, small.builder.traceId, small.builder.spans.length),
      xss: await waitForTrace(opts, xss.builder.traceId, xss.builder.spans.length),
      big: await waitForTrace(opts, big.builder.traceId, big.builder.spans.length),
    };
  });

  const {browser, profile} = await launch(opts);
  const problems = [];
  const page = await watchedPage(browser, problems);
  try {
    const entry = opts.token ? `${opts.base}/#token=${encodeURIComponent(opts.token)}` : `${opts.base}/#/search`;
    await page.goto(entry, {waitUntil: 'load'});

    await check('the token leaves the address bar', async () => {
      await page.waitForFunction(() => location.hash.startsWith('#/search'));
      assert(!page.url().includes('token='), `the URL still holds the token: ${page.url()}`);
    });

    await check('search: the service list is /api/services', async () => {
      const {body} = await getJson(opts, '/api/services');
      await page.waitForFunction((n) => document.querySelectorAll('#f-service option').length === n + 1, {timeout: 10000}, body.data.length);
      const options = await page.$$eval('#f-service option', (os) => os.map((o) => o.value).filter(Boolean));
      assertEqual(options, body.data, 'service options');
    });

    await check('search: by service and operation finds the trace; one dot per result', async () => {
      await page.select('#f-service', 'ui-test-frontend');
      await page.waitForFunction(() => [...document.querySelectorAll('#f-operation option')].some((o) => o.value === 'GET /checkout'));
      await page.select('#f-operation', 'GET /checkout');
      await page.click('.search-form button[type=submit]');
      await page.waitForSelector(`.result[data-trace-id="${small.builder.traceId}"]`, {timeout: 10000});
      const shown = await page.$eval('.query-shown', (el) => el.textContent);
      assertEqual(shown, '{ resource.service.name = "ui-test-frontend" && name = "GET /checkout" }', 'query sent');
      const results = await page.$$eval('.result', (rs) => rs.length);
      const dots = await page.$$eval('.scatter .dot-link', (ds) => ds.length);
      assertEqual(dots, results, 'scatter dots against results');
      await shot(page, opts, 'search');
    });

    await check('search: a TraceQL query finds this run\'s traces', async () => {
      await go(page, opts, `#/search?q=${encodeURIComponent(`{ span.ui_test.run = "${runId}" }`)}&limit=50`);
      for (const t of [small, xss, big]) {
        await page.waitForSelector(`.result[data-trace-id="${t.builder.traceId}"]`, {timeout: 10000});
      }
      const spans = await page.$eval(`.result[data-trace-id="${small.builder.traceId}"] .badge`, (b) => b.textContent);
      assertEqual(spans, `${small.builder.spans.length} spans`, 'span count shown');
    });

    await check('trace: the waterfall has one row per stored span', async () => {
      await page.click(`.result[data-trace-id="${small.builder.traceId}"] .result-link`);
      await waitRendered(page, small.builder.traceId);
      assertEqual(Number(await attr(page, '.wf', 'data-span-count')), apiSpans.small.length, 'data-span-count');
      assertEqual(await rowCount(page), apiSpans.small.length, 'rows drawn');
      const ids = await page.$$eval('.wf-row[data-span-id]', (rows) => rows.map((r) => r.dataset.spanId).sort());
      assertEqual(ids, [...apiSpans.small].sort(), 'span ids of the rows');
      await shot(page, opts, 'trace');
    });

    await check('trace: the critical path is the root and its last-ending child, recursively', async () => {
      const critical = await page.$$eval('.wf-row.critical', (rows) => rows.map((r) => r.dataset.spanId));
      assertEqual(critical, [small.ids.root, small.ids.render], 'critical path');
    });

    await check('trace: opening a span shows its attributes, typed', async () => {
      await page.click(`.wf-row[data-span-id="${small.ids.select}"] .wf-op`);
      await page.waitForSelector(`.details[data-span-id="${small.ids.select}"]`);
      const statement = await page.$eval('.details tr[data-key="db.query.text"] .kv-text', (el) => el.textContent);
      assertEqual(statement, 'SELECT * FROM orders WHERE id = $1', 'db.query.text');
      await page.click(`.wf-row[data-span-id="${small.ids.orders}"] .wf-op`);
      await page.waitForSelector(`.details[data-span-id="${small.ids.orders}"]`);
      const value = (key) => page.$eval(`.details tr[data-key="${key}"] .kv-text`, (el) => el.textContent);
      assertEqual(await value('order.tags'), '["gift","fragile"]', 'array attribute');
      assertEqual(await value('order.items'), '3', 'int attribute');
      assertEqual(await value('order.customer'), '{"id":42,"tier":"gold"}', 'map attribute');
      assertEqual(await value('order.checksum'), 'AQID+g==', 'bytes attribute (base64)');
      const events = await page.$$eval('.details .event-name', (es) => es.map((e) => e.textContent));
      assertEqual(events, ['order.validated'], 'events');
      assert(page.url().includes(`?span=${small.ids.orders}`), 'the URL names the open span');
      await shot(page, opts, 'trace-details');
    });

    await check('trace: keyboard collapses and expands a subtree', async () => {
      const total = apiSpans.small.length;
      await page.focus(`.wf-row[data-span-id="${small.ids.root}"]`);
      await page.keyboard.press('ArrowLeft');
      assertEqual(await attr(page, '.wf', 'aria-rowcount'), '2', 'rows with the root collapsed (header + root)');
      assertEqual(await rowCount(page), 1, 'rows drawn');
      await page.keyboard.press('ArrowRight');
      assertEqual(await attr(page, '.wf', 'aria-rowcount'), String(total + 1), 'rows expanded');
      await page.click(`.wf-row[data-span-id="${small.ids.orders}"] .wf-toggle`);
      assertEqual(await rowCount(page), total - 5, 'rows with POST /api/orders collapsed (its 5 children hidden)');
      assertEqual(await attr(page, `.wf-row[data-span-id="${small.ids.orders}"]`, 'aria-expanded'), 'false', 'aria-expanded');
      await page.keyboard.press('Enter');
      await page.waitForSelector(`.details[data-span-id="${small.ids.orders}"]`);
    });

    await check('xss: markup in span data is shown as text and nothing runs', async () => {
      await go(page, opts, `#/trace/${xss.builder.traceId}`);
      await waitRendered(page, xss.builder.traceId);
      assertEqual(await rowCount(page), apiSpans.xss.length, 'rows drawn');
      const name = await page.$eval(`.wf-row[data-span-id="${xss.ids.root}"] .wf-op`, (el) => el.textContent);
      assertEqual(name, XSS_IMG, 'span name');
      const service = await page.$eval(`.wf-row[data-span-id="${xss.ids.root}"] .wf-svc`, (el) => el.textContent);
      assertEqual(service, XSS_SCRIPT, 'service name');
      await page.click(`.wf-row[data-span-id="${xss.ids.root}"] .wf-op`);
      await page.waitForSelector(`.details[data-span-id="${xss.ids.root}"]`);
      const script = await page.$eval('.details tr[data-key="xss.script"] .kv-text', (el) => el.textContent);
      assertEqual(script, XSS_SCRIPT, 'attribute value');
      const title = await page.$eval('.details-title', (el) => el.textContent);
      assertEqual(title, XSS_IMG, 'details title');
      await shot(page, opts, 'xss');
      await assertNothingRan(page);
      await go(page, opts, `#/search?service=${encodeURIComponent(XSS_SCRIPT)}`);
      await page.waitForSelector(`.result[data-trace-id="${xss.builder.traceId}"]`, {timeout: 10000});
      await assertNothingRan(page);
    });

    await check('live: a trace sent after the search appears by itself', async () => {
      const liveRun = `${runId}-live`;
      await go(page, opts, `#/search?q=${encodeURIComponent(`{ span.ui_test.run = "${liveRun}" }`)}&live=1`);
      await page.waitForFunction(() => /on|updated/.test(document.querySelector('.live-state').textContent), {timeout: 10000});
      const late = smallTrace(liveRun);
      await send(opts, late.builder);
      await page.waitForSelector(`.result[data-trace-id="${late.builder.traceId}"]`, {timeout: 15000});
      await go(page, opts, '#/search');
      await page.waitForFunction(() => document.querySelector('.live-state').textContent === '');
    });

    await check(`trace: ${big.builder.spans.length} spans render within ${opts.maxRenderMs} ms`, async () => {
      const t0 = Date.now();
      await go(page, opts, `#/trace/${big.builder.traceId}`);
      await waitRendered(page, big.builder.traceId, 60000);
      const wall = Date.now() - t0;
      const {renderMs, fetchMs} = await page.evaluate(() => ({renderMs: Number(document.body.dataset.renderMs),
        fetchMs: Number(document.body.dataset.fetchMs)}));
      console.log(`  # ${big.builder.spans.length} spans: render ${renderMs} ms, fetch+parse ${fetchMs} ms, wall ${wall} ms`);
      assertEqual(Number(await attr(page, '.wf', 'data-span-count')), apiSpans.big.length, 'data-span-count');
      assertEqual(await attr(page, '.wf', 'aria-rowcount'), String(apiSpans.big.length + 1), 'aria-rowcount');
      const drawn = await rowCount(page);
      assert(drawn > 10 && drawn < 300, `rows in the DOM: ${drawn} (virtualised)`);
      await shot(page, opts, 'trace-10k');
      await page.$eval('.wf-scroll', (el) => { el.scrollTop = el.scrollHeight; });
      await page.waitForFunction((n) => document.querySelector(`.wf-row[aria-rowindex="${n}"]`), {timeout: 5000}, apiSpans.big.length + 1);
      assert(renderMs <= opts.maxRenderMs, `render took ${renderMs} ms`);
    });

    await check('map: services and the calls between them', async () => {
      await go(page, opts, '#/map');
      await page.waitForSelector('.service-map [data-service="ui-test-frontend"]', {timeout: 10000});
      const edge = await page.$(`.service-map .edge[data-parent="ui-test-frontend"][data-child="ui-test-api"]`);
      assert(edge, 'no edge ui-test-frontend -> ui-test-api');
      const calls = await page.$eval('.map-table tr[data-key="ui-test-frontend→ui-test-api"] td:nth-child(3)', (td) => td.textContent);
      assert(Number(calls.replace(/,/g, '')) >= 1, `calls: ${calls}`);
      await shot(page, opts, 'map');
      await assertNothingRan(page);
    });

    await check('operations: the table lists and sorts the operations', async () => {
      await go(page, opts, '#/operations?service=ui-test-api');
      await page.waitForSelector('.grid-table tbody tr', {timeout: 10000});
      const ops = await page.$$eval('.grid-table tbody tr td:nth-child(2)', (tds) => tds.map((td) => td.textContent));
      for (const op of ['POST /api/orders', 'charge card', 'validate order']) assert(ops.includes(op), `no row for ${op}: ${ops}`);
      const counts = () => page.$$eval('.grid-table tbody tr td:nth-child(4)', (tds) => tds.map((td) => Number(td.textContent.replace(/,/g, ''))));
      const before = await counts();
      assertEqual(before, [...before].sort((a, b) => b - a), 'count, descending at first');
      await page.click('.grid-table th button[data-sort-key="count"]');
      assertEqual(await attr(page, '.grid-table th:nth-child(4)', 'aria-sort'), 'ascending', 'aria-sort');
      const after = await counts();
      assertEqual(after, [...after].sort((a, b) => a - b), 'count, ascending after a click');
      await go(page, opts, '#/operations');
      await page.waitForSelector('.grid-table tbody tr');
      await shot(page, opts, 'operations');
      await assertNothingRan(page);
    });

    await check('no page logged an error or broke the CSP', async () => {
      assertEqual(problems, [], 'problems');
      await assertNothingRan(page);
    });
  } finally {
    await browser.close();
    fs.rmSync(profile, {recursive: true, force: true});
  }
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  fs.mkdirSync(opts.shots, {recursive: true});
  let fixture = null;
  if (opts.fixture) {
    fixture = await startFixture(opts.token);
    opts.base = fixture.base;
  }
  try {
    await run(opts);
  } catch (err) {
    results.push({name: 'run', ok: false});
    console.log(`not ok - run\n  ${err && err.stack || err}`);
  } finally {
    if (fixture) fixture.child.kill();
  }
  const failed = results.filter((r) => !r.ok).length;
  console.log(`${results.length - failed} passed, ${failed} failed`);
  process.exitCode = failed ? 1 : 0;
}

main();
