// otlp_hang_server.js - an OTLP/HTTP endpoint that hangs, or one that
// counts the span ids it receives, for the exit, breaker and spool tests.
//
//   node otlp_hang_server.js hang PORT
//       accept every connection on 127.0.0.1:PORT (0: any free port) and
//       never read from it nor answer: a backend that hangs.
//   node otlp_hang_server.js collect PORT OUT
//       answer every POST with 200 and an empty ExportTraceServiceResponse,
//       appending the hex span id of each span of the protobuf request to
//       OUT, one per line (a span delivered twice is there twice).
//
// The first line of stdout is the port. The server stops when stdin closes.
'use strict';

const fs = require('fs');
const http = require('http');
const net = require('net');

const [mode, portArg, out] = process.argv.slice(2);

// A protobuf message's fields as [number, wire type, value] (value: a Buffer for
// length-delimited fields, a number otherwise). Throws on malformed input.
function fields(buf) {
  const list = [];
  let at = 0;
  const varint = () => {
    let v = 0, mul = 1;
    for (;;) {
      if (at >= buf.length) throw new Error('truncated varint');
      const b = buf[at++];
      v += (b & 0x7f) * mul;
      mul *= 128;
      if (!(b & 0x80)) return v;
    }
  };
  while (at < buf.length) {
    const key = varint(), type = key % 8, num = Math.floor(key / 8);
    if (type === 0) list.push([num, type, varint()]);
    else if (type === 1 || type === 5) {
      at += type === 1 ? 8 : 4;
      list.push([num, type, 0]);
    } else if (type === 2) {
      const len = varint();
      if (at + len > buf.length) throw new Error('truncated field');
      list.push([num, type, buf.subarray(at, at + len)]);
      at += len;
    } else throw new Error('bad wire type ' + type);
  }
  if (at !== buf.length) throw new Error('truncated');
  return list;
}

const sub = (buf, num) => fields(buf).filter(f => f[0] === num && f[1] === 2).map(f => f[2]);

// ExportTraceServiceRequest.resource_spans(1).scope_spans(2).spans(2).span_id(2)
function spanIds(body) {
  const ids = [];
  for (const rs of sub(body, 1))
    for (const ss of sub(rs, 2))
      for (const span of sub(ss, 2)) for (const id of sub(span, 2)) ids.push(id.toString('hex'));
  return ids;
}

let server;
if (mode === 'hang') {
  const held = [];
  server = net.createServer(sock => {
    sock.pause(); // never read, never answer
    held.push(sock);
  });
} else if (mode === 'collect') {
  server = http.createServer((req, res) => {
    const parts = [];
    req.on('data', c => parts.push(c));
    req.on('end', () => {
      try {
        const ids = spanIds(Buffer.concat(parts));
        if (ids.length) fs.appendFileSync(out, ids.join('\n') + '\n');
        res.writeHead(200, {'Content-Type': 'application/x-protobuf'});
        res.end();
      } catch (e) {
        res.writeHead(400);
        res.end(String(e));
      }
    });
  });
} else {
  console.error('usage: otlp_hang_server.js hang PORT | collect PORT OUT');
  process.exit(2);
}
server.listen(Number(portArg) || 0, '127.0.0.1', () => console.log(server.address().port));
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
