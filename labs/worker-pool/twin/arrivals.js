// Poisson arrivals: exponential gaps from mulberry32(seed), in whole ms.
const mulberry32 = (a) => () => {
  a = (a + 0x6D2B79F5) | 0;
  let t = Math.imul(a ^ (a >>> 15), 1 | a);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
const poissonOffsets = (n, rate, seed) => {
  const rnd = mulberry32(seed);
  let t = 0;
  return Array.from({ length: n }, () => Math.round((t += (-Math.log(1 - rnd()) * 1000) / rate)));
};
