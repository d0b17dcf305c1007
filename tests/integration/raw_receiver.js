// raw_receiver.js - node raw_receiver.js FILE: an HTTP server on an ephemeral
// port of 127.0.0.1 (printed as the first line of stdout) that appends the
// raw body of every POST to FILE, exactly as received, and answers every
// request with 200 and an empty body. The secrets audit points the OTLP/HTTP
// exporter (and its workload's own calls) at it: what is in FILE is every
// byte the exporters sent. Closing stdin stops it.
'use strict';

const fs = require('fs');
const http = require('http');

const out = fs.openSync(process.argv[2], 'a');
const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    if (req.method === 'POST') fs.writeSync(out, Buffer.concat(chunks));
    res.writeHead(200, { 'content-type': 'application/x-protobuf' });
    res.end();
  });
});
server.listen(0, '127.0.0.1', () => process.stdout.write(server.address().port + '\n'));
process.stdin.resume();
process.stdin.on('end', () => process.exit(0));
