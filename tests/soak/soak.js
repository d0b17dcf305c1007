// soak.js - the chaos soak's driver: node tests/soak/soak.js BUILD_DIR OUT_DIR
//
// Starts tests/integration/otlp_fault_server.js cycling through its faults,
// two soak_service processes (one exporting OTLP/HTTP, one OTLP/gRPC) for
// SOAK_MINUTES (default 30; fractions allowed), then holds the backend up
// while the services drain and stop. Writes OUT_DIR/report.json and
// OUT_DIR/report.md (the markdown that soak.sh puts into docs/reliability.md)
// and exits 1 when a promise was broken: a span unaccounted for (the
// service's or its fork children's), a crash, a sanitizer report, a service
// that left the soak.
//
// The services make PostgreSQL and Redis calls when soak.sh started those
// servers (SOAK_PG_CONNINFO, SOAK_REDIS_PORT); SOAK_PG_NOTE and
// SOAK_REDIS_NOTE say why not, for the report.
//
// SOAK_PHASE_SECONDS (default 5) is each phase's length, SOAK_RATE (default
// 100) the requests per second of each service, SOAK_LABEL names the build.
'use strict';

const fs = require('fs');
const path = require('path');
const { spawn } = require('child_process');
const readline = require('readline');

const [buildDir, outDir] = process.argv.slice(2);
const minutes = Number(process.env.SOAK_MINUTES || 30);
const phaseMs = 1000 * Number(process.env.SOAK_PHASE_SECONDS || 5);
const rate = Number(process.env.SOAK_RATE || 100);
const label = process.env.SOAK_LABEL || 'plain';
const WARMUP_MS = Math.min(60000, (minutes * 60000) / 4);
const DRAIN_MS = 8000;

// The faults, each after an up phase (whose first seconds measure the recovery from the
// fault before it).
const FAULTS = [
  { name: 'refused', down: true },
  // Long enough for five exports in a row to fail: the circuit breaker opens.
  { name: 'outage', down: true, phases: 4 },
  { name: 'unavailable-503', http: { status: 503, retry_after: 1 }, grpc: { grpc_status: 14, trailers_only: true } },
  { name: 'throttled-429', http: { status: 429 }, grpc: { grpc_status: 8, retry_delay_ms: 1000, trailers_only: true } },
  { name: 'slow-2s', http: { delay_ms: 2000 }, grpc: { delay_ms: 2000 } },
  { name: 'reset-mid-body', http: { reset_mid_body: true }, grpc: { reset_mid_body: true } },
  { name: 'hang', http: { hang: true }, grpc: { hang: true } },
  { name: 'partial-success', http: { partial: { rejected: 1, message: 'soak' } }, grpc: { partial: { rejected: 1, message: 'soak' } } },
];
const UP = { name: 'up', http: {}, grpc: {} };
// Up phases last twice as long: after the recovery, a steady stretch (STEADY_MS on).
const PHASES = FAULTS.flatMap((f) => [
  Object.assign({ ms: 2 * phaseMs }, UP),
  Object.assign({ ms: (f.phases || 1) * phaseMs }, f),
]);
// An export that began in a fault phase may run this long into the next phase: the
// OTLP timeout (3 s, OTEL_EXPORTER_OTLP_TIMEOUT below), a schedule delay (0.5 s)
// and the sampling's second.
const STEADY_MS = 4500;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---- The fault server ----------------------------------------------------------------

function startServer() {
  const script = path.join(__dirname, '..', 'integration', 'otlp_fault_server.js');
  const child = spawn('node', [script], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = readline.createInterface({ input: child.stdout });
  const waiting = [];
  lines.on('line', (l) => waiting.shift()(l));
  const next = () => new Promise((r) => waiting.push(r));
  const server = {
    child,
    ports: null,
    async cmd(obj) {
      const answer = next();
      child.stdin.write(JSON.stringify(obj) + '\n');
      return answer;
    },
  };
  return next().then((l) => {
    server.ports = JSON.parse(l);
    return server;
  });
}

// ---- The services ---------------------------------------------------------------------

function startService(protocol, server, phaseFile) {
  const dir = path.join(outDir, protocol);
  fs.mkdirSync(dir, { recursive: true });
  const port = protocol === 'grpc' ? server.ports.grpc : server.ports.http;
  // The breaker shared between processes keeps its records here, not in the user's runtime directory.
  const runDir = path.join(dir, 'run');
  fs.mkdirSync(runDir, { recursive: true, mode: 0o700 });
  const env = Object.assign({}, process.env, {
    XDG_RUNTIME_DIR: runDir,
    OTEL_SERVICE_NAME: `soak-${protocol}`,
    OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`,
    OTEL_EXPORTER_OTLP_PROTOCOL: protocol === 'grpc' ? 'grpc' : 'http/protobuf',
    OTEL_EXPORTER_OTLP_TIMEOUT: '3000',
    OTEL_BSP_SCHEDULE_DELAY: '500',
    OTEL_BSP_EXPORT_TIMEOUT: '5000',
  });
  const stderr = fs.openSync(path.join(dir, 'stderr.log'), 'w');
  const argv = [phaseFile, dir, String(rate), `http://127.0.0.1:${server.ports.app}/app`,
    path.join(buildDir, 'otelc')];
  const child = spawn(path.join(buildDir, 'soak_service'), argv, { env, stdio: ['ignore', 'ignore', stderr] });
  const svc = { protocol, dir, child, exit: null };
  svc.exited = new Promise((r) => child.on('exit', (code, signal) => r((svc.exit = { code, signal }))));
  return svc;
}

// ---- Figures -----------------------------------------------------------------------------

function readJsonLines(file) {
  if (!fs.existsSync(file)) return [];
  return fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
}

// Least-squares slope of y over t (ms), per 10 minutes.
function slopePer10min(points) {
  const n = points.length;
  if (n < 2) return 0;
  const mt = points.reduce((a, p) => a + p.t, 0) / n;
  const my = points.reduce((a, p) => a + p.y, 0) / n;
  let num = 0;
  let den = 0;
  for (const p of points) {
    num += (p.t - mt) * (p.y - my);
    den += (p.t - mt) * (p.t - mt);
  }
  return den ? (num / den) * 600000 : 0;
}

function resources(samples) {
  const after = samples.filter((s) => s.t_ms >= WARMUP_MS);
  const out = {};
  for (const key of ['rss_kb', 'fds', 'threads']) {
    const ys = after.map((s) => s[key]);
    out[key] = {
      min: Math.min(...ys),
      max: Math.max(...ys),
      slope_per_10min: Math.round(slopePer10min(after.map((s) => ({ t: s.t_ms, y: s[key] }))) * 10) / 10,
    };
  }
  return out;
}

const DROPS = ['queue_full', 'export_failed', 'breaker_skipped', 'rejected', 'retries', 'requests', 'exported'];

// Drops counted while the backend had been up for STEADY_MS: no export may fail then.
// Two kinds are counted apart: batches the open circuit breaker kept back (until its
// next probe, up to a cool-down after the backend returned), and queue-full drops when
// the machine starves the process (the longest gap between two samples, which are a
// second apart, tells).
function steadyUpDrops(samples) {
  let upSince = null;
  let failed = 0;
  let queueFull = 0;
  let breaker = 0;
  let seconds = 0;
  let maxGapMs = 0;
  for (let i = 1; i < samples.length; i++) {
    const s = samples[i];
    const up = s.phase === 'up' || s.phase === 'drain';
    if (!up) upSince = null;
    else if (upSince === null) upSince = samples[i - 1].t_ms;
    if (!up || s.t_ms - upSince < STEADY_MS || !s.t_ms) continue;
    seconds++;
    breaker += s.breaker_skipped - samples[i - 1].breaker_skipped;
    failed += s.export_failed - s.breaker_skipped - samples[i - 1].export_failed + samples[i - 1].breaker_skipped;
    queueFull += s.queue_full - samples[i - 1].queue_full;
  }
  for (let i = 1; i < samples.length; i++) if (samples[i].t_ms) maxGapMs = Math.max(maxGapMs, samples[i].t_ms - samples[i - 1].t_ms);
  return { failed, breaker, queue_full: queueFull, seconds, max_sample_gap_ms: maxGapMs };
}

// What each phase name saw: the counters' growth over the samples taken in it.
function perPhase(samples) {
  const out = {};
  for (let i = 1; i < samples.length; i++) {
    const s = samples[i];
    const p = (out[s.phase] = out[s.phase] || { seconds: 0 });
    p.seconds++;
    for (const k of DROPS) p[k] = (p[k] || 0) + s[k] - samples[i - 1][k];
  }
  return out;
}

// ended = exported + every drop, from one set of counters (a service's, or its fork
// children's summed), against what the server accepted of them.
function accounting(c, accepted) {
  return {
    ended: c.ended,
    exported: c.exported,
    dropped_queue_full: c.queue_full,
    dropped_export_failed: c.export_failed - c.breaker_skipped - c.rejected,
    dropped_breaker_open: c.breaker_skipped,
    dropped_rejected: c.rejected,
    unaccounted: c.ended - c.exported - c.queue_full - c.export_failed,
    server_accepted: accepted ? accepted.accepted : 0,
    server_repeated: accepted ? accepted.repeated : 0,
  };
}

const COUNTED = ['ended', 'exported', 'queue_full', 'export_failed', 'breaker_skipped', 'rejected'];

// What the fork children counted, each from its fork to its exit (children.jsonl).
function childCounters(dir) {
  const sum = { reported: 0 };
  for (const k of COUNTED) sum[k] = 0;
  for (const line of readJsonLines(path.join(dir, 'children.jsonl'))) {
    sum.reported++;
    for (const k of COUNTED) sum[k] += line[k];
  }
  return sum;
}

// The service and its fork children together.
function total(a, b) {
  const out = {};
  for (const k of COUNTED) out[k] = a[k] + b[k];
  return out;
}

// A database the services used, or why not.
function storeState(r, key, note) {
  const states = [...new Set(['http', 'grpc'].map((p) => r.services[p].summary[key]))];
  if (states.length === 1 && states[0] === 'no server given' && note) return note;
  return states.join(' / ');
}

// The time from each up phase's start to its first success, by the fault before it.
function recovery(runs) {
  const out = {};
  for (let i = 1; i < runs.length; i++) {
    const upAgain = runs[i].name === 'up' || runs[i].name === 'drain';
    if (!upAgain || runs[i - 1].name === 'up') continue; // the drain follows an up phase
    const r = (out[runs[i - 1].name] = out[runs[i - 1].name] || { http: [], grpc: [] });
    for (const k of ['http', 'grpc']) {
      const ms = runs[i].first_ok_ms[`soak-${k}`];
      if (ms !== undefined) r[k].push(ms);
    }
  }
  for (const f of Object.keys(out))
    for (const k of ['http', 'grpc']) {
      const xs = out[f][k].sort((a, b) => a - b);
      out[f][k] = xs.length ? { median_ms: xs[xs.length >> 1], max_ms: xs[xs.length - 1], n: xs.length } : null;
    }
  return out;
}

function sanitizerReports(dir) {
  const text = fs.existsSync(path.join(dir, 'stderr.log')) ? fs.readFileSync(path.join(dir, 'stderr.log'), 'utf8') : '';
  return (text.match(/ERROR: (?:Address|Leak)Sanitizer|ThreadSanitizer:|runtime error:/g) || []).length;
}

// ---- The report --------------------------------------------------------------------------

function markdown(r) {
  const L = [];
  const when = r.date.slice(0, 16).replace('T', ' ');
  L.push(`Soak \`${r.label}\` of ${r.minutes} min on ${when} UTC (${r.commit}): ${r.rate} requests/s per service, ` +
    `phases of ${r.phase_seconds} s, warm-up ${r.warmup_s} s excluded from the resource slopes. ` +
    `Verdict: **${r.ok ? 'pass' : 'FAIL: ' + r.failures.join('; ')}**.`);
  L.push('');
  L.push(`Each request makes a SQLite statement and, every tenth, a libcurl call. PostgreSQL: ${r.postgresql}. Redis: ${r.redis}.`);
  L.push('');
  L.push('| | OTLP/HTTP | OTLP/gRPC |');
  L.push('|---|---:|---:|');
  const row = (name, f) => L.push(`| ${name} | ${f(r.services.http)} | ${f(r.services.grpc)} |`);
  row('spans ended (the service and its fork children)', (s) => s.accounting.ended);
  row('exported (acknowledged)', (s) => s.accounting.exported);
  row('dropped: queue full', (s) => s.accounting.dropped_queue_full);
  row('dropped: export failed after retries', (s) => s.accounting.dropped_export_failed);
  row('dropped: breaker open', (s) => s.accounting.dropped_breaker_open);
  row('dropped: rejected by partial success', (s) => s.accounting.dropped_rejected);
  row('**unaccounted** (ended − exported − drops)', (s) => `**${s.accounting.unaccounted}**`);
  row('accepted by the server (unique span ids)', (s) => s.accounting.server_accepted);
  row('spans that reached the server twice', (s) => s.accounting.server_repeated);
  row('of which fork children: ended / exported / dropped; **unaccounted**', (s) =>
    `${s.children.ended} / ${s.children.exported} / ${s.children.dropped_queue_full + s.children.dropped_export_failed + s.children.dropped_breaker_open + s.children.dropped_rejected}; **${s.children.unaccounted}**`);
  row('fork children that reported their counters; their spans the server accepted', (s) => `${s.children_reported} of ${s.summary.forks}; ${s.children.server_accepted}`);
  row(`export failures while the backend was steadily up (${STEADY_MS / 1000} s after a fault; seconds of it)`, (s) => `${s.steady_up.failed} (${s.steady_up.seconds} s)`);
  row('breaker-open drops while steadily up (until its next probe)', (s) => s.steady_up.breaker);
  row('queue-full drops while steadily up; longest gap between 1 s samples (ms)', (s) => `${s.steady_up.queue_full}; ${s.steady_up.max_sample_gap_ms}`);
  row('dropped in up phases (recovering included)', (s) => s.up_drops);
  row('RSS after warm-up (KiB, min–max; slope/10 min)', (s) => `${s.resources.rss_kb.min}–${s.resources.rss_kb.max}; ${s.resources.rss_kb.slope_per_10min}`);
  row('open fds (min–max; slope/10 min)', (s) => `${s.resources.fds.min}–${s.resources.fds.max}; ${s.resources.fds.slope_per_10min}`);
  row('threads (min–max; slope/10 min)', (s) => `${s.resources.threads.min}–${s.resources.threads.max}; ${s.resources.threads.slope_per_10min}`);
  row('fork children / `otelc exec` children / threads started', (s) => `${s.summary.forks} / ${s.summary.execs} / ${s.summary.threads_started}`);
  row('PostgreSQL queries (failed) / Redis commands (failed)', (s) =>
    `${s.summary.pg_calls} (${s.summary.pg_failed}) / ${s.summary.redis_calls} (${s.summary.redis_failed})`);
  row('crashes (service, children); children that failed; sanitizer reports', (s) => `${s.crashed ? 1 : 0}, ${s.summary.child_crashes}; ${s.summary.child_failures}; ${s.sanitizer_reports}`);
  row('final shutdown (ms)', (s) => s.summary.shutdown_ms);
  L.push('');
  L.push('Fault matrix: the counters\' growth over the seconds sampled in each phase, summed over its runs (an export ' +
    'that began in one phase counts where it ends); recovery: from the start of the up phase after the fault to the ' +
    'first span of that service the server accepted, median / max.');
  L.push('');
  L.push('| phase | protocol | requests seen by the server | client retries | exported | dropped (queue, failed, breaker, rejected) | request p50 / p99 / max (µs) | span start+end p50 / p99 (µs) | recovery (ms) |');
  L.push('|---|---|---:|---:|---:|---|---:|---:|---:|');
  const names = ['up'].concat(FAULTS.map((f) => f.name));
  for (const name of names)
    for (const proto of ['http', 'grpc']) {
      const s = r.services[proto];
      const p = s.phases[name] || {};
      const lat = (s.summary.phases || []).find((x) => x.name === name) || {};
      const seen = r.server_phases[name] ? r.server_phases[name][proto] : 0;
      const rec = r.recovery[name] && r.recovery[name][proto];
      L.push(`| ${name} | ${proto} | ${seen} | ${p.retries || 0} | ${p.exported || 0} | ` +
        `${p.queue_full || 0}, ${(p.export_failed || 0) - (p.breaker_skipped || 0) - (p.rejected || 0)}, ${p.breaker_skipped || 0}, ${p.rejected || 0} | ` +
        `${lat.req_p50_us || '-'} / ${lat.req_p99_us || '-'} / ${lat.req_max_us || '-'} | ${lat.span_p50_us || '-'} / ${lat.span_p99_us || '-'} | ${rec ? rec.median_ms + ' / ' + rec.max_ms : '-'} |`);
    }
  return L.join('\n') + '\n';
}

async function main() {
  fs.mkdirSync(outDir, { recursive: true });
  const phaseFile = path.join(outDir, 'phase');
  const server = await startServer();
  await server.cmd({ cmd: 'phase', phase: UP, phase_file: phaseFile });
  const services = ['http', 'grpc'].map((p) => startService(p, server, phaseFile));
  await sleep(1000);
  await server.cmd({ cmd: 'cycle', phases: PHASES, phase_file: phaseFile });
  await sleep(minutes * 60000);
  await server.cmd({ cmd: 'phase', phase: { name: 'drain', http: {}, grpc: {} }, phase_file: phaseFile });
  await sleep(DRAIN_MS);
  for (const s of services) if (!s.exit) s.child.kill('SIGTERM');
  await Promise.all(services.map((s) => Promise.race([s.exited, sleep(30000)])));
  const figures = JSON.parse(await server.cmd({ cmd: 'soak' }));
  server.child.stdin.end();

  const report = {
    label,
    date: new Date().toISOString(),
    commit: process.env.SOAK_COMMIT || '',
    minutes,
    rate,
    phase_seconds: phaseMs / 1000,
    warmup_s: WARMUP_MS / 1000,
    services: {},
    server_phases: {},
    recovery: recovery(figures.phases),
    failures: [],
  };
  for (const run of figures.phases) {
    const p = (report.server_phases[run.name] = report.server_phases[run.name] || { http: 0, grpc: 0 });
    p.http += run.requests.http;
    p.grpc += run.requests.grpc;
  }
  for (const s of services) {
    const samples = readJsonLines(path.join(s.dir, 'samples.jsonl'));
    const summaryFile = path.join(s.dir, 'summary.json');
    const summary = fs.existsSync(summaryFile) ? JSON.parse(fs.readFileSync(summaryFile, 'utf8')) : null;
    const name = `soak-${s.protocol}`;
    if (!summary) {
      report.failures.push(`${name} wrote no summary (exit ${JSON.stringify(s.exit)})`);
      continue;
    }
    const phases = perPhase(samples);
    const up = phases.up || {};
    const children = childCounters(s.dir);
    const served = figures.services[name] || { accepted: 0, repeated: 0 };
    const forked = figures.services[`${name}/forked-child`] || { accepted: 0, repeated: 0 };
    const entry = {
      summary,
      accounting: accounting(total(summary, children), {
        accepted: served.accepted + forked.accepted,
        repeated: served.repeated + forked.repeated,
      }),
      service: accounting(summary, served),
      children: accounting(children, forked),
      children_reported: children.reported,
      phases,
      up_drops: (up.queue_full || 0) + (up.export_failed || 0),
      steady_up: steadyUpDrops(samples),
      resources: resources(samples),
      crashed: !s.exit || s.exit.code !== 0,
      sanitizer_reports: sanitizerReports(s.dir),
    };
    report.services[s.protocol] = entry;
    for (const [who, a] of [[name, entry.service], [`${name}'s fork children`, entry.children]]) {
      if (a.unaccounted !== 0) report.failures.push(`${who}: ${a.unaccounted} spans unaccounted for`);
      if (a.server_accepted < a.exported) report.failures.push(`${who}: ${a.exported - a.server_accepted} exported spans never reached the server`);
    }
    // A child that crashed cannot report; one that exited cleanly must have.
    const silent = summary.forks - children.reported - summary.child_crashes;
    if (silent > 0) report.failures.push(`${name}: ${silent} fork children exited without reporting their counters`);
    if (entry.crashed) report.failures.push(`${name} exited ${JSON.stringify(s.exit)}`);
    if (summary.child_crashes) report.failures.push(`${name}: ${summary.child_crashes} children crashed`);
    if (summary.child_failures) report.failures.push(`${name}: ${summary.child_failures} children exited with an error`);
    // A sanitizer slows the batch worker (already at nice +10) several times: on a busy
    // machine its attempts then outlive their timeout. Only the plain soak holds it to this.
    if (entry.steady_up.failed && label === 'plain')
      report.failures.push(`${name}: ${entry.steady_up.failed} spans failed to export while the backend was steadily up`);
    if (entry.sanitizer_reports) report.failures.push(`${name}: ${entry.sanitizer_reports} sanitizer reports`);
  }
  if (report.services.http && report.services.grpc) {
    report.postgresql = storeState(report, 'pg', process.env.SOAK_PG_NOTE);
    report.redis = storeState(report, 'redis', process.env.SOAK_REDIS_NOTE);
  }
  report.ok = report.failures.length === 0;
  fs.writeFileSync(path.join(outDir, 'report.json'), JSON.stringify(report, null, 2) + '\n');
  if (report.services.http && report.services.grpc) fs.writeFileSync(path.join(outDir, 'report.md'), markdown(report));
  process.stdout.write(`soak ${label}: ${report.ok ? 'pass' : 'FAIL: ' + report.failures.join('; ')}\n`);
  process.exit(report.ok ? 0 : 1);
}

main();
