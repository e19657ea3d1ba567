const burn = (ms) => { const end = performance.now() + ms; let x = 1; while (performance.now() < end) x = (Math.imul(x, 31) + 7) | 0; return x; };
