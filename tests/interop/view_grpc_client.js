// view_grpc_client.js - the official JS gRPC client (@grpc/grpc-js) calls
// otelc view's gRPC server, a second HTTP/2 and gRPC stack besides libcurl.
// tests/unit/test_view_grpc_server.c starts the server, scripts its answers
// and runs this; the bodies are raw protobuf bytes (no codegen needed).
//
//   node view_grpc_client.js PORT
//
// Prints "ok" when every answer is what the C test scripted; otherwise the
// first difference, and exits 1.
'use strict';
const grpc = require('@grpc/grpc-js');

const port = process.argv[2];
const path = '/opentelemetry.proto.collector.trace.v1.TraceService/Export';
const target = `127.0.0.1:${port}`;
const plain = new grpc.Client(target, grpc.credentials.createInsecure());
const gzip = new grpc.Client(target, grpc.credentials.createInsecure(),
                             {'grpc.default_compression_algorithm': 2}); // gzip
const bytes = b => b;

function call(client, body) {
  return new Promise(resolve => client.makeUnaryRequest(
      path, bytes, bytes, body, new grpc.Metadata(), {deadline: Date.now() + 10000},
      (err, resp) => resolve({err, resp})));
}

function fail(what) {
  console.log(`view_grpc_client: ${what}`);
  process.exit(1);
}

function expectOk(r, want, what) {
  if (r.err) fail(`${what}: ${r.err.code} ${r.err.details}`);
  if (!r.resp.equals(want)) fail(`${what}: answer ${r.resp.toString('hex')}`);
}

(async () => {
  // 1: ExportTraceServiceRequest { resource_spans {} }, echoed back by the handler.
  const empty = Buffer.from([0x0a, 0x00]);
  expectOk(await call(plain, empty), empty, 'plain call');
  // 2: a gzip-compressed message (the handler sees it inflated and echoes it).
  const big = Buffer.alloc(3000, 0x61);
  expectOk(await call(gzip, big), big, 'gzip call');
  // 3: UNAVAILABLE with a percent-encoded message and a RetryInfo in the status details.
  let r = await call(plain, empty);
  if (!r.err || r.err.code !== grpc.status.UNAVAILABLE || r.err.details !== 'busy \u00e9')
    fail(`UNAVAILABLE expected, got ${r.err ? r.err.code + ' ' + r.err.details : 'success'}`);
  const details = r.err.metadata.get('grpc-status-details-bin');
  // google.rpc.Status starts with code (field 1, varint) 14 and holds the RetryInfo's type URL.
  if (details.length !== 1 || !Buffer.isBuffer(details[0]) || details[0][0] !== 0x08 ||
      details[0][1] !== 14 || !details[0].includes('type.googleapis.com/google.rpc.RetryInfo'))
    fail(`grpc-status-details-bin: ${JSON.stringify(details)}`);
  // 4: INVALID_ARGUMENT.
  r = await call(plain, empty);
  if (!r.err || r.err.code !== grpc.status.INVALID_ARGUMENT || r.err.details !== 'bad')
    fail(`INVALID_ARGUMENT expected, got ${r.err ? r.err.code : 'success'}`);
  // A message over the server's 4 MiB default: refused from its prefix while grpc-js is still
  // sending it, then RST_STREAM(NO_ERROR), which must not cost grpc-js the answer.
  r = await call(plain, Buffer.alloc(5 << 20, 0x62));
  if (!r.err || r.err.code !== grpc.status.RESOURCE_EXHAUSTED)
    fail(`RESOURCE_EXHAUSTED expected, got ${r.err ? r.err.code + ' ' + r.err.details : 'success'}`);
  // 5..24: concurrent calls on the plain channel's one connection, each answered with its own bytes.
  const many = await Promise.all(
      Array.from({length: 20}, (_, i) => call(plain, Buffer.from([0x0a, 0x01, i]))));
  many.forEach((m, i) => expectOk(m, Buffer.from([0x0a, 0x01, i]), `concurrent call ${i}`));
  plain.close();
  gzip.close();
  console.log('ok');
})().catch(e => fail(e.stack));
