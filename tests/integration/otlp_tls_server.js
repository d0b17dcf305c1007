// otlp_tls_server.js - an OTLP receiver over TLS for otlp_tls.sh.
//
// usage: node otlp_tls_server.js CERT_DIR RECORD_FILE
//
// CERT_DIR holds ca.pem, server.pem and server.key. Three listeners on
// ephemeral ports of 127.0.0.1, printed as the first line of stdout:
// {"https":PORT,"mtls":PORT,"grpc":PORT,"grpc_mtls":PORT,"proxy":PORT}
//   https  OTLP/HTTP over TLS (HTTP/1.1), no client certificate asked for
//   mtls   the same, but a client certificate signed by ca.pem is required
//   grpc   OTLP/gRPC over TLS (HTTP/2, ALPN h2 only)
//   grpc_mtls  the same, but a client certificate signed by ca.pem is required
//   proxy  an HTTP proxy for CONNECT tunnels only (no TLS of its own)
// Every request is appended to RECORD_FILE as one JSON line *before* it is
// answered, so once the exporter has its answer the record is on disk:
//   {"listener","method","path","contentType","length","body" (base64),
//    "peer" (client certificate CN or null)}
// Handshakes the server refused are appended too, as {"listener","tlsError"}.
// Uses node's built-in modules only. SIGTERM stops it, and so does the end
// of the process that started it.
'use strict';

const fs = require('fs');
const path = require('path');
const http = require('http');
const https = require('https');
const net = require('net');
const http2 = require('http2');

const [dir, recordFile] = process.argv.slice(2);
if (!dir || !recordFile) {
  process.stderr.write('usage: node otlp_tls_server.js CERT_DIR RECORD_FILE\n');
  process.exit(2);
}
const read = (f) => fs.readFileSync(path.join(dir, f));
const tls = { key: read('server.key'), cert: read('server.pem') };

function record(entry) {
  fs.appendFileSync(recordFile, JSON.stringify(entry) + '\n');
}

function peerName(socket) {
  const c = socket && socket.getPeerCertificate ? socket.getPeerCertificate() : null;
  return c && c.subject ? c.subject.CN || null : null;
}

function collect(stream, done) {
  const chunks = [];
  stream.on('data', (c) => chunks.push(c));
  stream.on('end', () => done(Buffer.concat(chunks)));
}

function entry(listener, method, p, contentType, body, socket) {
  return {
    listener,
    method,
    path: p,
    contentType: contentType || '',
    length: body.length,
    body: body.toString('base64'),
    peer: peerName(socket),
  };
}

// OTLP/HTTP: an empty ExportTraceServiceResponse.
function httpHandler(listener) {
  return (req, res) => {
    collect(req, (body) => {
      record(entry(listener, req.method, req.url, req.headers['content-type'], body, req.socket));
      res.writeHead(200, { 'content-type': 'application/x-protobuf', 'content-length': 0 });
      res.end();
    });
  };
}

const httpsServer = https.createServer(tls, httpHandler('https'));
const mtlsServer = https.createServer(
  { ...tls, ca: read('ca.pem'), requestCert: true, rejectUnauthorized: true },
  httpHandler('mtls'));

// OTLP/gRPC: one empty message, then grpc-status 0 in the trailers.
function grpcHandler(listener) {
  return (stream, headers) => {
    collect(stream, (body) => {
      record(entry(listener, headers[':method'], headers[':path'], headers['content-type'], body,
                   stream.session && stream.session.socket));
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' },
                     { waitForTrailers: true });
      stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
      stream.end(Buffer.alloc(5)); // uncompressed, zero-length message
    });
  };
}

const grpcServer = http2.createSecureServer({ ...tls, ALPNProtocols: ['h2'] });
grpcServer.on('stream', grpcHandler('grpc'));
const grpcMtlsServer = http2.createSecureServer(
  { ...tls, ALPNProtocols: ['h2'], ca: read('ca.pem'), requestCert: true, rejectUnauthorized: true });
grpcMtlsServer.on('stream', grpcHandler('grpc_mtls'));

// An HTTP proxy that only tunnels (CONNECT), and records each tunnel as
// {"listener":"proxy","connect":"host:port"}.
const proxyServer = http.createServer((req, res) => {
  res.writeHead(405);
  res.end();
});
proxyServer.on('connect', (req, client, head) => {
  record({ listener: 'proxy', connect: req.url });
  const [host, port] = req.url.split(':');
  const upstream = net.connect(Number(port), host, () => {
    client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
    upstream.write(head);
    upstream.pipe(client);
    client.pipe(upstream);
  });
  upstream.on('error', () => client.destroy());
  client.on('error', () => upstream.destroy());
});

const servers = { https: httpsServer, mtls: mtlsServer, grpc: grpcServer, grpc_mtls: grpcMtlsServer };
for (const [name, s] of Object.entries(servers)) {
  s.on('tlsClientError', (err) => record({ listener: name, tlsError: String(err.code || err) }));
}

const ports = {};
const listeners = { ...servers, proxy: proxyServer };
let pending = Object.keys(listeners).length;
for (const [name, s] of Object.entries(listeners)) {
  s.listen(0, '127.0.0.1', () => {
    ports[name] = s.address().port;
    if (--pending === 0) process.stdout.write(JSON.stringify(ports) + '\n');
  });
}

function stop() {
  process.exit(0);
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
// Never outlive the test: stop when reparented, and after a minute at most.
const parent = process.ppid;
setInterval(() => { if (process.ppid !== parent) stop(); }, 200).unref();
setTimeout(stop, 60000).unref();
