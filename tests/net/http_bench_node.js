// Node's own http client, the same work as `nodelab-net-bench client PORT N C`:
//   node tests/net/http_bench_node.js PORT N C
'use strict';
const http = require('http');
const [port, n, c] = process.argv.slice(2).map(Number);
const agent = new http.Agent({ keepAlive: true, maxSockets: c });
let done = 0;
let ok = 0;
const cpu0 = process.cpuUsage();
const t0 = process.hrtime.bigint();
for (let i = 0; i < n; i++) {
  const req = http.request({ host: '127.0.0.1', port, agent }, (res) => {
    res.on('data', () => {});
    res.on('end', () => { ok++; });
  });
  req.on('error', (e) => console.error(e.message));
  req.on('close', () => {
    if (++done === n) {
      const wall = Number(process.hrtime.bigint() - t0) / 1e6;
      const u = process.cpuUsage(cpu0);
      const cpu = (u.user + u.system) / 1e3;
      console.log(`requests ${done} ok ${ok} wall_ms ${wall.toFixed(1)} ` +
                  `req_per_s ${(done / wall * 1e3).toFixed(0)} cpu_ms ${cpu.toFixed(1)} ` +
                  `req_per_cpu_s ${(done / cpu * 1e3).toFixed(0)}`);
      agent.destroy();
    }
  });
  req.end();
}
