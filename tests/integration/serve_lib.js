// serve_lib.js - helpers for the `otelc serve` tests (serve_check.js and
// tests/interop/serve_interop.js): HTTP requests, starting and stopping the
// service as a real process on 127.0.0.1, a receiver that records what it
// is sent, and the spans the file exporter wrote.
'use strict';
const fs = require('fs');
const http = require('http');
const {spawn} = require('child_process');

const START_TIMEOUT_MS = 20000;

// One request; resolves to {status, headers, text, json}. headers values
// may be arrays: Node then sends one header line per element.
function request(url, {method = 'GET', headers = {}, body} = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, {method, headers}, res => {
      const chunks = [];
      res.on('data', c => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json;
        try { json = JSON.parse(text); } catch (e) { json = undefined; }
        resolve({status: res.statusCode, headers: res.headers, text, json});
      });
    });
    req.on('error', reject);
    req.setTimeout(60000, () => req.destroy(new Error(`timeout: ${method} ${url}`)));
    if (body !== undefined) req.write(body);
    req.end();
  });
}

// POST body to an endpoint of otelc serve that reads JSON: it takes JSON
// only when it is sent as application/json (no web page can send that
// cross-origin without a preflight, which the service does not grant).
function postJson(url, body, headers = {}) {
  return request(url, {method: 'POST', body,
                       headers: Object.assign({'Content-Type': 'application/json'}, headers)});
}

// Start `otelc serve --port 0 ARGS...`, exporting to spanFile; resolves when
// it prints the port. stop() sends SIGTERM and resolves to the exit code.
function startServe(otelc, args, {spanFile, logFile, env = {}}) {
  const childEnv = Object.assign({}, process.env, {
    OTEL_TRACES_EXPORTER: 'file', OTELC_FILE_PATH: spanFile, OTEL_BSP_SCHEDULE_DELAY: '50',
  }, env);
  const proc = spawn(otelc, ['serve', '--port', '0', ...args],
                     {env: childEnv, stdio: ['ignore', 'pipe', 'pipe']});
  const log = fs.createWriteStream(logFile, {flags: 'a'});
  proc.stderr.pipe(log);
  const exited = new Promise(resolve => proc.on('exit', (code, sig) => resolve(sig ? 128 : code)));
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`otelc serve did not start (see ${logFile})`));
    }, START_TIMEOUT_MS);
    proc.stdout.on('data', d => {
      out += d;
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (!m) return;
      clearTimeout(timer);
      resolve({
        url: m[1], proc,
        stop: () => { proc.kill('SIGTERM'); return exited; },
      });
    });
    proc.on('exit', code => {
      clearTimeout(timer);
      reject(new Error(`otelc serve exited with ${code} before listening (see ${logFile})`));
    });
  });
}

// A server recording every request {path, headers, raw (rawHeaders), body}
// in order, answering with respond(rec) (default 200 {}).
function startReceiver(respond) {
  const got = [];
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', c => chunks.push(c));
    req.on('end', () => {
      const rec = {method: req.method, path: req.url, headers: req.headers, raw: req.rawHeaders,
                   body: Buffer.concat(chunks).toString('utf8')};
      got.push(rec);
      const [status, body] = respond ? respond(rec) : [200, '{}'];
      res.writeHead(status, {'Content-Type': 'application/json'});
      res.end(body);
    });
  });
  return new Promise(resolve => server.listen(0, '127.0.0.1', () => resolve({
    url: `http://127.0.0.1:${server.address().port}`, got,
    close: () => new Promise(r => server.close(r)),
  })));
}

// Every span in OTLP/JSON lines files: {traceId, spanId, parentSpanId, name, kind, attrs, scope}.
function loadSpans(...files) {
  const spans = [];
  for (const file of files) {
    const text = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
    for (const line of text.split('\n')) {
      if (!line.trim()) continue;
      for (const rs of JSON.parse(line).resourceSpans || []) {
        for (const ss of rs.scopeSpans || []) {
          for (const s of ss.spans || []) {
            const attrs = {};
            for (const a of s.attributes || []) {
              const v = a.value || {};
              attrs[a.key] = 'intValue' in v ? Number(v.intValue) : (v.stringValue ?? v.boolValue ?? v.doubleValue);
            }
            spans.push({traceId: s.traceId, spanId: s.spanId, parentSpanId: s.parentSpanId || '',
                        name: s.name, kind: s.kind || 0, attrs, scope: ss.scope && ss.scope.name,
                        status: (s.status && s.status.code) || 0, file});
          }
        }
      }
    }
  }
  return spans;
}

// Failures are collected and printed; the process exits 1 if there were any.
function checker(prefix) {
  let failures = 0, passed = 0;
  const check = (ok, what, detail) => {
    if (ok) return ++passed > 0;
    failures++;
    console.error(`${prefix}: FAIL: ${what}${detail === undefined ? '' : ': ' + JSON.stringify(detail)}`);
    return false;
  };
  check.failures = () => failures;
  check.passed = () => passed;
  return check;
}

function describe(spans) {
  return spans.map(s => `  ${s.name} kind=${s.kind} trace=${s.traceId} span=${s.spanId} ` +
                        `parent=${s.parentSpanId || '-'} (${s.scope})`).join('\n');
}

// The parts of a traceparent header value, or null when it is not version 00 with valid ids.
function parseTraceparent(v) {
  const m = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/.exec(v || '');
  if (!m || /^0+$/.test(m[1]) || /^0+$/.test(m[2])) return null;
  return {traceId: m[1], parentId: m[2], flags: m[3]};
}

module.exports = {request, postJson, startServe, startReceiver, loadSpans, checker, describe, parseTraceparent};
