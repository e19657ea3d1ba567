// The async lab's I/O twin (labs/async/twin/io.js): node's own http client against the same
// nodelab-downstream services the lab calls. __downstream spawns one and waits for its port
// synchronously, so the main script starts with every service listening, as in the lab;
// __calls makes a `calls` op's N calls in its form and logs what the lab logs.
const __cp = require('child_process');
const __fs = require('fs');
const __os = require('os');
const __path = require('path');
const DS = Object.create(null);

function __downstream(name, exe, args) {
  const file = __path.join(__os.tmpdir(), `nodelab-downstream-${process.pid}-${name}.out`);
  const fd = __fs.openSync(file, 'w+');
  // stdin: a pipe whose EOF (our exit) stops the service; stdout: `listening PORT`.
  const child = __cp.spawn(exe, args, { stdio: ['pipe', fd, 'inherit'] });
  __fs.closeSync(fd);
  const nap = new Int32Array(new SharedArrayBuffer(4));
  let port = 0;
  for (let i = 0; i < 2000 && !port; i++) {
    const m = /^listening (\d+)\n/.exec(__fs.readFileSync(file, 'utf8'));
    if (m) port = Number(m[1]);
    else Atomics.wait(nap, 0, 0, 5);
  }
  __fs.unlinkSync(file);
  if (!port) throw new Error(`${exe} did not start`);
  child.unref();
  child.stdin.unref();
  DS[name] = { port };
}

// mulberry32, as labs/async/retry.hpp: the seeded full-jitter draws.
function __mulberry32(a) {
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function __backoff(r, failures, rng) {
  if (r.policy === 'immediate') return 0;
  const exp = Math.min(r.cap, r.base * 2 ** (Math.min(failures, 60) - 1));
  if (r.policy === 'exponential') return Math.floor(exp);
  return Math.floor(rng() * exp);  // full-jitter
}

// p-limit: at most n running; the rest wait in FIFO order.
function __limiter(n) {
  let active = 0;
  const queue = [];
  const next = () => {
    if (active >= n || queue.length === 0) return;
    active++;
    const [fn, resolve, reject] = queue.shift();
    fn().then(resolve, reject).finally(() => { active--; next(); });
  };
  return (fn) => new Promise((resolve, reject) => { queue.push([fn, resolve, reject]); next(); });
}

function __calls(o) {
  const port = DS[o.service].port;
  const run = { open: 0, settled: false, gaveUp: false, late: 0, logged: false };
  const finish = () => {
    if (!run.settled || run.open > 0 || !run.gaveUp || run.logged) return;
    run.logged = true;
    console.log(`after the caller gave up: ${run.late} responses still completed`);
  };
  const show = (e) => `${e.name}: ${e.message}`;

  // One http.get: fulfills with a status below 400, rejects with Error('HTTP <status>') or
  // the request's error.
  function get(i, signal) {
    const att = { gaveUp: false };
    const fail = o.fail && o.fail.calls.includes(i) ? `&status=${o.fail.status}&ms=${o.fail.ms}` : '';
    att.promise = new Promise((resolve, reject) => {
      const req = http.get(
        { host: '127.0.0.1', port, path: `/?id=${i}${fail}`, agent: o.agent, signal },
        (res) => {
          res.resume();
          res.on('end', () => {
            if (att.gaveUp || run.gaveUp) run.late++;
            if (res.statusCode < 400) resolve(res.statusCode);
            else reject(new Error(`HTTP ${res.statusCode}`));
          });
        });
      run.open++;
      req.on('error', (e) => {
        if (e.name === 'AbortError') run.gaveUp = true;
        reject(e);
      });
      req.on('close', () => { run.open--; finish(); });
    });
    return att;
  }

  async function attempt(i) {
    if (!o.timeout) return get(i).promise;
    if (o.timeout.via === 'abort') return get(i, AbortSignal.timeout(o.timeout.ms)).promise;
    // race: the timer wins, the request runs on.
    const att = get(i);
    let timer;
    const timeout = new Promise((_, reject) => {
      timer = setTimeout(() => {
        att.gaveUp = true;
        run.gaveUp = true;
        reject(new Error(`timeout after ${o.timeout.ms} ms`));
      }, o.timeout.ms);
    });
    try {
      return await Promise.race([att.promise, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  async function call(i) {
    const rng = o.retry ? __mulberry32((o.retry.seed + Math.imul(0x9e3779b9, i)) >>> 0) : null;
    for (let n = 1; ; n++) {
      try {
        return await attempt(i);
      } catch (e) {
        if (!o.retry || n >= o.retry.attempts) throw e;
        const delay = __backoff(o.retry, n, rng);
        if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  }

  const settle = (line) => { run.settled = true; console.log(line); finish(); };
  if (o.form === 'sequential') {
    (async () => {
      for (let i = 1; i <= o.count; i++) {
        try {
          await call(i);
        } catch (e) {
          settle(`sequential: call ${i} rejected: ${show(e)}; the calls after it never ran`);
          return;
        }
      }
      settle(`sequential: ${o.count} fulfilled`);
    })();
    return;
  }
  const limit = o.limit ? __limiter(o.limit) : (fn) => fn();
  const calls = [];
  for (let i = 1; i <= o.count; i++) calls.push(limit(() => call(i)));
  if (o.form === 'all') {
    Promise.all(calls).then(
      (values) => settle(`Promise.all: ${values.length} fulfilled`),
      (e) => { run.gaveUp = true; settle(`Promise.all rejected: ${show(e)}`); });
  } else {
    Promise.allSettled(calls).then((results) => {
      const reasons = new Map();
      let fulfilled = 0;
      for (const r of results) {
        if (r.status === 'fulfilled') fulfilled++;
        else reasons.set(show(r.reason), (reasons.get(show(r.reason)) || 0) + 1);
      }
      let line = `Promise.allSettled: ${fulfilled} fulfilled, ${results.length - fulfilled} rejected`;
      const parts = [...reasons].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      if (parts.length) line += ` (${parts.map(([t, n]) => `${t} x${n}`).join(', ')})`;
      settle(line);
    });
  }
}
