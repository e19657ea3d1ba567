// Node 20's stream.pipeline over loopback TCP, the same flow as lab-streams'
// pipeline-1gib.yaml: source -> pass-through Transform -> net.Socket, highWaterMark = chunk on
// every stage. The source is fs.createReadStream('/dev/zero') (`file`) or a Readable that
// pushes Buffer.alloc(chunk) in every _read (`memory`), as the lab's `source:` says. The far
// end is a net server on its own thread (worker_threads, its own event loop), reading as fast
// as it can, as the lab's Asio peer does; or, with --far-end PORT, the lab's own far end
// running as a process of its own (build/bin/streams-far-end), so both write to the same code.
// Timed from the connected socket to the far end's EOF (with --far-end: to the socket's
// 'close', which follows the far end closing its side after EOF).
//
//   node pipeline.js [BYTES] [HWM] [file|memory] [--far-end PORT]
//   prints one JSON line: bytes, hwm, source, ms, MBps
'use strict';
const { Worker, isMainThread, parentPort } = require('worker_threads');
const net = require('net');

if (!isMainThread) {
  const server = net.createServer((sock) => {
    server.close();
    let received = 0;
    sock.on('data', (c) => { received += c.length; });
    sock.on('end', () => parentPort.postMessage({ received }));
  });
  server.listen(0, '127.0.0.1', () => parentPort.postMessage({ port: server.address().port }));
  return;
}

const fs = require('fs');
const { Readable, Transform, pipeline } = require('stream');
const bytes = Number(process.argv[2] || 1073741824);
const hwm = Number(process.argv[3] || 65536);
const source = process.argv[4] || 'file';
const farEnd = process.argv[5] === '--far-end' ? Number(process.argv[6]) : 0;
if (source !== 'file' && source !== 'memory') {
  console.error(`source must be file or memory; got '${source}'`);
  process.exit(2);
}

function makeSource() {
  if (source === 'file') {
    return fs.createReadStream('/dev/zero', { highWaterMark: hwm, start: 0, end: bytes - 1 });
  }
  let produced = 0;
  return new Readable({ highWaterMark: hwm, read() {
    if (produced >= bytes) { this.push(null); return; }
    const n = Math.min(hwm, bytes - produced);
    produced += n;
    this.push(Buffer.alloc(n));
  } });
}

let t0 = 0;
let pipelineErr;
function run(port, onSocket) {
  const sock = net.connect({ port, host: '127.0.0.1', highWaterMark: hwm });
  sock.once('connect', () => {
    t0 = performance.now();
    const t = new Transform({ highWaterMark: hwm, transform(chunk, enc, cb) { cb(null, chunk); } });
    pipeline(makeSource(), t, sock, (err) => { pipelineErr = err; });
    onSocket(sock);
  });
}
function report(received) {
  const ms = performance.now() - t0;
  if (pipelineErr || received !== bytes) {
    console.error(`failed: received ${received} of ${bytes}`, pipelineErr);
    process.exit(1);
  }
  console.log(JSON.stringify({ bytes, hwm, source, ms: +ms.toFixed(1), MBps: +(bytes / 1e6 / (ms / 1000)).toFixed(1) }));
}

if (farEnd) {
  // The far end counts; here the socket's 'close' (after its EOF) ends the clock.
  run(farEnd, (sock) => sock.on('close', () => report(sock.bytesWritten)));
} else {
  const worker = new Worker(__filename);
  worker.on('message', (m) => {
    if (m.port !== undefined) {
      run(m.port, () => {});
      return;
    }
    report(m.received);
    worker.terminate();
  });
}
