// Node 20's side of BM_Emitter_Emit: emit('data') to N no-op listeners on one EventEmitter,
// steady state (after a warm-up that lets V8 optimise emit). Prints one JSON line per N:
// {"listeners":N,"ns_per_emit":..} (the median of REPS batches of ~0.2 s each).
//   node bench/emitter-node/emit.js [REPS] [N...]
'use strict';
const { EventEmitter } = require('events');

const reps = Number(process.argv[2] || 5);
const counts = process.argv.length > 3 ? process.argv.slice(3).map(Number) : [1, 10, 100, 1000];

function measure(n) {
  const e = new EventEmitter();
  e.setMaxListeners(0);
  for (let i = 0; i < n; i++) e.on('data', () => {});
  let sink = 0;
  const batch = Math.max(1000, Math.floor(20e6 / n));
  for (let i = 0; i < batch; i++) sink += e.emit('data') ? 1 : 0;  // warm-up
  const times = [];
  for (let r = 0; r < reps; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < batch; i++) sink += e.emit('data') ? 1 : 0;
    times.push(Number(process.hrtime.bigint() - t0) / batch);
  }
  if (sink === 0) throw new Error('emit never ran');
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

for (const n of counts) {
  console.log(JSON.stringify({ listeners: n, ns_per_emit: Number(measure(n).toFixed(2)) }));
}
