// otlp_fault_server.js - a scriptable OTLP receiver for fault-injection tests.
//
// Serves OTLP/HTTP (HTTP/1.1) and OTLP/gRPC (cleartext HTTP/2, prior
// knowledge) on ephemeral ports of 127.0.0.1 and prints them as the first
// line of stdout: {"http":PORT,"grpc":PORT}.
//
// The test drives it through stdin, one JSON command per line, and reads one
// line of answer per command:
//   {"cmd":"script","responses":[R,...]}  queue answers for the next requests
//   {"cmd":"default","response":R}        answer once the queue is empty
//   {"cmd":"count"}                       number of requests received
//   {"cmd":"get","i":N}                   what request N carried (JSON)
//   {"cmd":"reset"}                       forget requests, queue, default and counters
//   {"cmd":"connections"}                 gRPC connections accepted since the reset
//   {"cmd":"refused"}                     gRPC requests refused (see refuse) since then
//   {"cmd":"grpc_stop"}                   close the gRPC listener and its connections
//   {"cmd":"grpc_start"}                  listen again, on the same port
// An answer R may hold: status (HTTP), headers, retry_after, grpc_status,
// grpc_message, retry_delay_ms (gRPC RetryInfo), trailers_only,
// partial:{rejected,message}, delay_ms (answer late), hang (never answer),
// reset (drop the connection); for gRPC also goaway (answer, then GOAWAY
// with this stream as the last one), refuse (GOAWAY naming the stream
// before this one as the last, and RST_STREAM(REFUSED_STREAM): the request
// is not recorded, only counted), rst:CODE (RST_STREAM with that HTTP/2
// error code once the request has arrived) and early (answer as soon as the
// request's headers arrive, before its body; recorded with "early":true).
// A gRPC request's record carries "conn", the index of its connection.
// Answers are taken in the order requests start (gRPC) or end (HTTP).
// Closing stdin stops the server.
//
// The chaos soak (tests/soak/soak.sh) runs the server on its own schedule:
//   {"cmd":"cycle","phase_file":F,"phases":[P,...]}  repeat the phases in order
//   {"cmd":"phase","phase":P}                         hold one phase from now on
//   {"cmd":"soak"}                                    what the soak measured (JSON)
// A phase P is {name, ms, http:R, grpc:R, down}: while it lasts every HTTP and
// gRPC request gets its R (the script and default wait), "down" closes both
// listeners and their connections (connection refused), and its name is
// written to F as it starts. R may also hold reset_mid_body: the connection is
// dropped as the request body starts to arrive. The soak's figures: for each
// service.name, the spans accepted (answered with success; of a partial
// success the request's last span is the rejected one), deduplicated by span
// id, and how many arrived more than once (spans named "forked-child", which
// fork children of the service send, under "<service.name>/forked-child"); for
// each phase run, its requests by protocol and, for each service.name, the
// time from its start to the first span accepted (the recovery time after a
// fault). A third listener, "app" on the first line, answers every request
// at once with 200: the soak's service calls it as its downstream.
'use strict';

const http = require('http');
const http2 = require('http2');
const zlib = require('zlib');
const readline = require('readline');

const start = process.hrtime.bigint();
let requests = [];
let script = [];
let fallback = {};
let connections = 0;
let refused = 0;
const hanging = [];
const sessions = new Set();
const httpSockets = new Set();
let phase = null; // the soak's current phase, which overrides script and default
let cycleTimer = null;
const phaseRuns = [];
const services = new Map(); // service.name -> {accepted: Set of span ids, repeated}

function nowMs() {
  return Number((process.hrtime.bigint() - start) / 1000000n);
}

function nextAnswer(kind) {
  if (phase) return phase[kind] || {};
  return script.length ? script.shift() : fallback;
}

// ---- Protobuf bits ---------------------------------------------------------

function varint(n) {
  const out = [];
  let v = BigInt(n);
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v) b |= 0x80;
    out.push(b);
  } while (v);
  return Buffer.from(out);
}

function field(num, wire, payload) {
  const key = varint((num << 3) | wire);
  if (wire === 0) return Buffer.concat([key, varint(payload)]);
  const body = Buffer.isBuffer(payload) ? payload : Buffer.from(payload);
  return Buffer.concat([key, varint(body.length), body]);
}

// ExportTraceServiceResponse { partial_success { rejected_spans, error_message } }
function partialProto(p) {
  const inner = Buffer.concat([field(1, 0, p.rejected), field(2, 2, p.message || '')]);
  return field(1, 2, inner);
}

function partialJson(p) {
  return JSON.stringify({
    partialSuccess: { rejectedSpans: String(p.rejected), errorMessage: p.message || '' },
  });
}

// google.rpc.Status { code, message, details: [Any(RetryInfo { retry_delay })] }
function statusDetails(code, message, delayMs) {
  const duration = Buffer.concat([
    field(1, 0, Math.floor(delayMs / 1000)),
    field(2, 0, (delayMs % 1000) * 1000000),
  ]);
  const retryInfo = field(1, 2, duration);
  const any = Buffer.concat([
    field(1, 2, 'type.googleapis.com/google.rpc.RetryInfo'),
    field(2, 2, retryInfo),
  ]);
  const st = Buffer.concat([field(1, 0, code), field(2, 2, message || ''), field(3, 2, any)]);
  return st.toString('base64').replace(/=+$/, ''); // gRPC peers may omit padding
}

// Each field of a protobuf message: fn(number, wire type, value: Buffer or BigInt).
function eachField(buf, fn) {
  let i = 0;
  const readVarint = () => {
    let v = 0n;
    for (let shift = 0n; i < buf.length; shift += 7n) {
      const b = buf[i++];
      v |= BigInt(b & 0x7f) << shift;
      if (!(b & 0x80)) return v;
    }
    throw new Error('truncated varint');
  };
  while (i < buf.length) {
    const key = Number(readVarint());
    const wire = key & 7;
    if (wire === 0) fn(key >> 3, wire, readVarint());
    else if (wire === 1 || wire === 5) i += wire === 1 ? 8 : 4;
    else if (wire === 2) {
      const len = Number(readVarint());
      fn(key >> 3, wire, buf.subarray(i, i + len));
      i += len;
    } else throw new Error('bad wire type');
  }
}

// [{service, ids}] of an ExportTraceServiceRequest, one entry per ResourceSpans.
function spanIds(body) {
  const out = [];
  eachField(body, (n, w, rs) => {
    if (n !== 1 || w !== 2) return;
    const entry = { service: '', ids: [], forked: [] };
    eachField(rs, (rn, rw, v) => {
      if (rn === 1 && rw === 2) {
        eachField(v, (an, aw, kv) => {
          if (an !== 1 || aw !== 2) return;
          let key = '';
          let value = '';
          eachField(kv, (kn, kw, kvv) => {
            if (kn === 1) key = kvv.toString();
            if (kn === 2) eachField(kvv, (vn, vw, s) => vn === 1 && vw === 2 && (value = s.toString()));
          });
          if (key === 'service.name') entry.service = value;
        });
      } else if (rn === 2 && rw === 2) {
        eachField(v, (sn, sw, span) => {
          if (sn !== 2 || sw !== 2) return;
          let id = '';
          let name = '';
          eachField(span, (fn, fw, v) => {
            if (fn === 2 && fw === 2) id = v.toString('hex');
            if (fn === 5 && fw === 2) name = v.toString();
          });
          (name === 'forked-child' ? entry.forked : entry.ids).push(id);
        });
      }
    });
    out.push(entry);
  });
  return out;
}

// Count the spans of a request answered with success (the last one rejected when partial).
function accept(body, partial) {
  let groups;
  try {
    groups = spanIds(body);
  } catch (e) {
    return;
  }
  if (partial && groups.length) groups[groups.length - 1].ids.pop();
  const add = (service, ids) => {
    if (!services.has(service)) services.set(service, { accepted: new Set(), repeated: 0 });
    const s = services.get(service);
    for (const id of ids) {
      if (s.accepted.has(id)) s.repeated++;
      else s.accepted.add(id);
    }
  };
  const run = phaseRuns[phaseRuns.length - 1];
  for (const g of groups) {
    if (run && g.ids.length && !(g.service in run.first_ok_ms)) run.first_ok_ms[g.service] = nowMs() - run.start_ms;
    add(g.service, g.ids);
    if (g.forked.length) add(g.service + '/forked-child', g.forked);
  }
}

function phaseAnswered(kind) {
  const run = phaseRuns[phaseRuns.length - 1];
  if (run) run.requests[kind]++;
}

// ---- Recording ---------------------------------------------------------------

function decodeBody(raw, gzip) {
  if (!gzip) return { ok: true, body: raw };
  try {
    return { ok: true, body: zlib.gunzipSync(raw) };
  } catch (e) {
    return { ok: false, body: Buffer.alloc(0) };
  }
}

function record(kind, path, headers, raw, port, version) {
  const rec = { i: requests.length, kind, path, headers, len: raw.length, t: nowMs(), port, version };
  let payload = raw;
  let gzip = headers['content-encoding'] === 'gzip';
  if (kind === 'grpc') {
    rec.frame_ok = raw.length >= 5 && raw.readUInt32BE(1) === raw.length - 5;
    rec.frame_flag = raw.length ? raw[0] : -1;
    payload = raw.subarray(5);
    gzip = rec.frame_flag === 1;
  }
  const d = decodeBody(payload, gzip);
  Object.defineProperty(rec, 'body', { value: d.body, enumerable: false }); // not in "get"
  rec.gzip_ok = d.ok;
  rec.decoded_len = d.body.length;
  rec.text = d.body.subarray(0, 8192).toString('latin1');
  // The soak sends for hours: it keeps counts, not requests.
  if (!phase) requests.push(rec);
  return rec;
}

function collect(stream, done) {
  const chunks = [];
  stream.on('data', (c) => chunks.push(c));
  stream.on('end', () => done(Buffer.concat(chunks)));
}

function later(ms, fn) {
  if (ms) setTimeout(fn, ms);
  else fn();
}

// ---- OTLP/HTTP -------------------------------------------------------------------

function answerHttp(req, res, a, rec) {
  if (phase) phaseAnswered('http');
  if (a.hang) return hanging.push(res);
  if (a.reset) return req.socket.destroy();
  if (phase && (a.status || 200) === 200) accept(rec.body, a.partial);
  const headers = Object.assign({}, a.headers || {});
  if (a.retry_after !== undefined) headers['retry-after'] = String(a.retry_after);
  const json = (req.headers['content-type'] || '').includes('json');
  let body = Buffer.alloc(0);
  if (a.partial) body = json ? Buffer.from(partialJson(a.partial)) : partialProto(a.partial);
  headers['content-type'] = json ? 'application/json' : 'application/x-protobuf';
  res.writeHead(a.status || 200, headers);
  res.end(body);
}

function resetMidBody(stream, destroy) {
  stream.once('data', () => {
    phaseAnswered(stream.kind);
    destroy();
  });
}

const httpServer = http.createServer((req, res) => {
  if (phase && phase.http && phase.http.reset_mid_body) {
    req.kind = 'http';
    return resetMidBody(req, () => req.socket.destroy());
  }
  collect(req, (raw) => {
    const rec = record('http', req.url, req.headers, raw, req.socket.remotePort, req.httpVersion);
    const a = nextAnswer('http');
    later(a.delay_ms, () => answerHttp(req, res, a, rec));
  });
});
httpServer.keepAliveTimeout = 60000;
httpServer.on('connection', (socket) => {
  httpSockets.add(socket);
  socket.on('close', () => httpSockets.delete(socket));
});

const appServer = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => res.end('ok'));
});

// ---- OTLP/gRPC -------------------------------------------------------------------

function answerGrpc(stream, a, rec) {
  if (phase) phaseAnswered('grpc');
  if (a.hang) return hanging.push(stream);
  if (a.reset) return stream.session.destroy();
  const code = a.grpc_status || 0;
  if (phase && !code && rec) accept(rec.body, a.partial);
  const status = { 'grpc-status': String(code) };
  if (a.grpc_message) status['grpc-message'] = encodeURIComponent(a.grpc_message);
  if (a.retry_delay_ms !== undefined)
    status['grpc-status-details-bin'] = statusDetails(code, a.grpc_message, a.retry_delay_ms);
  const head = { ':status': a.status || 200, 'content-type': 'application/grpc' };
  if (a.trailers_only) {
    stream.respond(Object.assign(head, status), { endStream: true });
    return;
  }
  stream.respond(head, { waitForTrailers: true });
  stream.on('wantTrailers', () => stream.sendTrailers(status));
  let msg = Buffer.alloc(0);
  if (code === 0) {
    msg = a.partial ? partialProto(a.partial) : Buffer.alloc(0);
    const h = Buffer.alloc(5);
    h.writeUInt32BE(msg.length, 1);
    msg = Buffer.concat([h, msg]);
  }
  stream.end(msg);
}

const grpcServer = http2.createServer();
grpcServer.on('session', (session) => {
  session.index = connections++;
  sessions.add(session);
  session.on('close', () => sessions.delete(session));
  session.on('error', () => {});
});
function grpcRecord(stream, headers, raw, extra) {
  const plain = {};
  for (const k of Object.keys(headers)) plain[k] = String(headers[k]);
  // A stream can end after its connection has gone (the client closed it mid-request).
  const session = stream.session;
  const port = session && session.socket ? session.socket.remotePort : -1;
  const rec = record('grpc', headers[':path'], plain, raw, port, '2.0');
  rec.conn = session ? session.index : -1;
  Object.assign(rec, extra || {});
  return rec;
}
grpcServer.on('stream', (stream, headers) => {
  stream.on('error', () => {});
  const a = nextAnswer('grpc');
  if (a.reset_mid_body) {
    stream.kind = 'grpc';
    return resetMidBody(stream, () => stream.session && stream.session.destroy());
  }
  if (a.refuse) {
    // The server takes no stream from this one on: the client must send it elsewhere.
    refused++;
    stream.session.goaway(http2.constants.NGHTTP2_NO_ERROR, stream.id - 2);
    stream.close(http2.constants.NGHTTP2_REFUSED_STREAM);
    return;
  }
  if (a.early) {
    grpcRecord(stream, headers, Buffer.alloc(0), { early: true });
    answerGrpc(stream, a);
    return;
  }
  collect(stream, (raw) => {
    const rec = grpcRecord(stream, headers, raw);
    if (a.rst !== undefined) return stream.close(a.rst);
    later(a.delay_ms, () => {
      if (stream.destroyed || !stream.session) return;
      answerGrpc(stream, a, rec);
      if (a.goaway) stream.session.goaway(http2.constants.NGHTTP2_NO_ERROR, stream.id);
    });
  });
});
grpcServer.on('sessionError', () => {});
let grpcPort = 0;

function grpcStop() {
  return new Promise((resolve) => {
    grpcServer.close(() => resolve('ok'));
    for (const session of sessions) session.destroy();
  });
}

function grpcStart() {
  return new Promise((resolve) => grpcServer.listen(grpcPort, '127.0.0.1', () => resolve('ok')));
}

// ---- The soak's phases -------------------------------------------------------------

let httpPort = 0;

function httpStop() {
  return new Promise((resolve) => {
    httpServer.close(() => resolve('ok'));
    for (const socket of httpSockets) socket.destroy();
  });
}

function httpStart() {
  return new Promise((resolve) => httpServer.listen(httpPort, '127.0.0.1', () => resolve('ok')));
}

async function enterPhase(next, phaseFile) {
  const wasDown = phase && phase.down;
  phase = next;
  // Hung requests of the previous phase stay hung: the client's timeout ends them.
  if (next.down && !wasDown) await Promise.all([httpStop(), grpcStop()]);
  if (!next.down && wasDown) await Promise.all([httpStart(), grpcStart()]);
  phaseRuns.push({
    name: next.name,
    start_ms: nowMs(),
    requests: { http: 0, grpc: 0 },
    first_ok_ms: {}, // service.name -> ms from the start to its first span accepted
  });
  if (phaseFile) require('fs').writeFileSync(phaseFile, next.name + '\n');
}

function startCycle(phases, phaseFile) {
  let i = 0;
  const step = async () => {
    const p = phases[i++ % phases.length];
    await enterPhase(p, phaseFile);
    cycleTimer = setTimeout(step, p.ms);
  };
  clearTimeout(cycleTimer);
  step();
  return 'ok';
}

function soakFigures() {
  const out = { services: {}, phases: phaseRuns };
  for (const [name, s] of services) out.services[name] = { accepted: s.accepted.size, repeated: s.repeated };
  return JSON.stringify(out);
}

// ---- Control ---------------------------------------------------------------------

function command(line) {
  let c;
  try {
    c = JSON.parse(line);
  } catch (e) {
    return 'error: bad json';
  }
  switch (c.cmd) {
    case 'script':
      script = script.concat(c.responses || []);
      return 'ok';
    case 'default':
      fallback = c.response || {};
      return 'ok';
    case 'count':
      return String(requests.length);
    case 'get':
      return JSON.stringify(requests[c.i] || null);
    case 'reset':
      requests = [];
      script = [];
      fallback = {};
      connections = 0;
      refused = 0;
      return 'ok';
    case 'connections':
      return String(connections);
    case 'refused':
      return String(refused);
    case 'grpc_stop':
      return grpcStop();
    case 'grpc_start':
      return grpcStart();
    case 'cycle':
      return startCycle(c.phases || [], c.phase_file);
    case 'phase':
      clearTimeout(cycleTimer);
      return enterPhase(c.phase || {}, c.phase_file).then(() => 'ok');
    case 'soak':
      return soakFigures();
    default:
      return 'error: unknown command';
  }
}

let listening = 0;
function ready() {
  if (++listening < 3) return;
  grpcPort = grpcServer.address().port;
  httpPort = httpServer.address().port;
  const ports = { http: httpPort, grpc: grpcPort, app: appServer.address().port };
  process.stdout.write(JSON.stringify(ports) + '\n');
  const rl = readline.createInterface({ input: process.stdin });
  // One command at a time: the tests wait for each answer before the next.
  rl.on('line', async (line) => process.stdout.write((await command(line)) + '\n'));
  rl.on('close', () => process.exit(0));
}
httpServer.listen(0, '127.0.0.1', ready);
grpcServer.listen(0, '127.0.0.1', ready);
appServer.listen(0, '127.0.0.1', ready);
