'use strict';
/*
 * One interop run: start a receiver on 127.0.0.1 (ephemeral port), run the C
 * driver against it, then compare every received field with what the
 * driver says it created.
 *
 *   node check.js --driver PATH --protocol http/protobuf|http/json|grpc|zipkin [--gzip] [--simple]
 *
 * --simple has the driver export each span as it ends (one request each).
 *
 * Exits 0 when everything matched, 1 with one line per difference
 * otherwise. The whole run is bounded (--timeout-ms, default 20000): a
 * hung exporter fails the test instead of hanging CTest.
 */

const fs = require('fs');
const http = require('http');
const os = require('os');
const path = require('path');
const zlib = require('zlib');
const { spawn } = require('child_process');

const otlp = require('./lib/otlp');
const zipkin = require('./lib/zipkin');

// A custom header the driver configures, percent-encoded as
// OTEL_EXPORTER_OTLP_HEADERS values are; the receiver must see it decoded.
const HEADER_NAME = 'x-interop-token';
const HEADER_OPTION = 'x-interop-token=s3cr%3Dt%20ok';
const HEADER_VALUE = 's3cr=t ok';
// The User-Agent in the form the OTLP exporter spec gives as its example
// (OTel-OTLP-Exporter-Python/1.2.3), which our exporter follows.
const USER_AGENT = /^OTel-OTLP-Exporter-C\/\d+\.\d+\.\d+(\S*)( |$)/;
let requestCount = 0;

function parseArgs(argv) {
  const a = { gzip: false, simple: false, timeoutMs: 20000 };
  for (let i = 0; i < argv.length; i++) {
    switch (argv[i]) {
      case '--driver': a.driver = argv[++i]; break;
      case '--protocol': a.protocol = argv[++i]; break;
      case '--gzip': a.gzip = true; break;
      case '--simple': a.simple = true; break;
      case '--timeout-ms': a.timeoutMs = Number(argv[++i]); break;
      default: throw new Error(`unknown argument ${argv[i]}`);
    }
  }
  if (!a.driver || !['http/protobuf', 'http/json', 'grpc', 'zipkin'].includes(a.protocol)) {
    throw new Error('usage: check.js --driver PATH --protocol http/protobuf|http/json|grpc|zipkin [--gzip] [--simple]');
  }
  return a;
}

const args = parseArgs(process.argv.slice(2));
const label = `interop ${args.protocol}${args.gzip ? '+gzip' : ''}${args.simple ? '+simple' : ''}`;
const problems = []; // transport-level findings, filled while receiving
const bodies = [];   // decoded request payloads, in arrival order

function fail(lines) {
  for (const l of lines) process.stderr.write(`${label}: ${l}\n`);
  process.stderr.write(`${label}: FAILED (${lines.length} problem${lines.length === 1 ? '' : 's'})\n`);
  process.exit(1);
}

/* ---- HTTP receivers (OTLP/HTTP protobuf and JSON, Zipkin JSON) ----------------- */

const HTTP_PATHS = { 'http/protobuf': '/v1/traces', 'http/json': '/v1/traces', zipkin: '/api/v2/spans' };
const CONTENT_TYPES = {
  'http/protobuf': 'application/x-protobuf', 'http/json': 'application/json', zipkin: 'application/json',
};

function handleHttp(req, res) {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const where = `request #${++requestCount}`;
    const bad = (msg) => {
      problems.push(`${where}: ${msg}`);
      res.writeHead(400, { 'content-type': 'text/plain' });
      res.end(msg);
    };
    if (req.method !== 'POST') return bad(`method ${req.method}, expected POST`);
    if (req.url !== HTTP_PATHS[args.protocol]) return bad(`path ${req.url}, expected ${HTTP_PATHS[args.protocol]}`);
    const ctype = (req.headers['content-type'] || '').split(';')[0].trim();
    if (ctype !== CONTENT_TYPES[args.protocol]) {
      return bad(`Content-Type ${JSON.stringify(req.headers['content-type'])}, expected ${CONTENT_TYPES[args.protocol]}`);
    }
    if (args.protocol !== 'zipkin') {
      if (req.headers[HEADER_NAME] !== HEADER_VALUE) {
        return bad(`header ${HEADER_NAME} ${JSON.stringify(req.headers[HEADER_NAME])}, expected ${JSON.stringify(HEADER_VALUE)}`);
      }
      if (!USER_AGENT.test(req.headers['user-agent'] || '')) {
        return bad(`User-Agent ${JSON.stringify(req.headers['user-agent'])}, expected OTel-OTLP-Exporter-C/<version>`);
      }
    }
    let body = Buffer.concat(chunks);
    const enc = req.headers['content-encoding'];
    if (args.gzip) {
      if (enc !== 'gzip') return bad(`Content-Encoding ${JSON.stringify(enc)}, expected "gzip"`);
      try {
        body = zlib.gunzipSync(body);
      } catch (e) {
        return bad(`gzip body does not inflate: ${e.message}`);
      }
    } else if (enc !== undefined && enc !== 'identity') {
      return bad(`Content-Encoding ${JSON.stringify(enc)} without compression configured`);
    }
    try {
      if (args.protocol === 'http/protobuf') bodies.push(otlp.decodeProtobuf(body));
      else if (args.protocol === 'http/json') bodies.push(otlp.decodeJson(body));
      else bodies.push(zipkin.parseBody(body));
    } catch (e) {
      return bad(e.message);
    }
    if (args.protocol === 'http/protobuf') {
      res.writeHead(200, { 'content-type': 'application/x-protobuf' });
      res.end(otlp.encodeResponse());
    } else if (args.protocol === 'http/json') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    } else {
      res.writeHead(202);
      res.end();
    }
    return undefined;
  });
}

function startHttp() {
  return new Promise((resolve, reject) => {
    const server = http.createServer(handleHttp);
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      resolve({ url: `http://127.0.0.1:${port}${HTTP_PATHS[args.protocol]}`, close: () => server.close() });
    });
  });
}

/* ---- OTLP/gRPC receiver ------------------------------------------------------------ */

/*
 * grpc-js decompresses messages before the handler runs and strips
 * grpc-encoding from the metadata it shows, so whether a message really
 * arrived compressed is only visible inside it: record the encoding each
 * incoming message is decompressed with (per message: "identity" when its
 * compressed flag is 0). The package is pinned to an exact version, and a
 * missing hook point fails loudly rather than silently checking nothing.
 */
const messageEncodings = [];
function recordMessageEncodings() {
  const { BaseServerInterceptingCall } = require('@grpc/grpc-js/build/src/server-interceptors');
  const original = BaseServerInterceptingCall && BaseServerInterceptingCall.prototype.decompressMessage;
  if (typeof original !== 'function') throw new Error('@grpc/grpc-js has no decompressMessage to observe');
  BaseServerInterceptingCall.prototype.decompressMessage = function observe(message, encoding) {
    messageEncodings.push(encoding);
    return original.call(this, message, encoding);
  };
}

function startGrpc() {
  const grpc = require('@grpc/grpc-js');
  recordMessageEncodings();
  const definition = {
    Export: {
      path: '/opentelemetry.proto.collector.trace.v1.TraceService/Export',
      requestStream: false,
      responseStream: false,
      // Decode with the generated root; a decoding failure is kept and
      // reported by the handler rather than lost inside grpc-js.
      requestDeserialize: (buf) => {
        try {
          return { msg: otlp.ExportTraceServiceRequest.decode(buf) };
        } catch (e) {
          return { error: e };
        }
      },
      requestSerialize: (m) => Buffer.from(otlp.ExportTraceServiceRequest.encode(m).finish()),
      responseSerialize: (m) => Buffer.from(otlp.ExportTraceServiceResponse.encode(m).finish()),
      responseDeserialize: (buf) => otlp.ExportTraceServiceResponse.decode(buf),
    },
  };
  const server = new grpc.Server();
  server.addService(definition, {
    Export: (call, callback) => {
      const where = `call #${++requestCount}`;
      const md = call.metadata.getMap();
      const reject = (msg) => {
        problems.push(`${where}: ${msg}`);
        callback({ code: grpc.status.INVALID_ARGUMENT, details: msg });
      };
      if (md[HEADER_NAME] !== HEADER_VALUE) {
        return reject(`metadata ${HEADER_NAME} ${JSON.stringify(md[HEADER_NAME])}, expected ${JSON.stringify(HEADER_VALUE)}`);
      }
      if (!USER_AGENT.test(md['user-agent'] || '')) {
        return reject(`user-agent ${JSON.stringify(md['user-agent'])}, expected OTel-OTLP-Exporter-C/<version>`);
      }
      const ctype = md['content-type'];
      if (ctype !== undefined && !/^application\/grpc(\+proto)?$/.test(ctype)) {
        return reject(`content-type ${JSON.stringify(ctype)}, expected application/grpc`);
      }
      const enc = messageEncodings.shift();
      const want = args.gzip ? 'gzip' : 'identity';
      if (enc !== want) return reject(`message arrived with encoding ${JSON.stringify(enc)}, expected ${JSON.stringify(want)}`);
      if (call.request.error) return reject(`request does not decode: ${call.request.error.message}`);
      bodies.push(otlp.decodedToPlain(call.request.msg));
      return callback(null, otlp.ExportTraceServiceResponse.create({}));
    },
  });
  return new Promise((resolve, reject) => {
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, port) => {
      if (err) return reject(err);
      return resolve({ url: `http://127.0.0.1:${port}`, close: () => server.forceShutdown() });
    });
  });
}

/* ---- Run ---------------------------------------------------------------------------- */

function runDriver(url, expectFile) {
  const argv = ['--protocol', args.protocol, '--endpoint', url, '--expect', expectFile];
  if (args.gzip) argv.push('--gzip');
  if (args.simple) argv.push('--simple');
  if (args.protocol !== 'zipkin') argv.push('--headers', HEADER_OPTION);
  return new Promise((resolve) => {
    const child = spawn(args.driver, argv, { stdio: ['ignore', 'inherit', 'inherit'] });
    const timer = setTimeout(() => {
      problems.push(`driver still running after ${args.timeoutMs} ms, killed`);
      child.kill('SIGKILL');
    }, args.timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      resolve(`driver could not start: ${e.message}`);
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (signal) resolve(`driver killed by ${signal}`);
      else resolve(code === 0 ? null : `driver exited with status ${code}`);
    });
  });
}

async function main() {
  const server = args.protocol === 'grpc' ? await startGrpc() : await startHttp();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'otelc-interop-'));
  const expectFile = path.join(dir, 'expected.json');
  let driverError;
  try {
    driverError = await runDriver(server.url, expectFile);
  } finally {
    server.close();
  }
  const lines = [...problems];
  if (driverError) lines.push(driverError);
  let expectation;
  try {
    expectation = JSON.parse(fs.readFileSync(expectFile, 'utf8'));
  } catch (e) {
    lines.push(`no expectation from the driver: ${e.message}`);
  }
  fs.rmSync(dir, { recursive: true, force: true });
  if (expectation) {
    if (bodies.length === 0) lines.push('no request received');
    let found;
    try {
      if (args.protocol === 'zipkin') {
        found = zipkin.compare(expectation, bodies);
      } else {
        const got = [];
        bodies.forEach((b, i) => got.push(...otlp.canonRequest(b, `request #${i + 1}`)));
        found = otlp.compareSpans(otlp.expandExpectation(expectation), got);
      }
    } catch (e) {
      found = [e.message];
    }
    lines.push(...found);
  }
  if (lines.length) fail(lines);
  const spans = expectation.spans.length;
  process.stdout.write(`${label}: ${spans} spans in ${bodies.length} request(s), every field matched\n`);
  // Servers are closed; exit now rather than wait for idle keep-alive sockets.
  process.exit(0);
}

// A last guard for anything the per-step timers miss.
setTimeout(() => fail([`no verdict within ${args.timeoutMs + 5000} ms`]), args.timeoutMs + 5000).unref();
main().catch((e) => fail([e.stack || String(e)]));
