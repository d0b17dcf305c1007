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
// budget (the median of three renders). A screenshot of each page goes to
// --shots. Ends with
// "N passed, N failed"; exits 1 on a failure.

const fs = require('node:fs');
const http = require('node:http');
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

// The status of GET path sent byte for byte (fetch would resolve "..").
function rawStatus(base, rawPath) {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const req = http.get({host: url.hostname, port: url.port, path: rawPath}, (res) => {
      res.resume();
      resolve(res.statusCode);
    });
    req.on('error', reject);
  });
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

// Waits for the search page to show the results of query.
async function searchDone(page, query, timeout = 10000) {
  await page.waitForFunction((q) => {
    const main = document.querySelector('.search-main');
    return main && main.dataset.state === 'done' && main.dataset.query === q;
  }, {timeout}, query);
}

const rowCount = (page) => page.$$eval('.wf-row[data-span-id]', (rows) => rows.length);
const attr = (page, selector, name) => page.$eval(selector, (el, n) => el.getAttribute(n), name);

async function shot(page, opts, name) {
  await new Promise((r) => setTimeout(r, 150));
  await page.screenshot({path: path.join(opts.shots, `${name}.png`)});
}

// ---- the trace model, run in the page on the module the viewer serves ----

// Runs in the browser: builds traces with the edge cases of real data and
// returns what the waterfall would draw.
async function modelCases() {
  const m = await import('/trace_model.js');
  const kv = (key, v) => ({key, value: {stringValue: v}});
  const span = (id, parent, start, end, extra = {}) => ({traceId: 'ab'.repeat(16), spanId: id, parentSpanId: parent,
    name: `s${id}`, startTimeUnixNano: start, endTimeUnixNano: end, ...extra});
  const body = (spans, service = 'svc') => ({result: {resourceSpans: [{resource: {attributes: [kv('service.name', service)]},
    scopeSpans: [{scope: {name: 'x'}, spans}]}]}});
  const rows = (t) => t.order.map((i) => t.spans[i].spanId);
  const base = '1700000000000000000';
  const at = (ns) => (BigInt(base) + BigInt(ns)).toString();
  const out = {};

  // A and B name each other as parent; C is a true root.
  let t = m.buildTrace(body([span('a', 'b', at(10), at(20)), span('b', 'a', at(5), at(30)), span('c', '', at(0), at(40))]));
  out.cycle = {rows: rows(t), roots: t.roots.map((i) => t.spans[i].spanId)};
  // A parent that never arrived; an id sent twice.
  t = m.buildTrace(body([span('r', '', at(0), at(10)), span('o', 'gone', at(2), at(4)), span('d', 'r', at(3), at(5)),
    span('d', 'r', at(6), at(7))]));
  out.orphan = {rows: rows(t), missing: t.spans.filter((s) => s.missingParent).map((s) => s.spanId),
    duplicates: t.spans.filter((s) => s.duplicate).length};
  // One nanosecond after 1.7e18 ns: beyond a double's precision as one number.
  t = m.buildTrace(body([span('n', '', '1700000000123456789', '1700000000123456790', {kind: 'SPAN_KIND_SERVER',
    status: {code: 'STATUS_CODE_ERROR'}})]));
  out.nanos = {duration: t.spans[0].duration, kind: t.spans[0].kind, status: t.spans[0].statusCode};
  // A 10,000-deep chain: no recursion, every depth right.
  const chain = [];
  for (let i = 0; i < 10000; i++) chain.push(span(`k${i}`, i ? `k${i - 1}` : '', at(i), at(20000 - i)));
  t = m.buildTrace(body(chain));
  out.chain = {rows: t.order.length, maxDepth: t.maxDepth, critical: t.criticalPath.length};
  // The root ends at 100; child x at 60; child y (async) at 150 with a
  // child z ending at 120: the path is root, y, z.
  t = m.buildTrace(body([span('root', '', at(0), at(100)), span('x', 'root', at(10), at(60)),
    span('y', 'root', at(70), at(150)), span('z', 'y', at(80), at(120))]));
  out.critical = t.criticalPath.map((i) => t.spans[i].spanId);
  out.self = m.selfTime(t, t.spans.findIndex((s) => s.spanId === 'root'));
  // x ends before y, but x's asynchronous child w ends after everything:
  // the path follows the subtree that ends last, root, x, w.
  t = m.buildTrace(body([span('root', '', at(0), at(100)), span('x', 'root', at(10), at(60)),
    span('w', 'x', at(50), at(130)), span('y', 'root', at(70), at(110))]));
  out.asyncCritical = t.criticalPath.map((i) => t.spans[i].spanId);
  // Garbage in: no crash, no spans.
  out.garbage = [null, {}, {result: {resourceSpans: 'x'}}, {result: {resourceSpans: [{scopeSpans: [{spans: [7, null]}]}]}}]
    .map((b) => m.buildTrace(b).spans.length);
  return out;
}

const MODEL_EXPECTED = {
  cycle: {rows: ['c', 'b', 'a'], roots: ['c', 'b']},
  orphan: {rows: ['r', 'd', 'd', 'o'], missing: ['o'], duplicates: 1},
  nanos: {duration: 1, kind: 2, status: 2},
  chain: {rows: 10000, maxDepth: 9999, critical: 10000},
  critical: ['root', 'y', 'z'],
  self: 100 - 50 - 30, // 0..100 less x (10..60) and y clipped to 70..100
  asyncCritical: ['root', 'x', 'w'],
  garbage: [0, 0, 0, 0],
};

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

  await check('the UI is served with its CSP, Content-Types and ETags', async () => {
    const page = await fetch(`${opts.base}/`);
    assertEqual(page.status, 200, 'GET /');
    assert(/^text\/html/.test(page.headers.get('content-type')), `type of /: ${page.headers.get('content-type')}`);
    const csp = page.headers.get('content-security-policy') || '';
    for (const d of ["default-src 'self'", "script-src 'self'", "object-src 'none'", "frame-ancestors 'none'"]) {
      assert(csp.includes(d), `CSP lacks ${d}: "${csp}"`);
    }
    assert(!/unsafe/.test(csp), `CSP allows something unsafe: "${csp}"`);
    const js = await fetch(`${opts.base}/app.js`);
    assert(/^text\/javascript/.test(js.headers.get('content-type')), `type of app.js: ${js.headers.get('content-type')}`);
    const etag = js.headers.get('etag');
    assert(/^"[^"]+"$/.test(etag || ''), `strong ETag of app.js: ${etag}`);
    const again = await fetch(`${opts.base}/app.js`, {headers: {'If-None-Match': etag}});
    assertEqual(again.status, 304, 'GET /app.js with If-None-Match');
    for (const bad of ['/../CMakeLists.txt', '/%2e%2e/CMakeLists.txt', '/no-such-file.js']) {
      const status = await rawStatus(opts.base, bad);
      assert(status === 404 || status === 400, `GET ${bad}: HTTP ${status}`);
    }
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

    await check('trace model: cycles, orphans, repeated ids, ns times, deep chains, async children', async () => {
      const outcome = await page.evaluate(modelCases);
      assertEqual(outcome, MODEL_EXPECTED, 'trace model');
    });

    await check('search: a bad TraceQL query shows the server\'s error', async () => {
      await go(page, opts, `#/search?q=${encodeURIComponent('{ name = }')}`);
      await page.waitForSelector('.search-main .notice-error:not([hidden])', {timeout: 10000});
      const text = await page.$eval('.search-main .notice-error', (el) => el.textContent);
      assert(text.length > 0 && !/^HTTP/.test(text), `error shown: "${text}"`);
      await go(page, opts, '#/search');
      await page.waitForFunction(() => document.querySelector('.search-main .notice-error').hidden);
      // Chromium logs the 400 itself as a console error: that one was asked for.
      const expected = problems.findIndex((p) => /status of 400/.test(p));
      if (expected >= 0) problems.splice(expected, 1);
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
      const query = '{ resource.service.name = "ui-test-frontend" && name = "GET /checkout" }';
      await searchDone(page, query);
      assert(await page.$(`.result[data-trace-id="${small.builder.traceId}"]`), 'the trace is not in the results');
      assertEqual(await page.$eval('.query-shown', (el) => el.textContent), query, 'query shown');
      const results = await page.$$eval('.result', (rs) => rs.length);
      const dots = await page.$$eval('.scatter .dot-link', (ds) => ds.length);
      assertEqual(dots, results, 'scatter dots against results');
      await shot(page, opts, 'search');
    });

    await check('search: a TraceQL query finds this run\'s traces', async () => {
      const query = `{ span.ui_test.run = "${runId}" }`;
      await go(page, opts, `#/search?q=${encodeURIComponent(query)}&limit=50`);
      await searchDone(page, query);
      const ids = await page.$$eval('.result', (rs) => rs.map((r) => r.dataset.traceId).sort());
      assertEqual(ids, [small, xss, big].map((t) => t.builder.traceId).sort(), 'traces found');
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

    await check('trace: the critical path runs from the root into the child whose subtree ends last', async () => {
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
      await searchDone(page, `{ resource.service.name = ${JSON.stringify(XSS_SCRIPT)} }`);
      assert(await page.$(`.result[data-trace-id="${xss.builder.traceId}"]`), 'the trace is not in the results');
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

    // The budget holds the median of three renders: one render can land on
    // a moment when the machine is busy with something else (make check
    // runs tests side by side on two CPUs), which says nothing of the UI,
    // while a slower UI is slower every time. Each render is printed.
    await check(`trace: ${big.builder.spans.length} spans render within ${opts.maxRenderMs} ms (median of 3)`, async () => {
      const renders = [];
      for (let i = 0; i < 3; i++) {
        if (i) { // away and back: the trace page fetches and draws it anew
          await go(page, opts, `#/trace/${small.builder.traceId}`);
          await waitRendered(page, small.builder.traceId);
        }
        const t0 = Date.now();
        await go(page, opts, `#/trace/${big.builder.traceId}`);
        await waitRendered(page, big.builder.traceId, 60000);
        const wall = Date.now() - t0;
        const {renderMs, fetchMs, modelMs, domMs} = await page.evaluate(() => {
          const d = document.body.dataset;
          return {renderMs: Number(d.renderMs), fetchMs: Number(d.fetchMs), modelMs: Number(d.modelMs), domMs: Number(d.domMs)};
        });
        renders.push(renderMs);
        console.log(`  # ${big.builder.spans.length} spans, render ${i + 1}: ${renderMs} ms (model ${modelMs}, DOM ${domMs}, ` +
          `the rest layout and paint); before it, fetch and parse ${fetchMs} ms; wall ${wall} ms`);
      }
      const median = [...renders].sort((x, y) => x - y)[1];
      console.log(`  # ${big.builder.spans.length} spans: median render ${median} ms (budget ${opts.maxRenderMs} ms)`);
      assertEqual(Number(await attr(page, '.wf', 'data-span-count')), apiSpans.big.length, 'data-span-count');
      assertEqual(await attr(page, '.wf', 'aria-rowcount'), String(apiSpans.big.length + 1), 'aria-rowcount');
      const drawn = await rowCount(page);
      assert(drawn > 10 && drawn < 300, `rows in the DOM: ${drawn} (virtualised)`);
      await shot(page, opts, 'trace-10k');
      await page.$eval('.wf-scroll', (el) => { el.scrollTop = el.scrollHeight; });
      await page.waitForFunction((n) => document.querySelector(`.wf-row[aria-rowindex="${n}"]`), {timeout: 5000}, apiSpans.big.length + 1);
      assert(median <= opts.maxRenderMs, `median render ${median} ms (renders ${renders.join(', ')} ms)`);
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
