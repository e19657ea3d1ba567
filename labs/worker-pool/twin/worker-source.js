// A worker: reports ready, then runs every task posted to it.
const WORKER_SOURCE = `
const { parentPort } = require('worker_threads');
const burn = (ms) => { const end = performance.now() + ms; let x = 1; while (performance.now() < end) x = (Math.imul(x, 31) + 7) | 0; return x; };
parentPort.postMessage({ ready: true });
parentPort.on('message', (m) => { burn(m.ms); parentPort.postMessage({ id: m.id }); });
`;
