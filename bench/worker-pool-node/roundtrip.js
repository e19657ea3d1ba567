// The round trip of an empty task, main thread -> worker -> main thread, one after another,
// on Node: through Piscina (its default atomics: 'sync') and through a bare worker_threads
// postMessage echo. Compare with `bench-worker-pool --benchmark_filter=RoundTrip`.
//
//   bench/worker-pool-node/run.sh           (installs piscina into this directory first)
'use strict';
const path = require('path');
const { Worker } = require('worker_threads');
const Piscina = require(path.join(__dirname, 'node_modules', 'piscina'));

const TRIPS = Number(process.env.TRIPS || 20000);
const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
const report = (name, ns) => {
  const us = ns.map((x) => Number(x) / 1e3).sort((a, b) => a - b);
  console.log(`${name}: ${us.length} trips, p50 ${pct(us, 50).toFixed(2)} us, p99 ${pct(us, 99).toFixed(2)} us`);
};

async function piscina(atomics) {
  const pool = new Piscina({
    filename: path.join(__dirname, 'empty-task.js'), minThreads: 1, maxThreads: 1, atomics,
  });
  await pool.run(null); // warm: the worker is up
  const ns = [];
  for (let i = 0; i < TRIPS; i++) {
    const t0 = process.hrtime.bigint();
    await pool.run(null);
    ns.push(process.hrtime.bigint() - t0);
  }
  report(`piscina ${require(path.join(__dirname, 'node_modules', 'piscina', 'package.json')).version} (atomics: '${atomics}')`, ns);
  await pool.destroy();
}

function bare() {
  return new Promise((resolve) => {
    const w = new Worker("require('worker_threads').parentPort.on('message', (m) => require('worker_threads').parentPort.postMessage(m));", { eval: true });
    const ns = [];
    let t0;
    const send = () => { t0 = process.hrtime.bigint(); w.postMessage(0); };
    w.on('message', () => {
      ns.push(process.hrtime.bigint() - t0);
      if (ns.length < TRIPS) return send();
      report('worker_threads postMessage echo', ns);
      w.terminate().then(resolve);
    });
    w.once('online', send);
  });
}

(async () => {
  console.log(`node ${process.version}`);
  await piscina('sync');
  await piscina('disabled');
  await bare();
})();
