function runFlow(cfg) {
  const { Readable, Writable, Transform, pipeline } = require('stream');
  const fs = require('fs'), net = require('net'), os = require('os'), path = require('path');
  const hwm = cfg.hwm;
  const chunks = Math.ceil(cfg.bytes / cfg.chunk);
  const what = cfg.objectMode ? `${chunks} objects of ${cfg.chunk} bytes`
                              : `${cfg.bytes} bytes in ${cfg.chunk}-byte chunks`;
  const from = cfg.source === 'memory' && !cfg.objectMode ? ' from a memory source' : '';
  let produced = 0, delivered = 0, objects = 0, peerReceived = 0;
  let stopped = false, ceilingHit = false, errored = false, done = false;
  let pipelineDone = false, deliveryDone = false;
  let server = null, ipcPath = null;
  // Paced at `rate` bytes/s; due within 1 ms: setImmediate (timers round up to 1 ms).
  const pacer = () => { let last = -1e18; return (len, rate, fn) => {
    const now = performance.now(); const due = Math.max(last, now - 2) + len * 1000 / rate;
    last = due; if (due - now < 1) setImmediate(fn); else setTimeout(fn, due - now); }; };
  // The far end: a server in this process reading at cfg.peerRate (net.Socket pause/resume).
  function startPeer(onListening) {
    server = net.createServer((sock) => {
      server.close();
      const pace = pacer();
      sock.on('data', (c) => {
        peerReceived += c.length;
        if (cfg.peerRate > 0) { sock.pause(); pace(c.length, cfg.peerRate, () => sock.resume()); }
      });
      sock.on('error', () => {});
      sock.on('close', () => { onPeerEof(); });
    });
    if (cfg.transport === 'tcp') server.listen(0, '127.0.0.1', () => onListening(server.address().port));
    else {
      ipcPath = path.join(os.tmpdir(), `nodelab-flow-${process.pid}.sock`);
      try { fs.unlinkSync(ipcPath); } catch (e) {}
      server.listen(ipcPath, () => onListening(ipcPath));
    }
  }
  function makeSource() {
    if (cfg.source === 'memory') return new Readable({ objectMode: cfg.objectMode, highWaterMark: hwm, read() {
      if (produced >= cfg.bytes) { this.push(null); return; }
      const n = Math.min(cfg.chunk, cfg.bytes - produced); produced += n;
      this.push(cfg.objectMode ? { payload: Buffer.alloc(n, 'x') } : Buffer.alloc(n)); sample(); } });
    return fs.createReadStream('/dev/zero', { highWaterMark: cfg.chunk, start: 0, end: cfg.bytes - 1 });
  }
  function makeTransform(i) {
    const tc = cfg.transforms[i], name = `t${i + 1}`, pace = pacer();
    let calls = 0;
    const t = new Transform({ objectMode: cfg.objectMode, highWaterMark: hwm, transform(chunk, enc, cb) {
      sample();
      const fail = cfg.failStage === name && ++calls === cfg.failAt;
      if (tc.work_us > 0) { const end = performance.now() + tc.work_us / 1000; while (performance.now() < end); }
      const done = () => fail ? cb(new Error(name + ' failed')) : cb(null, chunk);
      if (tc.rate === 0) done(); else pace(cfg.objectMode ? cfg.chunk : chunk.length, tc.rate, done);
    } });
    t.flowName = name;
    return t;
  }
  function makeSink(socket) {
    let calls = 0;
    const failing = cfg.failStage === 'sink';
    if (socket) {
      socket.flowName = 'sink';
      if (failing) {
        const inner = socket._write.bind(socket);
        socket._write = (c, e, cb) => { if (++calls === cfg.failAt) setImmediate(() => cb(new Error('sink failed'))); else inner(c, e, cb); };
      }
      return socket;
    }
    const pace = pacer();
    const s = new Writable({ objectMode: cfg.objectMode, highWaterMark: hwm, write(chunk, enc, cb) {
      if (failing && ++calls === cfg.failAt) { setImmediate(() => cb(new Error('sink failed'))); return; }
      const n = cfg.objectMode ? chunk.payload.length : chunk.length;
      const fin = () => { delivered += n; objects++; cb(); };
      if (cfg.peerRate === 0) setImmediate(fin); else pace(n, cfg.peerRate, fin);
    } });
    s.flowName = 'sink';
    return s;
  }
  let source = null, transforms = [], sink = null, first = null;
  function sample() {
    let total = 0;
    if (source) total += source.readableLength;
    for (const t of transforms) total += t.writableLength + t.readableLength;
    if (sink) total += sink.writableLength;
    return total;
  }
  function go(socket) {
    console.log(`flow: ${what}, mode ${cfg.mode}${from}, ${cfg.transforms.length} transform(s), ${cfg.transport} sink, highWaterMark ${hwm}`);
    if (cfg.mode === 'pipe' || cfg.mode === 'pipeline') { source = makeSource(); source.flowName = 'source'; }
    for (let i = 0; i < cfg.transforms.length; i++) transforms.push(makeTransform(i));
    sink = makeSink(socket);
    const chain = [...(source ? [source] : []), ...transforms, sink];
    for (const st of chain) {
      const logs = st.flowName === cfg.failStage;
      st.on('error', (err) => { if (logs) console.log(`${st.flowName} error: ${err.message}`); onError(); });
    }
    sink.on('finish', () => { if (!socket) { deliveryDone = true; } maybeDone(); });
    if (cfg.mode === 'pipeline') {
      pipeline(...chain, (err) => { pipelineDone = true; if (err) console.log('pipeline callback: error=' + err.message); maybeDone(); });
    } else {
      for (let i = 0; i + 1 < chain.length; i++) chain[i].pipe(chain[i + 1]);
    }
    if (cfg.mode === 'honor' || cfg.mode === 'ignore') {
      first = chain[0];
      first.on('drain', () => { if (!stopped) produce(); });
      produce();
    }
  }
  function produce() {
    if (stopped) return;
    const perTurn = Math.max(1, Math.floor((1 << 20) / cfg.chunk));
    for (let k = 0; k < perTurn; k++) {
      if (produced >= cfg.bytes) { first.end(); stopped = true; return; }
      const n = Math.min(cfg.chunk, cfg.bytes - produced); produced += n;
      const ok = first.write(cfg.objectMode ? { payload: Buffer.alloc(n, 'x') } : Buffer.alloc(n, 'x'));
      const buffered = sample();
      if (cfg.mode === 'ignore' && buffered > cfg.maxBuffered) {
        stopped = true; ceilingHit = true;
        console.log(`ceiling: more than ${cfg.maxBuffered} bytes buffered: the producer stops and destroys the sink`);
        for (const t of transforms) t.destroy();
        sink.destroy();
        maybeDone();
        return;
      }
      if (!ok && cfg.mode === 'honor') return;
    }
    setImmediate(produce);
  }
  function onError() {
    if (errored) return;
    errored = true;
    setTimeout(() => {
      let line = `after ${cfg.reportAfterMs} ms:`;
      const open = [];
      if (source) {
        line += ` source destroyed=${source.destroyed}`;
        if (cfg.source === 'file') line += ` (fd ${source.fd !== null && !source.closed ? 'open' : 'closed'})`;
        if (!source.destroyed) open.push(source);
      }
      for (const t of transforms) { line += `, ${t.flowName} destroyed=${t.destroyed}`; if (!t.destroyed) open.push(t); }
      line += `, sink destroyed=${sink.destroyed}`;
      if (cfg.transport !== 'memory') line += ` (socket ${sink._handle ? 'open' : 'closed'})`;
      if (!sink.destroyed) open.push(sink);
      console.log(line);
      if (open.length) { console.log(`cleanup: destroying ${open.length} stream(s) left open`); for (const s of open) s.destroy(); }
      if (server) server.close();
    }, cfg.reportAfterMs);
  }
  function onPeerEof() { delivered = peerReceived; deliveryDone = true; maybeDone(); }
  function maybeDone() {
    if (done || errored) return;
    if (ceilingHit) { done = true; return; }
    if (!deliveryDone) return;
    if (cfg.mode === 'pipeline' && !pipelineDone) return;
    done = true;
    if (cfg.transport !== 'memory') console.log(`done: peer received ${peerReceived} bytes`);
    else if (cfg.objectMode) console.log(`done: sink received ${objects} objects`);
    else console.log(`done: sink received ${delivered} bytes`);
  }
  if (cfg.transport === 'memory') go(null);
  else startPeer((where) => {
    const sock = cfg.transport === 'tcp' ? net.connect(where, '127.0.0.1') : net.connect(where);
    sock.once('connect', () => go(sock));
  });
}
