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

function nowMs() {
  return Number((process.hrtime.bigint() - start) / 1000000n);
}

function nextAnswer() {
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
  rec.gzip_ok = d.ok;
  rec.decoded_len = d.body.length;
  rec.text = d.body.subarray(0, 8192).toString('latin1');
  requests.push(rec);
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

function answerHttp(req, res, a) {
  if (a.hang) return hanging.push(res);
  if (a.reset) return req.socket.destroy();
  const headers = Object.assign({}, a.headers || {});
  if (a.retry_after !== undefined) headers['retry-after'] = String(a.retry_after);
  const json = (req.headers['content-type'] || '').includes('json');
  let body = Buffer.alloc(0);
  if (a.partial) body = json ? Buffer.from(partialJson(a.partial)) : partialProto(a.partial);
  headers['content-type'] = json ? 'application/json' : 'application/x-protobuf';
  res.writeHead(a.status || 200, headers);
  res.end(body);
}

const httpServer = http.createServer((req, res) => {
  collect(req, (raw) => {
    record('http', req.url, req.headers, raw, req.socket.remotePort, req.httpVersion);
    const a = nextAnswer();
    later(a.delay_ms, () => answerHttp(req, res, a));
  });
});
httpServer.keepAliveTimeout = 60000;

// ---- OTLP/gRPC -------------------------------------------------------------------

function answerGrpc(stream, a) {
  if (a.hang) return hanging.push(stream);
  if (a.reset) return stream.session.destroy();
  const code = a.grpc_status || 0;
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
}
grpcServer.on('stream', (stream, headers) => {
  stream.on('error', () => {});
  const a = nextAnswer();
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
    grpcRecord(stream, headers, raw);
    if (a.rst !== undefined) return stream.close(a.rst);
    later(a.delay_ms, () => {
      if (stream.destroyed || !stream.session) return;
      answerGrpc(stream, a);
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
    default:
      return 'error: unknown command';
  }
}

let listening = 0;
function ready() {
  if (++listening < 2) return;
  grpcPort = grpcServer.address().port;
  const ports = { http: httpServer.address().port, grpc: grpcPort };
  process.stdout.write(JSON.stringify(ports) + '\n');
  const rl = readline.createInterface({ input: process.stdin });
  // One command at a time: the tests wait for each answer before the next.
  rl.on('line', async (line) => process.stdout.write((await command(line)) + '\n'));
  rl.on('close', () => process.exit(0));
}
httpServer.listen(0, '127.0.0.1', ready);
grpcServer.listen(0, '127.0.0.1', ready);
